// load(): the schema of autoresearch.config.yaml, one reader per section, and the checks that
// span more than one value (names that must be unique, looks that must end at max_pairs, paths
// that must stay in the repository). Everything is checked here, up front, so a typo stops the
// run before the first experiment instead of hours into it.

#include "config/config.hpp"

#include "util/affinity.hpp"

#include "config/yaml_nodes.hpp"
#include "util/error.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <regex>
#include <utility>

#include <unistd.h>

namespace ar::config {

namespace {

using detail::Entry;
using detail::quote_value;
using detail::Reader;
using detail::Section;

// ---- validation of names --------------------------------------------------------------------

// The branch is autoresearch/<session>: keep to characters git and shells never mangle, and
// to what git check-ref-format accepts.
void check_session(const Reader& reader, const Entry& entry, const std::string& session) {
  const bool plain = !session.empty() && std::all_of(session.begin(), session.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  });
  if (!plain) {
    reader.fail(entry.line,
                fmt::format("session: {} may contain only letters, digits, '.', '_' and '-'", quote_value(session)));
  }
  const bool ends_lock = session.size() >= 5 && session.compare(session.size() - 5, 5, ".lock") == 0;
  if (session.front() == '.' || session.find("..") != std::string::npos || ends_lock) {
    reader.fail(entry.line, fmt::format("session: {} is not a valid git branch name part "
                                        "(no leading '.', no '..', no '.lock' ending)",
                                        quote_value(session)));
  }
}

// METRIC names are [A-Za-z0-9_.µ]+ (DESIGN §5); a name outside that could never be measured.
void check_metric_name(const Reader& reader, const Entry& entry, const std::string& name) {
  static constexpr std::string_view k_micro = "\xC2\xB5";
  std::size_t i = 0;
  while (i < name.size()) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (std::isalnum(c) != 0 || c == '_' || c == '.') {
      ++i;
    } else if (name.compare(i, k_micro.size(), k_micro) == 0) {
      i += k_micro.size();
    } else {
      reader.fail(entry.line, fmt::format("{}: {} is not a valid METRIC name (letters, digits, '_', '.', 'µ')",
                                          entry.key, quote_value(name)));
    }
  }
}

// Names in a list (gates, guards, sweeps, confirms) must be unique: the first line of each is
// kept so the error can point at both.
class UniqueNames {
 public:
  explicit UniqueNames(std::string_view what) : m_what(what) {}

  void add(const Reader& r, const Entry& entry, const std::string& name) {
    if (auto [it, inserted] = m_first_line.try_emplace(name, entry.line); !inserted) {
      r.fail(entry.line,
             fmt::format("{}: duplicate {} {} (first on line {})", entry.key, m_what, quote_value(name), it->second));
    }
  }

 private:
  std::string_view m_what;
  std::map<std::string, int> m_first_line;
};

// ---- sections -------------------------------------------------------------------------------

void read_benchmark(const Reader& r, const Section& top, Benchmark& out) {
  const Section s = r.child(top, "benchmark", {"command", "timeout", "warmup", "pause", "cpus"});
  out.command = r.required_string(s, "command");
  if (const Entry* e = s.find("timeout")) out.timeout = r.duration(*e, true);
  if (const Entry* e = s.find("warmup")) out.warmup = r.integer(*e, 0);
  if (const Entry* e = s.find("pause")) out.pause = r.duration(*e, false);
  if (const Entry* e = s.find("cpus")) {
    out.cpus = r.string(*e);
    if (out.cpus != "auto" && out.cpus != "all" && !util::parse_cpu_list(out.cpus)) {
      r.fail(e->line, fmt::format("{}: expected auto, all or a CPU list such as 2-3 or 0,2,4-5, got {}", e->key,
                                  quote_value(out.cpus)));
    }
  }
}

void read_build(const Reader& r, const Section& top, Build& out) {
  const Section s = r.child(top, "build", {"command", "timeout"});
  // An empty command is allowed: it is how to_json writes "no build step".
  if (const Entry* e = s.find("command")) out.command = r.string(*e);
  if (const Entry* e = s.find("timeout")) out.timeout = r.duration(*e, true);
}

