#include "importer/plan.hpp"

#include "journal/journal.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include <fmt/format.h>

namespace ar::importer {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// "µs" and "us", "Total_MS" and "total_ms" name the same thing to a person.
std::string loose(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c == 0xC2 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) == 0xB5) {  // µ (micro sign)
      out += 'u';
      ++i;
    } else if (c == 0xCE && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) == 0xBC) {  // μ (mu)
      out += 'u';
      ++i;
    } else {
      out += static_cast<char>(std::tolower(c));
    }
  }
  return out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string iso_of_ms(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string num(double v) {
  return fmt::format("{:.6g}", v);
}

std::string with_unit(double v, const std::string& unit) {
  return unit.empty() ? num(v) : num(v) + " " + unit;
}

// The command that runs `script` (relative to the config's folder) as pi does: with bash, in the
// working directory.
std::string bash_command(const std::string& script, const std::string& working_dir) {
  if (working_dir.empty()) return "bash " + script;
  fs::path rel = fs::path(script).lexically_relative(working_dir);
  return fmt::format("cd {} && bash {}", working_dir, rel.generic_string());
}

bool known_status(const std::string& s) {
  return s == "keep" || s == "discard" || s == "crash" || s == "checks_failed";
}

}  // namespace

std::optional<std::string> closest_metric(const std::string& logged, const std::vector<std::string>& printed) {
  if (printed.empty() || std::find(printed.begin(), printed.end(), logged) != printed.end()) return std::nullopt;
  for (const std::string& p : printed) {
    if (loose(p) == loose(logged)) return p;
  }
  const std::string* best = nullptr;
  size_t best_d = static_cast<size_t>(-1);
  for (const std::string& p : printed) {
    size_t d = edit_distance(loose(p), loose(logged));
    if (d < best_d) {
      best_d = d;
      best = &p;
    }
  }
  if (best != nullptr && best_d <= std::max<size_t>(2, loose(logged).size() / 4)) return *best;
  return std::nullopt;
}