void read_metric(const Reader& r, const Section& top, Metric& out) {
  const Section s = r.child(top, "metric", {"name", "direction", "unit", "repeat"});
  out.name = r.required_string(s, "name");
  check_metric_name(r, s.at("name"), out.name);
  if (const Entry* e = s.find("direction")) out.direction = r.direction(*e);
  if (const Entry* e = s.find("unit")) out.unit = r.string(*e);
  if (const Entry* e = s.find("repeat")) {
    const std::string text = r.string(*e);
    if (text == "median") {
      out.repeat = Repeat::median;
    } else if (text == "last") {
      out.repeat = Repeat::last;
    } else {
      r.fail(e->line, fmt::format("{}: expected median or last, got {}", e->key, detail::quote_value(text)));
    }
  }
}

void read_guards(const Reader& r, const Entry& entry, std::vector<decide::GuardSpec>& out) {
  UniqueNames names("guard");
  for (const auto& item : r.list(entry)) {
    const Section s = r.section(item.value, item.key, item.line, {"name", "direction", "tolerance"});
    decide::GuardSpec guard;
    guard.name = r.required_string(s, "name");
    const Entry& name = s.at("name");
    check_metric_name(r, name, guard.name);
    names.add(r, name, guard.name);
    if (const Entry* e = s.find("direction")) guard.direction = r.direction(*e);
    if (const Entry* e = s.find("tolerance")) guard.tolerance = r.percent(*e);
    out.push_back(std::move(guard));
  }
}

void read_gates(const Reader& r, const Entry& entry, std::vector<Gate>& out) {
  UniqueNames names("gate name");
  for (const auto& item : r.list(entry)) {
    const Section s = r.section(item.value, item.key, item.line, {"name", "command", "timeout", "after"});
    Gate gate;
    gate.name = r.required_string(s, "name");
    names.add(r, s.at("name"), gate.name);
    gate.command = r.required_string(s, "command");
    if (const Entry* e = s.find("timeout")) gate.timeout = r.duration(*e, true);
    if (const Entry* e = s.find("after")) {
      const std::string text = r.string(*e);
      if (text != "benchmark") {
        r.fail(e->line, fmt::format("{}: expected benchmark (leave the key out to run the gate before the "
                                    "benchmark), got {}",
                                    e->key, quote_value(text)));
      }
      gate.after_benchmark = true;
    }
    out.push_back(std::move(gate));
  }
}

// A path inside the repository, as a config names it: relative, no "..", not in .git/ or
// .autoresearch/.
void check_repo_path(const Reader& r, const Entry& e, const std::string& path) {
  std::filesystem::path fp(path);
  bool escapes = fp.is_absolute();
  for (const auto& part : fp) escapes = escapes || part == "..";
  std::string first = fp.empty() ? "" : fp.begin()->string();
  if (escapes || first == ".git" || first == ".autoresearch") {
    r.fail(e.line, fmt::format("{}: {} must be a path inside the repository (no absolute path, no \"..\", "
                               "not in .git/ or .autoresearch/)",
                               e.key, quote_value(path)));
  }
}

void read_harness(const Reader& r, const Entry& entry, std::vector<HarnessFile>& out) {
  std::map<std::string, int> first_line;
  for (const auto& item : r.list(entry)) {
    std::string path = r.string(item);
    if (path.empty()) r.fail(item.line, fmt::format("{}: must not be empty", item.key));
    check_repo_path(r, item, path);
    path = std::filesystem::path(path).lexically_normal().generic_string();
    if (!path.empty() && path.back() == '/') path.pop_back();
    if (path.empty() || path == ".") {
      r.fail(item.line, fmt::format("{}: names the repository itself; list the harness files", item.key));
    }
    if (auto [it, inserted] = first_line.try_emplace(path, item.line); !inserted) {
      r.fail(item.line, fmt::format("{}: {} is listed twice (first on line {})", item.key, quote_value(path),
                                    it->second));
    }
    out.push_back({path, item.line});
  }
}

// A pair count rounded up to the end of its balanced block (decide::k_block_pairs): decisions
// happen only there. Configs written for the old odd looks [3, 5, 7, 9, 12] keep working as
// [4, 6, 8, 10, 12].
int block_end(int pairs) {
  return (pairs + decide::k_block_pairs - 1) / decide::k_block_pairs * decide::k_block_pairs;
}

void read_decision(const Reader& r, const Section& top, decide::Rule& out) {
  const Section s = r.child(top, "decision",
                            {"method", "min_effect", "alpha", "max_pairs", "looks", "confirmation_pairs",
                             "confirmation_alpha", "beta", "sprt_clip"});
  if (const Entry* e = s.find("method")) {
    std::string text = r.string(*e);
    std::optional<decide::Method> m = decide::method_from_string(text);
    if (!m) r.fail(e->line, fmt::format("{}: expected sequential, sprt or fixed, got {}", e->key, quote_value(text)));
    out.method = *m;
  }
  if (const Entry* e = s.find("beta")) {
    out.beta = r.number(*e);
    if (!(out.beta > 0 && out.beta <= 0.5))
      r.fail(e->line, fmt::format("{}: must be in (0, 0.5], got {}", e->key, e->value.Scalar()));
  }
  if (const Entry* e = s.find("sprt_clip")) {
    out.sprt_clip = r.number(*e);
    if (!(out.sprt_clip > 0)) r.fail(e->line, fmt::format("{}: must be positive, got {}", e->key, e->value.Scalar()));
  }
  if (const Entry* e = s.find("min_effect")) out.min_effect = r.percent(*e);
  for (const char* key : {"alpha", "confirmation_alpha"}) {
    const Entry* e = s.find(key);
    if (e == nullptr) continue;
    const double value = r.number(*e);
    if (!(value > 0 && value <= 0.5)) {
      r.fail(e->line, fmt::format("{}: must be in (0, 0.5], got {}", e->key, e->value.Scalar()));
    }
    (std::string_view(key) == "alpha" ? out.alpha : out.confirmation_alpha) = value;
  }
  if (const Entry* e = s.find("confirmation_pairs")) {
    const int pairs = r.integer(*e, 0);
    if (pairs > 0 && pairs < 3) {
      r.fail(e->line, fmt::format("{}: must be 0 (no confirmation block) or at least 3, got {}", e->key, pairs));
    }
    out.confirmation_pairs = block_end(pairs);
  }
  const Entry* max_pairs = s.find("max_pairs");
  if (max_pairs != nullptr) out.max_pairs = block_end(r.integer(*max_pairs, 3));

  const Entry* looks = s.find("looks");
  if (looks == nullptr) {
    if (max_pairs != nullptr) {
      // Every block end up to max_pairs.
      out.looks.clear();
      for (int look = decide::k_block_pairs; look <= out.max_pairs; look += decide::k_block_pairs)
        out.looks.push_back(look);
    }
    return;
  }
  const auto items = r.list(*looks);
  if (items.empty()) r.fail(looks->line, fmt::format("{}: must not be empty", looks->key));
  out.looks.clear();
  int last_given = 0;
  for (const auto& item : items) {
    const int given = r.integer(item, 2);
    if (given <= last_given) {
      r.fail(item.line,
             fmt::format("{}: must be strictly increasing, got {} after {}", looks->key, given, last_given));
    }
    last_given = given;
    const int look = block_end(given);
    if (out.looks.empty() || look != out.looks.back()) out.looks.push_back(look);
  }
  if (max_pairs == nullptr) {
    // Looks alone say it all: the last look is where the experiment ends.
    if (last_given < 3) {
      r.fail(looks->line, fmt::format("{}: the last look is the maximum number of pairs and must be "
                                      "at least 3, got {}",
                                      looks->key, last_given));
    }
    out.max_pairs = out.looks.back();
  } else if (out.looks.back() != out.max_pairs) {
    r.fail(looks->line, fmt::format("{}: the last look ({}) must equal decision.max_pairs ({})", looks->key,
                                    last_given, r.integer(*max_pairs, 3)));
  }
}