std::string session_slug(const std::string& text) {
  std::string out;
  for (char ch : loose(text)) {  // µs -> us
    auto c = static_cast<unsigned char>(ch);
    bool ok = std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
    if (ok && c < 0x80) {
      out += static_cast<char>(std::tolower(c));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
    if (out.size() >= 40) break;
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  while (!out.empty() && (out.front() == '-' || out.front() == '.')) out.erase(out.begin());
  return out.empty() ? "pi" : out;
}

std::string yaml_quote(const std::string& text) {
  std::string out = "\"";
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

Plan make_plan(const PlanInput& in) {
  const PiFiles& f = in.files;
  Plan plan;
  if (f.benchmark.empty()) {
    throw Error(fmt::format(
        "import: {} has no benchmark script ({}): pi's agent ran a command of its own, which the log does not "
        "record; put it in that script and import again",
        f.dir.string(), f.dot_auto ? ".auto/measure.sh" : "autoresearch.sh"));
  }
  const PiSegment* last = in.log.segments.empty() ? nullptr : &in.log.segments.back();
  std::string goal = last != nullptr ? last->name : "";
  plan.session = in.session.empty() ? session_slug(goal) : in.session;

  // The metric: the last segment's config line; the dry run decides between close names.
  std::string logged = last != nullptr ? last->metric_name : "";
  std::string unit = last != nullptr ? last->metric_unit : "";
  std::string direction = last != nullptr ? last->direction : "lower";
  plan.metric_name = logged;
  if (in.printed && !in.printed->empty()) {
    if (logged.empty()) {
      plan.metric_name = in.printed->front();
      plan.notes.push_back(fmt::format("metric: the log names none; the benchmark printed {}, the config uses \"{}\" "
                                       "(direction lower: check it)",
                                       fmt::join(*in.printed, ", "), plan.metric_name));
    } else if (auto close = closest_metric(logged, *in.printed)) {
      plan.metric_name = *close;
      plan.notes.push_back(fmt::format(
          "metric: the log names \"{}\" but {} prints \"{}\" (dry run); the config uses \"{}\", the name the "
          "benchmark prints",
          logged, f.benchmark, *close, *close));
    } else if (std::find(in.printed->begin(), in.printed->end(), logged) == in.printed->end()) {
      plan.notes.push_back(fmt::format(
          "metric: the log names \"{}\" but the dry run of {} printed only {}; the config keeps \"{}\": every run "
          "will be a crash until the names agree",
          logged, f.benchmark, fmt::join(*in.printed, ", "), logged));
    }
  }
  if (plan.metric_name.empty()) {
    throw Error(fmt::format(
        "import: no metric name: the session has no log with a config line and the dry run of {} printed no "
        "METRIC line",
        f.benchmark));
  }

  // pi's config.json.
  std::string working_dir;
  std::optional<long> max_iterations;
  if (in.config) {
    const PiConfig& c = *in.config;
    if (c.working_dir && !c.working_dir->empty() && *c.working_dir != ".") {
      fs::path wd = fs::path(*c.working_dir).lexically_normal();
      if (wd.is_absolute() || (!wd.empty() && *wd.begin() == "..")) {
        plan.not_mapped.push_back(fmt::format(
            "{}: workingDir \"{}\" is outside the session's folder; commands run in the session's folder "
            "(move the config there, or set the commands by hand)",
            f.config, *c.working_dir));
      } else {
        working_dir = wd.generic_string();
        plan.notes.push_back(fmt::format("{}: workingDir \"{}\": the benchmark and checks cd there first", f.config,
                                         working_dir));
      }
    }
    if (c.max_iterations && *c.max_iterations > 0) {
      max_iterations = c.max_iterations;
      plan.notes.push_back(fmt::format(
          "{}: maxIterations {} became limits.max_experiments (counted per `autoresearch run`, not per session)",
          f.config, *c.max_iterations));
    }
    for (const std::string& k : c.other_keys)
      plan.not_mapped.push_back(fmt::format("{}: key \"{}\" is not one pi documents; ignored", f.config, k));
  }
  for (const std::string& h : f.hooks) {
    plan.not_mapped.push_back(fmt::format(
        "{}: pi hooks read pi's JSON on stdin and talk to pi's agent; autoresearch's hooks.before/after get a "
        "different JSON, so it is not wired (add it under hooks: by hand if it fits)",
        h));
  }

  // Protected: every session file (the whole .auto/ folder in that layout). Harness: the
  // scripts (and the rest of .auto/ but the log, notes, ideas and config) that git does not track.
  std::vector<std::string> protect, harness;
  if (f.dot_auto) {
    protect.push_back(".auto");
    for (const std::string& p : f.all) {
      if (p == f.log || p == f.prompt || p == f.ideas || p == f.config) continue;
      if (in.untracked.count(p) != 0) harness.push_back(p);
    }
  } else {
    protect = f.all;
    for (const std::string* p : {&f.benchmark, &f.checks}) {
      if (!p->empty() && in.untracked.count(*p) != 0) harness.push_back(*p);
    }
  }

  // The config.
  std::string y;
  y += fmt::format("# Written by `autoresearch import` from the pi-autoresearch session in {} ({}).\n",
                   f.dot_auto ? ".auto/" : "this folder (flat layout)", in.imported_at);
  y += "# The scripts run unchanged: with bash, as pi runs them, and the checks right after a benchmark run.\n";
  y += "# Every key is explained in the README (\"Config reference\", \"Coming from pi-autoresearch\").\n";
  y += fmt::format("session: {}\n", yaml_quote(plan.session));
  if (!goal.empty()) y += fmt::format("goal: {}\n", yaml_quote(goal));
  y += "shell: bash\n";
  y += "benchmark:\n";
  y += fmt::format("  command: {}\n", yaml_quote(bash_command(f.benchmark, working_dir)));
  y += "  timeout: 10m            # pi's default\n";
  y += "metric:\n";
  y += fmt::format("  name: {}\n", yaml_quote(plan.metric_name));
  if (!unit.empty()) y += fmt::format("  unit: {}\n", yaml_quote(unit));
  y += fmt::format("  direction: {}\n", direction);
  y += "  repeat: last            # a name printed several times counts with its last value, as in pi\n";
  if (!f.checks.empty()) {
    y += "gates:\n";
    y += "  - name: checks\n";
    y += fmt::format("    command: {}\n", yaml_quote(bash_command(f.checks, working_dir)));
    y += "    timeout: 5m           # pi's default\n";
    y += "    after: benchmark      # in the candidate's worktree, right after its benchmark run, as pi runs it\n";
  }
  // Globs and harness paths are relative to the repository root; commands to the config's folder.
  auto in_repo = [&](const std::string& p) {
    return in.rel_dir.empty() ? p : (fs::path(in.rel_dir) / p).generic_string();
  };
  y += "protected:\n";
  for (const std::string& p : protect) y += fmt::format("  - {}\n", yaml_quote(in_repo(p)));
  if (!harness.empty()) {
    y += "# Not tracked by git: copied from this checkout into both worktrees.\n";
    y += "harness:\n";
    for (const std::string& p : harness) y += fmt::format("  - {}\n", yaml_quote(in_repo(p)));
  }
  y += "sources:\n";
  y += "  proposer:\n";
  if (!f.prompt.empty()) y += fmt::format("    notes: {}          # pi's session notes, in the proposer's context\n", yaml_quote(f.prompt));
  y += "    # command: claude -p \"Follow the instructions in $AUTORESEARCH_CONTEXT\" --permission-mode acceptEdits\n";
  if (max_iterations) {
    y += "limits:\n";
    y += fmt::format("  max_experiments: {}   # pi's maxIterations\n", *max_iterations);
  }
  plan.config_yaml = y;
  plan.benchmark_command = bash_command(f.benchmark, working_dir);
  plan.harness = harness;

  // The history.
  json segments = json::array();
  for (size_t k = 0; k < in.log.segments.size(); ++k) {
    const PiSegment& s = in.log.segments[k];
    segments.push_back({{"segment", k},
                        {"name", s.name},
                        {"metric_name", s.metric_name},
                        {"metric_unit", s.metric_unit},
                        {"direction", s.direction},
                        {"line", s.line}});
  }
  // Each segment's baseline: its first run with a value (pi's rule).
  std::map<int, double> baseline;
  for (const PiRun& r : in.log.runs) {
    if (r.metric && *r.metric != 0 && r.status != "crash" && baseline.count(r.segment) == 0)
      baseline[r.segment] = *r.metric;
  }
  std::map<int, int> other_segment_runs;
  std::set<std::string> secondary;
  int id = 0, keeps = 0;
  for (const PiRun& r : in.log.runs) {
    if (!known_status(r.status)) {
      plan.not_mapped.push_back(fmt::format("{}:{}: run {} has status \"{}\", none of keep, discard, crash, "
                                            "checks_failed; not imported",
                                            f.log, r.line, r.run, r.status));
      continue;
    }
    const PiSegment& seg = in.log.segments[static_cast<size_t>(r.segment)];
    std::string what;
    if (r.status == "crash" || !r.metric || *r.metric == 0) {
      what = r.status == "crash" ? "pi logged a crash" : "pi logged no value";
    } else {
      what = fmt::format("pi logged {}={}", seg.metric_name.empty() ? "metric" : seg.metric_name,
                         with_unit(*r.metric, seg.metric_unit));
      auto b = baseline.find(r.segment);
      if (b != baseline.end() && b->second != 0) {
        what += fmt::format(" ({:+.1f}% against its segment's baseline {})", (*r.metric / b->second - 1) * 100,
                            with_unit(b->second, seg.metric_unit));
      }
    }
    std::string when = r.timestamp_ms ? iso_of_ms(*r.timestamp_ms) : "";
    if (when.empty()) when = in.imported_at;
    json pi = {{"run", r.run},
               {"line", r.line},
               {"segment", r.segment},
               {"commit", r.commit},
               {"status", r.status},
               {"metric_name", seg.metric_name},
               {"metric_unit", seg.metric_unit}};
    if (r.metric) pi["metric"] = *r.metric;
    if (!r.metrics.empty()) pi["metrics"] = r.metrics;
    if (!r.confidence.is_null()) pi["confidence"] = r.confidence;
    if (!r.asi.is_null()) pi["asi"] = r.asi;
    if (r.timestamp_ms) pi["timestamp"] = *r.timestamp_ms;
    std::string hypothesis, mechanism;
    if (r.asi.is_object()) {
      if (r.asi.contains("hypothesis") && r.asi["hypothesis"].is_string()) hypothesis = r.asi["hypothesis"];
      if (r.asi.contains("rollback_reason") && r.asi["rollback_reason"].is_string())
        mechanism = r.asi["rollback_reason"];
    }
    json rec = {{"type", "experiment"},
                {"schema", journal::k_schema},
                {"session", plan.session},
                {"id", ++id},
                {"started_at", when},
                {"finished_at", when},
                {"source", {{"kind", "import"}, {"file", f.log}}},
                {"title", r.description.empty() ? fmt::format("pi run {}", r.run) : r.description},
                {"hypothesis", hypothesis},
                {"mechanism", mechanism},
                {"status", r.status},
                {"reason", fmt::format("imported: pi-autoresearch run {}; {}", r.run, what)},
                {"files", json::array()},
                {"asi", {{"pi", pi}}}};
    plan.records.push_back(std::move(rec));
    if (r.status == "keep") ++keeps;
    if (static_cast<size_t>(r.segment) + 1 != in.log.segments.size()) ++other_segment_runs[r.segment];
    for (const auto& [name, v] : r.metrics.items()) secondary.insert(name);
  }
  for (const auto& [k, n] : other_segment_runs) {
    const PiSegment& s = in.log.segments[static_cast<size_t>(k)];
    plan.notes.push_back(fmt::format(
        "{} segment {} ({} runs, metric \"{}\"): imported as history; a later config line started a new baseline, "
        "so its values are not compared with the last segment's",
        f.log, k + 1, n, s.metric_name));
  }
  if (keeps > 0) {
    plan.notes.push_back(fmt::format(
        "{} kept run(s) of pi: their commits stay where pi made them (in asi.pi.commit); the session starts from "
        "the checkout's HEAD, so merge them first if they are not in it",
        keeps));
  }
  if (!secondary.empty()) {
    plan.not_mapped.push_back(fmt::format(
        "secondary metrics {}: recorded per experiment as the benchmark prints them, but not made guards (pi "
        "logs no tolerance; add guards: by hand)",
        fmt::join(secondary, ", ")));
  }
  bool any_confidence = std::any_of(in.log.runs.begin(), in.log.runs.end(),
                                    [](const PiRun& r) { return !r.confidence.is_null(); });
  if (any_confidence) {
    plan.not_mapped.push_back(
        "pi's confidence values: kept in each imported record (asi.pi.confidence) but not used; autoresearch "
        "measures each change's own confidence interval");
  }
  if (in.log.hook_lines > 0) {
    plan.not_mapped.push_back(fmt::format("{}: {} hook line(s): pi's hook output, not experiments; skipped", f.log,
                                          in.log.hook_lines));
  }
  for (const std::string& s : in.log.skipped) plan.not_mapped.push_back(s);

  plan.header = {{"type", "header"},
                 {"schema", journal::k_schema},
                 {"session", plan.session},
                 {"created_at", in.imported_at},
                 {"tool_version", in.tool_version},
                 {"imported",
                  {{"from", "pi-autoresearch"},
                   {"layout", f.dot_auto ? ".auto" : "flat"},
                   {"file", f.log},
                   {"segments", segments},
                   {"runs", plan.records.size()},
                   {"not_mapped", plan.not_mapped}}}};
  return plan;
}

}  // namespace ar::importer