void read_sweeps(const Reader& r, const Entry& entry, std::vector<Sweep>& out) {
  UniqueNames names("sweep name");
  for (const auto& item : r.list(entry)) {
    const Section s =
        r.section(item.value, item.key, item.line, {"name", "file", "pattern", "values", "mechanism", "idea"});
    Sweep sweep;
    sweep.name = r.required_string(s, "name");
    names.add(r, s.at("name"), sweep.name);
    sweep.file = r.required_string(s, "file");
    // The file is edited inside the candidate worktree: it must stay inside it.
    check_repo_path(r, s.at("file"), sweep.file);
    sweep.pattern = r.required_string(s, "pattern");
    const Entry& pattern = s.at("pattern");
    try {
      std::regex re(sweep.pattern);
      if (re.mark_count() != 1) {
        r.fail(pattern.line, fmt::format("{}: needs exactly one capture group, has {}", pattern.key, re.mark_count()));
      }
    } catch (const std::regex_error& e) {
      r.fail(pattern.line, fmt::format("{}: invalid regular expression: {}", pattern.key, e.what()));
    }
    const Entry* values = s.find("values");
    if (values == nullptr) r.fail(s.line, fmt::format("{}: missing required key \"values\"", s.path));
    for (const auto& v : r.list(*values)) sweep.values.push_back(r.string(v));
    if (sweep.values.empty()) r.fail(values->line, fmt::format("{}: must list at least one value", values->key));
    if (const Entry* e = s.find("mechanism")) sweep.mechanism = r.string(*e);
    if (const Entry* e = s.find("idea")) sweep.idea = r.string(*e);
    out.push_back(std::move(sweep));
  }
}

void read_sources(const Reader& r, const Section& top, Sources& out) {
  const Section s = r.child(top, "sources", {"queue", "sweeps", "proposer", "order"});
  const Section queue = r.child(s, "queue", {"dir"});
  if (const Entry* e = queue.find("dir")) {
    out.queue.dir = r.string(*e);
    if (out.queue.dir.empty()) r.fail(e->line, fmt::format("{}: must not be empty", e->key));
  }
  if (const Entry* e = s.find("sweeps")) read_sweeps(r, *e, out.sweeps);
  const Section proposer = r.child(s, "proposer", {"command", "timeout", "notes", "recent"});
  if (const Entry* e = proposer.find("command")) out.proposer.command = r.string(*e);
  if (const Entry* e = proposer.find("timeout")) out.proposer.timeout = r.duration(*e, true);
  if (const Entry* e = proposer.find("notes")) out.proposer.notes = r.string(*e);
  if (const Entry* e = proposer.find("recent")) out.proposer.recent = r.integer(*e, 0);
  if (const Entry* e = s.find("order")) {
    out.order.clear();
    for (const auto& item : r.list(*e)) {
      std::string name = r.string(item);
      SourceKind kind;
      if (name == "queue")
        kind = SourceKind::queue;
      else if (name == "sweeps")
        kind = SourceKind::sweeps;
      else if (name == "proposer")
        kind = SourceKind::proposer;
      else
        r.fail(item.line, fmt::format("{}: expected queue, sweeps or proposer, got {}", item.key, quote_value(name)));
      if (std::find(out.order.begin(), out.order.end(), kind) != out.order.end()) {
        r.fail(item.line, fmt::format("{}: {} is listed twice", item.key, quote_value(name)));
      }
      out.order.push_back(kind);
    }
  }
}

void read_hooks(const Reader& r, const Section& top, Hooks& out) {
  const Section s = r.child(top, "hooks", {"before", "after"});
  for (auto [key, hook] : {std::pair<const char*, Hook*>{"before", &out.before}, {"after", &out.after}}) {
    const Section h = r.child(s, key, {"command", "timeout"});
    if (const Entry* e = h.find("command")) hook->command = r.string(*e);
    if (const Entry* e = h.find("timeout")) hook->timeout = r.duration(*e, true);
  }
}

void read_limits(const Reader& r, const Section& top, Limits& out) {
  const Section s = r.child(top, "limits",
                            {"max_experiments", "max_duration", "max_consecutive_failures", "target",
                             "retry_interrupted", "max_log_mb", "plateau", "on_plateau"});
  if (const Entry* e = s.find("max_experiments")) out.max_experiments = r.integer(*e, 0);
  if (const Entry* e = s.find("max_duration")) out.max_duration = r.duration(*e, false);
  if (const Entry* e = s.find("max_consecutive_failures")) out.max_consecutive_failures = r.integer(*e, 0);
  if (const Entry* e = s.find("target")) out.target = r.number(*e);
  if (const Entry* e = s.find("retry_interrupted")) out.retry_interrupted = r.integer(*e, 0);
  if (const Entry* e = s.find("max_log_mb")) out.max_log_mb = r.integer(*e, 1);
  if (const Entry* e = s.find("plateau")) out.plateau = r.integer(*e, 0);
  if (const Entry* e = s.find("on_plateau")) {
    std::string v = r.string(*e);
    if (v != "stop" && v != "next_source") {
      r.fail(e->line, fmt::format("{}: expected \"stop\" or \"next_source\", got {}", e->key, quote_value(v)));
    }
    out.plateau_stop = v == "stop";
  }
}

void read_confirms(const Reader& r, const Entry& entry, std::vector<decide::ConfirmSpec>& out) {
  UniqueNames names("confirm metric");
  for (const auto& item : r.list(entry)) {
    const Section c = r.section(item.value, item.key, item.line, {"name", "direction"});
    decide::ConfirmSpec spec;
    spec.name = r.required_string(c, "name");
    const Entry& name = c.at("name");
    check_metric_name(r, name, spec.name);
    names.add(r, name, spec.name);
    if (const Entry* d = c.find("direction")) spec.direction = r.direction(*d);
    out.push_back(spec);
  }
}

void read_calibration(const Reader& r, const Section& top, Config& config) {
  const Section c = r.child(top, "calibration", {"pairs", "on_start", "level_change", "noise_band"});
  if (const Entry* e = c.find("pairs")) config.calibration.pairs = r.integer(*e, 2);
  if (const Entry* e = c.find("on_start")) config.calibration.on_start = r.boolean(*e);
  if (const Entry* e = c.find("level_change")) config.calibration.level_change = r.percent(*e);
  if (const Entry* e = c.find("noise_band")) {
    config.calibration.noise_band = r.number(*e);
    if (!(config.calibration.noise_band == 0 || config.calibration.noise_band > 1))
      r.fail(e->line, fmt::format("{}: must be 0 (off) or above 1, got {}", e->key, e->value.Scalar()));
  }
  const Section v = r.child(top, "verify", {"pairs"});
  if (const Entry* e = v.find("pairs")) {
    config.verify_pairs = r.integer(*e, 0);
    if (config.verify_pairs > 0 && config.verify_pairs < 3) {
      r.fail(e->line, fmt::format("{}: must be 0 (twice decision.max_pairs) or at least 3, got {}", e->key,
                                  config.verify_pairs));
    }
  }
}

// `reference: {commit: v1.0}` or `reference: {command: ./bench-old.sh}`: exactly one.
void read_reference(const Reader& r, const Section& top, Reference& out) {
  const Section s = r.child(top, "reference", {"commit", "command"});
  if (s.entries.empty()) return;
  const Entry* commit = s.find("commit");
  const Entry* command = s.find("command");
  if ((commit == nullptr) == (command == nullptr))
    r.fail(s.line, "reference: give exactly one of commit (a revision) or command (a benchmark command)");
  if (commit != nullptr) out.commit = r.required_string(s, "commit");
  if (command != nullptr) out.command = r.required_string(s, "command");
}

// `sandbox: auto` or `sandbox: {mode: strict, writable: [~/.cache, /var/tmp/build]}`.
// The shell must exist when the config is loaded (in PATH for a bare name), so a typo is a config
// error and not a crash of every command. The sandbox shows the root file system, so the same
// path works inside it.
void read_shell(const Reader& r, const Entry& e, Config& out) {
  const std::string name = r.string(e);
  auto runnable = [](const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
  };
  if (name.empty()) r.fail(e.line, fmt::format("{}: empty; leave the key out for /bin/sh", e.key));
  if (name.find('/') != std::string::npos) {
    if (name.front() != '/') {
      r.fail(e.line, fmt::format("{}: {} must be a name looked up in PATH (bash) or an absolute path", e.key,
                                 detail::quote_value(name)));
    }
    if (!runnable(name)) r.fail(e.line, fmt::format("{}: {} is not an executable file", e.key, detail::quote_value(name)));
    out.shell = name;
    out.shell_path = name;
    return;
  }
  const char* path_env = std::getenv("PATH");
  std::string dirs = path_env != nullptr && *path_env != '\0' ? path_env : "/usr/local/bin:/usr/bin:/bin";
  std::size_t pos = 0;
  while (pos <= dirs.size()) {
    std::size_t end = dirs.find(':', pos);
    if (end == std::string::npos) end = dirs.size();
    std::filesystem::path dir = dirs.substr(pos, end - pos);
    pos = end + 1;
    if (dir.empty() || dir.is_relative()) continue;
    if (runnable(dir / name)) {
      out.shell = name;
      out.shell_path = dir / name;
      return;
    }
  }
  r.fail(e.line, fmt::format("{}: {} not found in PATH", e.key, detail::quote_value(name)));
}

void read_sandbox(const Reader& r, const Section& top, Sandbox& out) {
  const Entry* e = top.find("sandbox");
  if (e == nullptr) return;
  const Entry* mode = e;
  Section s;
  if (e->value.IsMap()) {
    s = r.section(e->value, "sandbox", e->line, {"mode", "engine", "writable"});
    mode = s.find("mode");
    if (const Entry* engine = s.find("engine")) {
      const std::string text = r.string(*engine);
      if (text != "auto" && text != "bwrap") {
        r.fail(engine->line, fmt::format("{}: expected auto or bwrap, got {}", engine->key, detail::quote_value(text)));
      }
      out.force_bwrap = text == "bwrap";
    }
  }
  if (mode != nullptr) {
    const std::string text = r.string(*mode);
    if (text == "auto") {
      out.mode = SandboxMode::automatic;
    } else if (text == "strict") {
      out.mode = SandboxMode::strict;
    } else if (text == "off") {
      out.mode = SandboxMode::off;
    } else {
      r.fail(mode->line, fmt::format("{}: expected auto, strict or off, got {}", mode->key, detail::quote_value(text)));
    }
  }
  const Entry* writable = s.find("writable");
  if (writable == nullptr) return;
  out.writable = r.globs(*writable);
  for (const std::string& path : out.writable) {
    if (path.front() != '/' && path.rfind("~/", 0) != 0) {
      r.fail(writable->line, fmt::format("{}: {} must be an absolute path or start with ~/", writable->key,
                                         detail::quote_value(path)));
    }
  }
  if (out.mode != SandboxMode::strict && !out.writable.empty()) {
    r.fail(writable->line, fmt::format("{}: only used with mode: strict (the default mode leaves everything "
                                       "outside the repository writable)",
                                       writable->key));
  }
}

// `executor: {kind: local, slots: 2}`; the Slurm keys only with kind slurm.
void read_executor(const Reader& r, const Section& top, Executor& out) {
  const Section s = r.child(top, "executor", {"kind", "slots", "background", "partition", "sbatch_args", "workdir"});
  if (const Entry* e = s.find("kind")) {
    const std::string text = r.string(*e);
    if (text == "local") {
      out.kind = ExecutorKind::local;
    } else if (text == "slurm") {
      out.kind = ExecutorKind::slurm;
    } else {
      r.fail(e->line, fmt::format("{}: expected local or slurm, got {}", e->key, quote_value(text)));
    }
  }
  if (const Entry* e = s.find("slots")) {
    out.slots = r.integer(*e, 1);
    if (out.slots > k_max_slots) {
      r.fail(e->line, fmt::format("{}: at most {} slots, got {}", e->key, k_max_slots, out.slots));
    }
  }
  if (const Entry* e = s.find("background")) {
    const std::string text = r.string(*e);
    if (text != "pause" && text != "run") {
      r.fail(e->line, fmt::format("{}: expected pause or run, got {}", e->key, quote_value(text)));
    }
    out.pause_background = text == "pause";
  }
  if (const Entry* e = s.find("partition")) out.partition = r.string(*e);
  if (const Entry* e = s.find("workdir")) {
    out.workdir = r.string(*e);
    if (out.workdir.empty() || out.workdir.front() != '/') {
      r.fail(e->line, fmt::format("{}: must be an absolute path, got {}", e->key, quote_value(out.workdir)));
    }
  }
  if (const Entry* e = s.find("sbatch_args")) {
    // A list (one item an argument) or one string split at spaces.
    if (e->value.IsScalar()) {
      std::string text = r.string(*e);
      std::size_t at = 0;
      while ((at = text.find_first_not_of(" \t", at)) != std::string::npos) {
        std::size_t end = text.find_first_of(" \t", at);
        out.sbatch_args.push_back(text.substr(at, end == std::string::npos ? std::string::npos : end - at));
        at = end;
      }
    } else {
      out.sbatch_args = r.globs(*e);
    }
  }
  if (out.kind == ExecutorKind::local) {
    for (const char* key : {"partition", "sbatch_args", "workdir"}) {
      if (const Entry* e = s.find(key)) r.fail(e->line, fmt::format("{}: only used with kind: slurm", e->key));
    }
  }
}

// fopen rather than ifstream so that errno names the actual problem.
std::string read_config_text(const std::filesystem::path& path) {
  const auto cannot_read = [&](int error) {
    return ConfigError(fmt::format("{}: cannot read config file: {}", path.string(), std::strerror(error)));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw cannot_read(errno);
  std::string text;
  char buffer[8192];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
  if (std::ferror(file.get()) != 0) throw cannot_read(errno);
  return text;
}

}  // namespace

Config load(const std::filesystem::path& path) {
  const Reader r(path.string());
  const std::string text = read_config_text(path);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    r.fail(e.mark.is_null() ? 1 : e.mark.line + 1, fmt::format("invalid YAML: {}", e.msg));
  }
  if (!root.IsNull() && !root.IsMap()) {
    r.fail(detail::line_of(root, 1),
           fmt::format("expected a map of settings at the top level, got {}", detail::describe(root)));
  }

  Config config;
  config.path = path;
  const Section top =
      r.section(root, "", 1,
                {"session", "goal", "benchmark", "build", "metric", "guards", "gates", "protected", "scope", "decision",
                 "sources", "limits", "hooks", "calibration", "verify", "confirm", "sandbox", "shell",
                 "harness", "executor", "reference"});
  if (const Entry* e = top.find("session")) {
    config.session = r.string(*e);
    check_session(r, *e, config.session);
  }
  if (const Entry* e = top.find("goal")) config.goal = r.string(*e);
  if (const Entry* e = top.find("shell")) read_shell(r, *e, config);
  read_benchmark(r, top, config.benchmark);
  read_build(r, top, config.build);
  read_metric(r, top, config.metric);
  if (const Entry* e = top.find("guards")) read_guards(r, *e, config.guards);
  if (const Entry* e = top.find("gates")) read_gates(r, *e, config.gates);
  if (const Entry* e = top.find("protected")) config.protected_paths = r.globs(*e);
  if (const Entry* e = top.find("scope")) config.scope = r.globs(*e);
  if (const Entry* e = top.find("harness")) read_harness(r, *e, config.harness);
  read_decision(r, top, config.decision);
  read_sources(r, top, config.sources);
  read_limits(r, top, config.limits);
  read_hooks(r, top, config.hooks);
  if (const Entry* e = top.find("confirm")) read_confirms(r, *e, config.confirms);
  read_calibration(r, top, config);
  read_sandbox(r, top, config.sandbox);
  read_executor(r, top, config.executor);
  read_reference(r, top, config.reference);
  return config;
}

}  // namespace ar::config
