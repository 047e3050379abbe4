#include "loop/runner.hpp"

#include "decide/decision.hpp"
#include "git/git.hpp"
#include "journal/journal.hpp"
#include "loop/screen.hpp"
#include "loop/state.hpp"
#include "metrics/metric_parser.hpp"
#include "proc/subprocess.hpp"
#include "report/report.hpp"
#include "sources/patch_file.hpp"
#include "sources/queue.hpp"
#include "sources/sweep.hpp"
#include "loop/context.hpp"
#include "ideas/ideas.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/interrupt.hpp"

#include <algorithm>
#include <array>

#include <boost/math/distributions/students_t.hpp>
#include <cctype>
#include <cmath>
#include <set>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include "util/format.hpp"

#include <fmt/format.h>

namespace ar::loop {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::uintmax_t k_max_patch_bytes = 100u << 20;

// Thrown inside an experiment when a child was stopped by an interrupt; the experiment catches
// it, records `interrupted`, restores the worktree and turns it into ar::Interrupted.
// It is an ar::Interrupted, so one that escapes an outer stage (a hook, a calibration build) still
// ends the run with exit 130.
struct StageInterrupted : Interrupted {
  StageInterrupted() : Interrupted("interrupted by a signal; the running command was stopped") {}
};

// Ends an experiment early with a status (crash, timeout, checks_failed, ...).
struct ExperimentEnd {
  std::string status;
  std::string reason;
};

using util::pct;

std::string short_hex(const git_oid& oid) { return git::to_hex(oid).substr(0, 12); }

class Runner {
public:
  Runner(config::Config cfg, git::Repository repo, Paths paths, Progress& progress)
      : m_cfg(std::move(cfg)), m_repo(std::move(repo)), m_paths(std::move(paths)), m_progress(progress) {}

  RunSummary run(bool once);
  RunSummary dry_run();
  RunSummary calibrate_command();
  RunSummary verify_command(int pairs);

private:
  git::Worktree& side(int i) { return i == 0 ? *m_base : *m_cand; }
  void prepare();
  void reload_view();
  void recover_unfinished();
  void ensure_base_built();
  std::optional<sources::Hypothesis> next_hypothesis(int id);
  std::optional<sources::Hypothesis> next_from_queue();
  std::optional<sources::Hypothesis> next_from_sweeps();
  std::optional<sources::Hypothesis> next_from_proposer(int id);
  std::string edit_to_patch();  // the candidate's diff to the best commit; resets the candidate
  void run_hook(const config::Hook& hook, const char* name, int id, const json& experiment);
  void mark_idea(const json& record);
  void link_idea(sources::Hypothesis& h);
  void record_stop(const std::string& reason, int experiments);
  void flag_near_dead_end(sources::Hypothesis& h);
  // `pairs` alternating base/candidate pairs (no early stop) for calibration and verification.
  // Returns per side the per-run medians of every metric; throws Error when a run fails.
  std::array<std::map<std::string, std::vector<double>>, 2> collect_pairs(int pairs, const std::string& what);
  json calibrate(bool refuse_broken);
  void start(bool dry);
  json run_experiment(const sources::Hypothesis& h, int id);
  void screen(const sources::Hypothesis& h, json& record);
  void build_candidate(json& record, int id);
  void run_gates(json& record, int id);
  decide::Verdict measure(json& record, int id);
  std::map<std::string, double> bench_run(int side, const std::string& label, int id, json& record, json& warnings,
                                          double& seconds);
  void keep(const sources::Hypothesis& h, json& record, int id);
  void finish(json& record, double started);
  void set_stage(int id, const std::string& title, const std::string& stage);
  proc::Result run_command(const std::string& command, const fs::path& cwd, config::Duration timeout,
                           int id, const std::string& label, metrics::MetricScanner* scanner,
                           const std::vector<std::pair<std::string, std::string>>& extra_env = {},
                           const fs::path& stdin_path = {});
  std::optional<std::string> stop_reason(int ran, double started);
  void fault_point(const std::string& stage);
  bool fault_due(const std::string& stage);  // counts this arrival; true on the n-th
  void reload_config();
  void check_tamper(int side, const std::string& label);
  void write_header(const std::string& start_commit);

  // Test hook (AUTORESEARCH_FAULT=<stage>[@<n>]): the process kills itself with SIGKILL the n-th
  // time it reaches <stage>, so tests can check that the next run repairs everything.
  std::string m_fault;
  int m_fault_at = 1;
  std::map<std::string, int> m_fault_seen;
  json m_cfg_json;
  std::string m_config_warning;  // the last config problem reported, so it is said once
  std::string m_token;           // marks every process this run starts (see proc::kill_by_token)
  std::map<std::string, std::string> m_fingerprint[2];  // [0] base, [1] candidate
  bool m_base_tampered = false;
  bool m_dry = false;                           // dry run, calibrate, verify: no header, no experiments
  std::optional<RunLock> m_lock;
  fs::path m_run_log;                           // log of work outside experiments, one per invocation
  std::set<config::SourceKind> m_disabled;      // sources switched off for this run (plateau, exhausted)
  config::SourceKind m_last_source = config::SourceKind::queue;
  int m_since_keep = 0;                         // experiments in a row without a keep (plateau rule)
  int m_proposer_idle = 0;                      // proposals in a row that changed nothing

  config::Config m_cfg;
  git::Repository m_repo;
  Paths m_paths;
  Progress& m_progress;
  std::optional<git::Worktree> m_base;
  std::optional<git::Worktree> m_cand;
  std::string m_branch_ref;
  git_oid m_best{};
  std::string m_base_built;  // commit the base worktree was last built at
  journal::SessionView m_view;
  json m_state = json::object();
  int m_consecutive_failures = 0;
};

// ---- setup ---------------------------------------------------------------------------------

void Runner::prepare() {
  fs::create_directories(m_paths.logs);
  fs::create_directories(m_paths.patches);
  m_repo.ensure_excluded("/.autoresearch/");
  if (m_repo.is_shallow()) {
    m_progress.note("note: the repository is a shallow clone; that is fine for experiments, but `git log` "
                    "of the session branch stops at the shallow boundary");
  }

  reload_view();

  m_branch_ref = "refs/heads/autoresearch/" + m_cfg.session;
  std::optional<git_oid> tip = m_repo.resolve(m_branch_ref);
  std::string start_commit = m_view.start_commit;
  if (!tip) {
    if (!m_view.experiments.empty()) {
      throw Error(fmt::format("{}: the journal has {} experiments of session \"{}\" but the branch autoresearch/{} "
                              "is gone; restore the branch or choose a new session name in {}",
                              m_paths.journal.string(), m_view.experiments.size(), m_cfg.session, m_cfg.session,
                              m_paths.config.filename().string()));
    }
    git_oid head = m_repo.head_commit();
    m_repo.set_ref(m_branch_ref, head, "autoresearch: start session " + m_cfg.session);
    tip = head;
    if (start_commit.empty()) start_commit = git::to_hex(head);
    m_progress.note(fmt::format("session {}: new branch autoresearch/{} at {}", m_cfg.session, m_cfg.session,
                                short_hex(head)));
  } else {
    if (start_commit.empty()) start_commit = git::to_hex(*tip);
    m_progress.note(fmt::format("session {}: resuming on autoresearch/{} at {} ({} experiments so far)", m_cfg.session,
                                m_cfg.session, short_hex(*tip), m_view.experiments.size()));
  }

  // The journal is the truth: a commit on the branch that no keep record names comes from a keep
  // that was interrupted before it was recorded; take it back.
  std::string expected = m_view.kept.empty() ? start_commit : m_view.experiments[m_view.kept.back()].commit;
  if (!expected.empty() && git::to_hex(*tip) != expected) {
    git_oid want = git::from_hex(expected);
    std::vector<git_oid> extra = m_repo.first_parent_chain(*tip, want);
    for (const git_oid& c : extra) {
      if (m_repo.commit_message(c).find("\nExperiment: ") == std::string::npos) {
        throw Error(fmt::format("branch autoresearch/{} has commit {} that autoresearch did not make; move it "
                                "elsewhere (the session branch holds kept experiments only)", m_cfg.session,
                                short_hex(c)));
      }
    }
    m_repo.set_ref(m_branch_ref, want, "autoresearch: drop unrecorded keep");
    m_progress.note(fmt::format("warning: dropped {} unrecorded commit(s) from autoresearch/{} (a keep interrupted "
                                "before it reached the journal)", extra.size(), m_cfg.session));
    tip = want;
  }
  m_best = *tip;

  // A header opens the session and every change of the config in force.
  m_cfg_json = config::to_json(m_cfg);
  if (!m_dry && (!m_view.header || (*m_view.header)["config"] != m_cfg_json)) {
    if (m_view.header) m_progress.note("config changed since the last run: a new journal segment starts");
    write_header(start_commit);
  }
  if (git::tree_has_path(m_repo, m_best, ".gitmodules")) {
    throw Error(fmt::format("the repository has submodules (.gitmodules at {}); autoresearch does not check "
                            "submodules out in its worktrees yet: vendor them or run on a repository without them",
                            short_hex(m_best)));
  }

  m_cand.emplace(git::Worktree::ensure(m_repo, "autoresearch-cand", m_paths.cand_wt, m_branch_ref, m_best));
  m_base.emplace(git::Worktree::ensure(m_repo, "autoresearch-base", m_paths.base_wt, std::nullopt, m_best));
  m_cand->reset_hard_clean(m_best);
  m_base->reset_hard_clean(m_best);
}

void Runner::write_header(const std::string& start_commit) {
  json header = {{"type", "header"},
                 {"schema", journal::k_schema},
                 {"session", m_cfg.session},
                 {"created_at", util::utc_now_iso()},
                 {"tool_version", AUTORESEARCH_VERSION},
                 {"start_commit", start_commit},
                 {"config", m_cfg_json}};
  m_view.add_record(header, journal::append(m_paths.journal, header));
}

// The config is re-read before every experiment: a valid edit takes effect and starts a new
// journal segment (so every record says which config produced it); an invalid edit is reported
// once and the run goes on with the config in force. The session name cannot change mid-run.
void Runner::reload_config() {
  config::Config fresh;
  try {
    fresh = config::load(m_cfg.path);
  } catch (const ConfigError& e) {
    std::string msg = fmt::format("warning: the config was edited and no longer loads ({}); going on with the "
                                  "config in force", e.what());
    if (msg != m_config_warning) m_progress.note(msg);
    m_config_warning = msg;
    return;
  }
  json j = config::to_json(fresh);
  if (j == m_cfg_json) return;
  if (fresh.session != m_cfg.session) {
    std::string msg = fmt::format("warning: the config now names session \"{}\"; a running session cannot switch: "
                                  "stop and run again to start it", fresh.session);
    if (msg != m_config_warning) m_progress.note(msg);
    m_config_warning = msg;
    return;
  }
  m_config_warning.clear();
  m_cfg = std::move(fresh);
  m_cfg_json = std::move(j);
  m_paths.queue = m_paths.root / m_cfg.sources.queue.dir;
  m_progress.note(fmt::format("config {} changed: the new settings apply from the next experiment (new journal segment)",
                              m_paths.config.filename().string()));
  write_header(m_view.start_commit);
}

bool Runner::fault_due(const std::string& stage) {
  if (m_fault.empty() || m_fault != stage) return false;
  return ++m_fault_seen[stage] == m_fault_at;
}

void Runner::fault_point(const std::string& stage) {
  if (!fault_due(stage)) return;
  std::fflush(nullptr);
  ::raise(SIGKILL);
}

void Runner::check_tamper(int i, const std::string& label) {
  std::map<std::string, std::string> now = side(i).fingerprint(m_cfg.protected_paths);
  if (now == m_fingerprint[i]) return;
  std::string what;
  for (const auto& [key, value] : now) {
    auto it = m_fingerprint[i].find(key);
    if (it == m_fingerprint[i].end() || it->second != value) {
      what = key;
      break;
    }
  }
  if (what.empty()) {
    for (const auto& [key, value] : m_fingerprint[i]) {
      if (now.count(key) == 0) {
        what = key;
        break;
      }
    }
  }
  if (i == 0) m_base_tampered = true;
  std::string path = what.substr(what.find(':') + 1);
  throw ExperimentEnd{"rejected", fmt::format("tampering: {} changed {} in the {} worktree while it ran", label, path,
                                              i == 0 ? "base" : "candidate")};
}

void Runner::reload_view() {
  std::vector<std::string> warnings;
  m_view = journal::load_view(m_paths.journal, m_cfg.session, warnings, true,
                              m_paths.state_dir / journal::k_index_file);
  for (const auto& w : warnings) m_progress.note("warning: " + w);
}

// An experiment that was running when a previous `run` died (kill -9, power cut) is recorded
// once as interrupted.
void Runner::recover_unfinished() {
  std::optional<json> state = read_state(m_paths);
  if (!state || !state->contains("experiment") || !(*state)["experiment"].is_object()) return;
  const json& e = (*state)["experiment"];
  int id = e.value("id", 0);
  for (const journal::Summary& r : m_view.experiments) {
    if (r.id == id) return;  // it finished after all
  }
  json record = {{"type", "experiment"},      {"schema", journal::k_schema},
                 {"id", id},                  {"session", m_cfg.session},
                 {"started_at", e.value("started_at", "")}, {"finished_at", util::utc_now_iso()},
                 {"source", e.value("source", json::object())}, {"title", e.value("title", "")},
                 {"hypothesis", e.value("hypothesis", "")}, {"mechanism", e.value("mechanism", "")},
                 {"idea", e.value("idea", "")}, {"patch_sha256", e.value("patch_sha256", "")},
                 {"key", e.value("key", e.value("patch_sha256", ""))},
                 {"base_commit", e.value("base_commit", "")}, {"status", "interrupted"},
                 {"reason", fmt::format("found unfinished at stage \"{}\" (the previous run stopped)",
                                        e.value("stage", "?"))}};
  m_view.add_record(record, journal::append(m_paths.journal, record));
  m_progress.finished(record);
}

// ---- commands ------------------------------------------------------------------------------

proc::Result Runner::run_command(const std::string& command, const fs::path& cwd, config::Duration timeout, int id,
                                 const std::string& label, metrics::MetricScanner* scanner,
                                 const std::vector<std::pair<std::string, std::string>>& extra_env,
                                 const fs::path& stdin_path) {
  // Work outside an experiment (base builds, calibration, verify) logs to this run's own file.
  fs::path log = id > 0 ? m_paths.logs / fmt::format("{:04d}.log", id) : m_run_log;
  {
    std::ofstream out(log, std::ios::app);
    out << fmt::format("==> {} [{}] $ {}\n", util::utc_now_iso(), label, command);
  }
  proc::RunSpec spec;
  spec.command = command;
  spec.cwd = cwd;
  spec.timeout = timeout;
  spec.log_path = log;
  spec.interrupt = &g_interrupt;
  spec.stray_token = m_token;
  // One experiment's log stays under max_log_mb: each run gets what is left, head and tail.
  std::error_code ec;
  std::uint64_t used = fs::exists(log, ec) ? fs::file_size(log, ec) : 0;
  std::uint64_t cap = static_cast<std::uint64_t>(m_cfg.limits.max_log_mb) << 20;
  std::uint64_t left = used < cap ? cap - used : 0;
  spec.log_tail_bytes = std::max<std::uint64_t>(std::min<std::uint64_t>(1u << 20, left / 4), 4096);
  spec.log_head_bytes = std::max<std::uint64_t>(left > spec.log_tail_bytes ? left - spec.log_tail_bytes : 0, 4096);
  std::string kind = label.substr(0, label.find(' '));
  spec.on_spawn = [this, kind](int) { fault_point("spawn:" + kind); };
  spec.env = {{"AUTORESEARCH_SESSION", m_cfg.session}, {"AUTORESEARCH_EXPERIMENT", std::to_string(id)}};
  spec.env.insert(spec.env.end(), extra_env.begin(), extra_env.end());
  spec.stdin_path = stdin_path;
  if (scanner != nullptr) spec.on_line = [scanner](std::string_view line) { scanner->feed(line); };
  proc::Result r = proc::run(spec);
  {
    std::ofstream out(log, std::ios::app);
    out << fmt::format("==> [{}] {} in {:.2f}s\n", label, r.describe(), r.seconds);
  }
  if (r.ending == proc::Ending::interrupted) throw StageInterrupted{};
  return r;
}

void Runner::ensure_base_built() {
  std::string best = git::to_hex(m_best);
  if (m_cfg.build.command.empty() || m_base_built == best) return;
  set_stage(0, "best commit", "build (base)");
  proc::Result r = run_command(m_cfg.build.command, m_paths.in_worktree(m_base->path()), m_cfg.build.timeout, 0,
                               "build base " + best.substr(0, 12), nullptr);
  if (!r.ok()) {
    throw Error(fmt::format("the build of the best commit {} failed in {} ({}); see {}:\n{}", best.substr(0, 12),
                            m_base->path().string(), r.describe(), m_run_log.string(), r.tail));
  }
  m_base_built = best;
}

void Runner::set_stage(int id, const std::string& title, const std::string& stage) {
  // id 0: work outside an experiment (base build, calibration); it must not relabel one.
  if (id > 0 && m_state.contains("experiment") && m_state["experiment"].is_object()) m_state["experiment"]["stage"] = stage;
  m_state["updated_at"] = util::utc_now_iso();
  write_state(m_paths, m_state);
  m_progress.stage(id, title, stage);
}

// ---- hypotheses ----------------------------------------------------------------------------

std::optional<sources::Hypothesis> Runner::next_from_queue() {
  for (const fs::path& file : sources::queue_files(m_paths.queue)) {
    std::string origin = file.lexically_relative(m_paths.root).generic_string();
    std::error_code ec;
    std::uintmax_t size = fs::file_size(file, ec);
    if (!ec && size > k_max_patch_bytes) {
      // Not even read: it is rejected by its size, and known by its name and size from then on.
      sources::Hypothesis h;
      h.origin = origin;
      h.title = sources::title_from_filename(file);
      h.patch_sha256 = util::sha256_hex(fmt::format("oversized:{}:{}", origin, size));
      if (m_view.tried_hashes.count(h.patch_sha256) != 0) continue;
      h.asi["oversized_bytes"] = size;
      return h;
    }
    std::optional<std::string> text = util::read_file(file);
    if (!text) {
      m_progress.note(fmt::format("warning: {}: cannot read; skipped", file.string()));
      continue;
    }
    sources::Hypothesis h = sources::parse_patch_text(*text, origin);
    if (m_view.tried_hashes.count(h.patch_sha256) != 0) {
      if (m_view.recorded_from(h.patch_sha256, origin)) continue;
      h.asi["duplicate"] = true;  // same content as a patch tried under another name
    }
    auto it = m_view.interrupted_count.find(h.patch_sha256);
    if (it != m_view.interrupted_count.end() && it->second > m_cfg.limits.retry_interrupted) continue;
    return h;
  }
  return std::nullopt;
}

// ---- one experiment ------------------------------------------------------------------------

std::string Runner::edit_to_patch() {
  // An agent that commits (aider does by default) would move the session branch: take its commits
  // back as plain changes, so the branch only ever holds kept experiments.
  git_oid head = m_cand->head_commit();
  if (git_oid_equal(&head, &m_best) == 0) {
    m_progress.note("note: the proposer made commits; they are tested as one change and the session branch is set back");
    m_cand->reset_soft(m_best);
  }
  std::string diff = git::diff_head_to_workdir(*m_cand);
  m_cand->reset_hard_clean(m_best);
  return diff;
}

std::optional<sources::Hypothesis> Runner::next_from_sweeps() {
  for (const config::Sweep& sw : m_cfg.sources.sweeps) {
    for (const std::string& value : sw.values) {
      std::string key = sources::sweep_key(sw.name, value);
      if (m_view.tried_hashes.count(key) != 0) continue;
      auto it = m_view.interrupted_count.find(key);
      if (it != m_view.interrupted_count.end() && it->second > m_cfg.limits.retry_interrupted) continue;
      sources::Hypothesis h;
      h.source = "sweep";
      h.origin = "sweep:" + sw.name;
      h.patch_sha256 = util::sha256_hex(key);
      h.asi["key"] = key;
      h.asi["sweep"] = sw.name;
      h.asi["value"] = value;
      h.title = fmt::format("{} = {}", sw.name, value);
      h.mechanism = sw.mechanism;
      h.idea = sw.idea;
      fs::path file = m_cand->path() / sw.file;
      std::optional<std::string> text = util::read_file(file);
      if (!text) {
        h.asi["end_status"] = "rejected";
        h.asi["end_reason"] = fmt::format("sweep {}: cannot read {}", sw.name, sw.file);
        return h;
      }
      sources::SweepEdit edit = sources::apply_sweep(*text, sw.pattern, value);
      if (!edit.found) {
        h.asi["end_status"] = "rejected";
        h.asi["end_reason"] = fmt::format("sweep {}: pattern {} not found in {}", sw.name, sw.pattern, sw.file);
        return h;
      }
      h.asi["from"] = edit.current;
      h.hypothesis = fmt::format("{} from {} to {} in {} moves {}", sw.name, edit.current, value, sw.file, m_cfg.metric.name);
      if (edit.current == value) {
        // The value in force is the sweep's baseline: nothing to try.
        continue;
      }
      util::write_file_atomic(file, edit.text);
      h.patch = edit_to_patch();
      return h;
    }
  }
  return std::nullopt;
}

std::optional<sources::Hypothesis> Runner::next_from_proposer(int id) {
  const config::Proposer& pc = m_cfg.sources.proposer;
  if (pc.command.empty()) return std::nullopt;
  set_stage(id, "proposer", "propose");
  fs::path dir = m_paths.state_dir / "context";
  fs::create_directories(dir);
  std::string notes;
  if (!pc.notes.empty()) notes = util::read_file(m_paths.root / pc.notes).value_or("");
  json ctx = proposer_context(m_cfg, m_view, ideas::read_ideas(m_paths.ideas),
                              report::render_dead_ends(m_view, m_cfg, k_context_dead_ends), notes);
  fs::path ctx_md = dir / fmt::format("{:04d}.md", id);
  fs::path ctx_json = dir / fmt::format("{:04d}.json", id);
  fs::path proposal = dir / fmt::format("{:04d}-proposal.json", id);
  util::write_file_atomic(ctx_md, context_markdown(ctx));
  util::write_file_atomic(ctx_json, ctx.dump(2) + "\n");
  std::error_code ec;
  fs::remove(proposal, ec);

  sources::Hypothesis h;
  h.source = "proposer";
  h.origin = "proposer";
  h.title = fmt::format("proposal {}", id);
  h.asi["context"] = ctx_md.lexically_relative(m_paths.root).generic_string();
  // The proposer sees the same variables whatever runs it, and works in the clean candidate.
  std::vector<std::pair<std::string, std::string>> env = {{"AUTORESEARCH_CONTEXT", ctx_md.string()},
                                                          {"AUTORESEARCH_CONTEXT_JSON", ctx_json.string()},
                                                          {"AUTORESEARCH_PROPOSAL", proposal.string()}};
  proc::Result r = run_command(pc.command, m_paths.in_worktree(m_cand->path()), pc.timeout, id, "proposer", nullptr, env);
  std::optional<std::string> text = util::read_file(proposal);
  if (text) {
    json p = json::parse(*text, nullptr, false);
    if (p.is_object()) {
      auto str = [&](const char* k) { return p.contains(k) && p[k].is_string() ? p[k].get<std::string>() : std::string(); };
      if (!str("title").empty()) h.title = str("title");
      h.hypothesis = str("hypothesis");
      h.mechanism = str("mechanism");
      h.idea = str("idea");
      if (p.contains("asi") && p["asi"].is_object()) {
        for (const auto& [k, v] : p["asi"].items()) h.asi[k] = v;
      }
    } else {
      m_progress.note(fmt::format("warning: experiment {}: {} is not a JSON object; using defaults", id, proposal.string()));
    }
  }
  std::string diff = edit_to_patch();
  h.patch = diff;
  h.patch_sha256 = util::sha256_hex(diff);
  if (r.ending == proc::Ending::timed_out) {
    h.asi["end_status"] = "timeout";
    h.asi["end_reason"] = "proposer " + r.describe();
  } else if (!r.ok()) {
    h.asi["end_status"] = "rejected";
    h.asi["end_reason"] = "proposer failed: " + r.describe();
  } else if (diff.empty()) {
    h.asi["end_status"] = "rejected";
    h.asi["end_reason"] = "the proposer made no change";
  } else {
    // The same change as anything tried before, queued or proposed, is a duplicate.
    if (const journal::Summary* rec = m_view.find_by_diff(h.patch_sha256)) {
      h.asi["duplicate"] = true;
      h.asi["duplicate_of"] = rec->id;
    }
  }
  return h;
}

std::optional<sources::Hypothesis> Runner::next_hypothesis(int id) {
  for (config::SourceKind kind : m_cfg.sources.order) {
    if (m_disabled.count(kind) != 0) continue;
    std::optional<sources::Hypothesis> h;
    switch (kind) {
      case config::SourceKind::queue: h = next_from_queue(); break;
      case config::SourceKind::sweeps: h = next_from_sweeps(); break;
      case config::SourceKind::proposer: h = next_from_proposer(id); break;
    }
    if (h) {
      m_last_source = kind;
      link_idea(*h);
      return h;
    }
  }
  return std::nullopt;
}

// An idea is linked by the hypothesis itself (Idea: header, sweep idea, proposal) or by the idea
// naming the patch file or the sweep.
void Runner::link_idea(sources::Hypothesis& h) {
  if (!h.idea.empty()) return;
  std::string needle = h.source == "sweep" ? "sweep " + h.asi.value("sweep", "") : fs::path(h.origin).filename().string();
  if (needle.empty() || needle == "proposer") return;
  for (const auto& idea : ideas::read_ideas(m_paths.ideas)) {
    if (!idea.id.empty() && idea.text.find(needle) != std::string::npos) {
      h.idea = idea.id;
      return;
    }
  }
}

void Runner::mark_idea(const json& record) {
  std::string id = record.value("idea", "");
  if (id.empty() || !fs::exists(m_paths.ideas)) return;
  std::string status = record.value("status", "");
  std::string effect = record.contains("metric") && record["metric"].is_object() ? effect_text(record["metric"]) : "";
  int n = record.value("id", 0);
  std::string mark;
  if (status == "keep") {
    mark = fmt::format("kept in experiment {}: {}", n, effect);
  } else if (status == "discard" || status == "checks_failed") {
    std::string why = record.value("mechanism", "");
    mark = fmt::format("dead end in experiment {}: {}{}", n, effect.empty() ? record.value("reason", "") : effect,
                       why.empty() ? "" : "; mechanism: " + why);
  } else if (status == "inconclusive") {
    mark = fmt::format("inconclusive in experiment {}: {}", n, effect);
  } else {
    mark = fmt::format("{} in experiment {}: {}", status, n, record.value("reason", ""));
  }
  try {
    ideas::update_file_safely(m_paths.ideas, [&](const std::string& text) { return ideas::with_mark(text, id, mark); });
  } catch (const Error& e) {
    m_progress.note(fmt::format("warning: could not mark idea {} in {}: {}", id, m_paths.ideas.string(), e.what()));
  }
}

void Runner::run_hook(const config::Hook& hook, const char* name, int id, const json& experiment) {
  if (hook.command.empty()) return;
  report::Headline hl = report::headline(m_view);
  json input = {{"hook", name},
                {"session", {{"name", m_cfg.session}, {"branch", "autoresearch/" + m_cfg.session},
                             {"best_commit", git::to_hex(m_best)}, {"experiments", m_view.experiments.size()},
                             {"counts", m_view.counts}}},
                {"experiment", experiment}};
  if (hl.measured) input["session"]["baseline"] = hl.baseline, input["session"]["best"] = hl.best;
  fs::path in = m_paths.state_dir / fmt::format("hook-{}.json", name);
  util::write_file_atomic(in, input.dump(2) + "\n");
  proc::Result r = run_command(hook.command, m_paths.root, hook.timeout, id, std::string("hook ") + name, nullptr, {}, in);
  if (!r.ok()) m_progress.note(fmt::format("warning: {} hook: {} (see the experiment log)", name, r.describe()));
}

namespace {

std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  std::string w;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      if (w.size() > 2) out.insert(w);  // "a", "to", "of" say nothing about the axis
      w.clear();
    }
  }
  return out;
}

double jaccard(const std::set<std::string>& a, const std::set<std::string>& b) {
  if (a.empty() || b.empty()) return 0;
  size_t common = 0;
  for (const auto& x : a) common += b.count(x);
  return static_cast<double>(common) / static_cast<double>(a.size() + b.size() - common);
}

} // namespace

// A hypothesis whose title nearly repeats a dead end's is run (the change may differ) but flagged
// in its record, so the reviewer sees the repetition.
void Runner::flag_near_dead_end(sources::Hypothesis& h) {
  std::set<std::string> mine = words(h.title);
  for (size_t i : m_view.dead_ends) {
    const journal::Summary& r = m_view.experiments[i];
    double sim = jaccard(mine, words(r.title));
    if (sim >= 0.6) {
      h.asi["near_dead_end"] = {{"id", r.id}, {"title", r.title}, {"similarity", sim}};
      m_progress.note(fmt::format("note: \"{}\" nearly repeats dead end {} (\"{}\")", h.title, r.id, r.title));
      return;
    }
  }
}

void Runner::record_stop(const std::string& reason, int experiments) {
  json stop = {{"type", "stop"},  {"schema", journal::k_schema}, {"session", m_cfg.session},
               {"at", util::utc_now_iso()}, {"reason", reason}, {"experiments", experiments}};
  m_view.add_record(stop, journal::append(m_paths.journal, stop));
}

void Runner::screen(const sources::Hypothesis& h, json& record) {
  if (h.asi.contains("end_status")) throw ExperimentEnd{h.asi["end_status"], h.asi.value("end_reason", "")};
  if (h.asi.contains("oversized_bytes")) {
    throw ExperimentEnd{"rejected", fmt::format("patch is {} bytes, over the {} MB limit", h.asi["oversized_bytes"].get<std::uintmax_t>(),
                                                k_max_patch_bytes >> 20)};
  }
  if (h.asi.value("duplicate", false)) {
    for (const journal::Summary& r : m_view.experiments) {
      if (r.status == "interrupted") continue;
      if (r.patch_sha256 == h.patch_sha256 || r.id == h.asi.value("duplicate_of", -1)) {
        throw ExperimentEnd{"rejected", fmt::format("duplicate of experiment {} ({})", r.id,
                                                    r.source_file.empty() ? "?" : r.source_file)};
      }
    }
  }
  if (h.patch.empty()) throw ExperimentEnd{"rejected", fmt::format("not a patch: no diff found in {}", h.origin)};
  if (auto why = screen_patch_text(h.patch)) throw ExperimentEnd{"rejected", *why};
  git::ParsedPatch parsed = git::parse_patch(h.patch);
  if (!parsed.ok) throw ExperimentEnd{"rejected", fmt::format("not a patch: {}", parsed.error)};
  json files = json::array();
  for (const auto& f : parsed.files) files.push_back(f.new_path.empty() ? f.old_path : f.new_path);
  record["files"] = files;

  ScreenRules rules{m_cfg.protected_paths, m_cfg.scope,
                    {m_paths.config.lexically_relative(m_paths.repo_root).generic_string(),
                     m_paths.journal.lexically_relative(m_paths.repo_root).generic_string()}};
  if (auto why = screen_paths(parsed.files, rules)) throw ExperimentEnd{"rejected", *why};
}

void Runner::build_candidate(json& record, int id) {
  if (m_cfg.build.command.empty()) return;
  set_stage(id, record["title"], "build");
  proc::Result r = run_command(m_cfg.build.command, m_paths.in_worktree(m_cand->path()), m_cfg.build.timeout, id,
                               "build candidate", nullptr);
  record["durations"]["build"] = r.seconds;
  if (!r.ok()) {
    record["gates"].push_back({{"name", "build"}, {"exit", r.exit_code}, {"seconds", r.seconds},
                               {"result", r.describe()}, {"tail", r.tail}});
    if (r.ending == proc::Ending::timed_out) throw ExperimentEnd{"timeout", "build " + r.describe()};
    throw ExperimentEnd{"checks_failed", fmt::format("build failed: {}", r.describe())};
  }
}

void Runner::run_gates(json& record, int id) {
  m_fingerprint[1] = m_cand->fingerprint(m_cfg.protected_paths);
  double total = 0;
  for (const config::Gate& g : m_cfg.gates) {
    set_stage(id, record["title"], "gate " + g.name);
    proc::Result r =
        run_command(g.command, m_paths.in_worktree(m_cand->path()), g.timeout, id, "gate " + g.name, nullptr);
    total += r.seconds;
    json entry = {{"name", g.name}, {"exit", r.exit_code}, {"seconds", r.seconds}, {"result", r.describe()}};
    if (!r.ok()) entry["tail"] = r.tail;
    record["gates"].push_back(entry);
    check_tamper(1, "gate " + g.name);
    if (!r.ok()) {
      record["durations"]["gates"] = total;
      if (r.ending == proc::Ending::timed_out) throw ExperimentEnd{"timeout", fmt::format("gate {} {}", g.name, r.describe())};
      throw ExperimentEnd{"checks_failed", fmt::format("gate {} failed: {} after {:.1f}s", g.name, r.describe(), r.seconds)};
    }
  }
  record["durations"]["gates"] = total;
}

// One benchmark process on one side: its METRIC medians, or the experiment ends (crash, timeout).
std::map<std::string, double> Runner::bench_run(int side, const std::string& label, int id, json& record,
                                                json& warnings, double& seconds) {
  const std::string& primary = m_cfg.metric.name;
  metrics::MetricScanner scanner;
  proc::Result r = run_command(m_cfg.benchmark.command, m_paths.in_worktree(this->side(side).path()),
                               m_cfg.benchmark.timeout, id, label, &scanner);
  seconds += r.seconds;
  check_tamper(side, "the benchmark (" + label + ")");
  for (const auto& rej : scanner.rejected()) {
    std::string w = fmt::format("{} output line {}: rejected METRIC line \"{}\": {}", label, rej.line, rej.text, rej.why);
    if (warnings.size() < 20) warnings.push_back(w);
    m_progress.note(id > 0 ? fmt::format("warning: experiment {}: {}", id, w) : "warning: " + w);
  }
  std::string who = side == 0 ? "base (best commit)" : "candidate";
  if (r.ending == proc::Ending::timed_out) {
    throw ExperimentEnd{"timeout", fmt::format("benchmark {} on the {}", r.describe(), who)};
  }
  if (!r.ok()) {
    record["benchmark_tail"] = r.tail;
    throw ExperimentEnd{"crash", fmt::format("benchmark {} on the {} ({})", r.describe(), who, label)};
  }
  std::map<std::string, double> medians = scanner.medians();
  if (medians.count(primary) == 0) {
    record["benchmark_tail"] = r.tail;
    throw ExperimentEnd{"crash", fmt::format("benchmark printed no METRIC {} on the {} ({})", primary, who, label)};
  }
  for (const auto& g : m_cfg.guards) {
    if (medians.count(g.name) == 0) {
      throw ExperimentEnd{"crash", fmt::format("benchmark printed no METRIC {} (a guard) on the {} ({})", g.name, who, label)};
    }
  }
  for (const auto& c : m_cfg.confirms) {
    if (medians.count(c.name) == 0) {
      throw ExperimentEnd{"crash", fmt::format("benchmark printed no METRIC {} (a confirm metric) on the {} ({})", c.name, who, label)};
    }
  }
  for (const auto& [name, value] : medians) {
    bool compared = name == primary ||
                    std::any_of(m_cfg.guards.begin(), m_cfg.guards.end(), [&](const auto& g) { return g.name == name; }) ||
                    std::any_of(m_cfg.confirms.begin(), m_cfg.confirms.end(), [&](const auto& c) { return c.name == name; });
    if (value <= 0 && compared) {
      throw ExperimentEnd{"crash", fmt::format("METRIC {}={} on the {}: compared metrics must be positive", name, value, who)};
    }
  }
  return medians;
}

decide::Verdict Runner::measure(json& record, int id) {
  const std::string title = record["title"];
  const std::string& primary = m_cfg.metric.name;
  std::map<std::string, std::vector<double>> samples[2];  // [0] base, [1] candidate; per-run medians
  json warnings = json::array();
  const char* side_names[2] = {"base", "candidate"};
  double seconds = 0;

  // One benchmark process: returns its METRIC medians or ends the experiment.
  auto one_run = [&](int side, const std::string& label) {
    return bench_run(side, label, id, record, warnings, seconds);
  };

  m_fingerprint[0] = m_base->fingerprint(m_cfg.protected_paths);
  for (int w = 0; w < m_cfg.benchmark.warmup; ++w) {
    set_stage(id, title, fmt::format("warmup {}/{}", w + 1, m_cfg.benchmark.warmup));
    one_run(0, fmt::format("warmup {} base", w + 1));
    one_run(1, fmt::format("warmup {} candidate", w + 1));
  }

  decide::Verdict verdict;
  int pairs = 0;
  const decide::Rule& rule = m_cfg.decision;
  for (int k = 1; k <= rule.max_pairs; ++k) {
    set_stage(id, title, fmt::format("pair {}/{}", k, rule.max_pairs));
    // AB, BA, AB, ...: neither side always runs second (warm caches, thermal drift).
    int order[2] = {k % 2 == 1 ? 0 : 1, k % 2 == 1 ? 1 : 0};
    std::map<std::string, double> got[2];
    got[order[0]] = one_run(order[0], fmt::format("pair {} {}", k, side_names[order[0]]));
    fault_point("pair");
    got[order[1]] = one_run(order[1], fmt::format("pair {} {}", k, side_names[order[1]]));
    for (int side = 0; side < 2; ++side) {
      for (const auto& [name, value] : got[side]) samples[side][name].push_back(value);
    }
    pairs = k;
    if (!decide::is_look(rule, k) && k < rule.max_pairs) continue;
    decide::Paired prim{samples[0][primary], samples[1][primary]};
    std::map<std::string, decide::Paired> guard_samples, confirm_samples;
    for (const auto& g : m_cfg.guards) guard_samples[g.name] = {samples[0][g.name], samples[1][g.name]};
    for (const auto& c : m_cfg.confirms) confirm_samples[c.name] = {samples[0][c.name], samples[1][c.name]};
    verdict = decide::evaluate(prim, m_cfg.metric.direction, guard_samples, m_cfg.guards, rule, confirm_samples,
                               m_cfg.confirms);
    if (verdict.outcome != decide::Outcome::undecided) break;
  }

  const decide::Effect& e = verdict.primary;
  record["pairs"] = pairs;
  record["durations"]["measure"] = seconds;
  record["metric"] = {{"name", primary},
                      {"unit", m_cfg.metric.unit},
                      {"direction", decide::to_string(m_cfg.metric.direction)},
                      {"base", samples[0][primary]},
                      {"candidate", samples[1][primary]},
                      {"base_median", metrics::median(samples[0][primary])},
                      {"candidate_median", metrics::median(samples[1][primary])},
                      {"effect", e.change},
                      {"ci_low", e.ci_low},
                      {"ci_high", e.ci_high},
                      {"improvement", e.improvement},
                      {"p", e.p_better},
                      {"p_worse", e.p_worse}};
  json others = json::object();
  for (const auto& [name, base_values] : samples[0]) {
    if (name == primary) continue;
    auto cand_it = samples[1].find(name);
    if (cand_it == samples[1].end() || base_values.empty() || cand_it->second.empty()) continue;
    double b = metrics::median(base_values);
    double c = metrics::median(cand_it->second);
    others[name] = {{"base", b}, {"candidate", c}, {"base_samples", base_values}, {"candidate_samples", cand_it->second}};
    if (b != 0) others[name]["change"] = c / b - 1.0;
  }
  record["metrics"] = others;
  json guards = json::object();
  for (const auto& g : m_cfg.guards) {
    auto it = verdict.guards.find(g.name);
    if (it == verdict.guards.end()) continue;
    guards[g.name] = {{"direction", decide::to_string(g.direction)}, {"tolerance", g.tolerance},
                      {"effect", it->second.change},  {"ci_low", it->second.ci_low},
                      {"ci_high", it->second.ci_high}, {"p_worse", it->second.p_worse}};
  }
  record["guards"] = guards;
  json confirms = json::object();
  for (const auto& [name, e2] : verdict.confirms) {
    confirms[name] = {{"effect", e2.change}, {"ci_low", e2.ci_low}, {"ci_high", e2.ci_high}, {"improvement", e2.improvement},
                      {"p_worse", e2.p_worse}};
  }
  if (!confirms.empty()) record["confirms"] = confirms;
  record["decision"] = {{"method", decide::to_string(rule.method)}, {"outcome", decide::to_string(verdict.outcome)},
                        {"reason", verdict.reason}, {"look_alpha", decide::look_alpha(rule, pairs)},
                        {"min_effect", rule.min_effect}, {"alpha", rule.alpha}, {"max_pairs", rule.max_pairs},
                        {"looks", rule.looks}};
  if (!warnings.empty()) record["warnings"] = warnings;
  return verdict;
}

void Runner::keep(const sources::Hypothesis& h, json& record, int id) {
  set_stage(id, h.title, "commit");
  const json& m = record["metric"];
  std::string unit = m_cfg.metric.unit.empty() ? "" : " " + m_cfg.metric.unit;
  std::string msg = h.title + "\n\n";
  if (!h.hypothesis.empty()) msg += "Hypothesis: " + h.hypothesis + "\n";
  if (!h.mechanism.empty()) msg += "Mechanism: " + h.mechanism + "\n";
  msg += fmt::format("\n{}: {:.4g}{} -> {:.4g}{}, {} (one-sided p={:.2g}, {} pairs, {} is better)\n", m_cfg.metric.name,
                     m["base_median"].get<double>(), unit, m["candidate_median"].get<double>(), unit, effect_text(m),
                     m["p"].get<double>(), record["pairs"].get<int>(), decide::to_string(m_cfg.metric.direction));
  for (const auto& [name, g] : record["guards"].items()) {
    msg += fmt::format("guard {}: {} (tolerance {:.0f}%)\n", name, effect_text(g), g["tolerance"].get<double>() * 100);
  }
  json result = {{"status", "keep"},
                 {"metric", m_cfg.metric.name},
                 {"base", m["base_median"]},
                 {"candidate", m["candidate_median"]},
                 {"effect", m["effect"]},
                 {"ci", {m["ci_low"], m["ci_high"]}},
                 {"p", m["p"]},
                 {"pairs", record["pairs"]}};
  json metrics_json = json::object();
  for (const auto& [name, v] : record["metrics"].items()) metrics_json[name] = v["candidate"];
  result["metrics"] = metrics_json;
  msg += fmt::format("\nExperiment: {}\nResult: {}\n", id, result.dump());
  git_oid commit = m_cand->commit_index(msg, true);
  record["commit"] = git::to_hex(commit);
  m_best = commit;
  fault_point("commit");
}

void Runner::finish(json& record, double started) {
  record["finished_at"] = util::utc_now_iso();
  record["durations"]["total"] = util::monotonic_seconds() - started;
  if (fault_due("journal")) {
    // Simulates a power cut in the middle of the append: half a line reaches the disk.
    std::string line = record.dump();
    util::append_durably(m_paths.journal, line.substr(0, line.size() / 2));
    std::fflush(nullptr);
    ::raise(SIGKILL);
  }
  m_view.add_record(record, journal::append(m_paths.journal, record));
}

json Runner::run_experiment(const sources::Hypothesis& h, int id) {
  double started = util::monotonic_seconds();
  json record = {{"type", "experiment"},
                 {"schema", journal::k_schema},
                 {"id", id},
                 {"session", m_cfg.session},
                 {"started_at", util::utc_now_iso()},
                 {"source", {{"kind", h.source}, {"file", h.origin}}},
                 {"title", h.title},
                 {"hypothesis", h.hypothesis},
                 {"mechanism", h.mechanism},
                 {"idea", h.idea},
                 {"patch_sha256", h.patch_sha256},
                 {"key", h.asi.value("key", h.patch_sha256)},
                 {"diff_sha256", h.patch.empty() ? std::string() : util::sha256_hex(h.patch)},
                 {"files", json::array()},
                 {"base_commit", git::to_hex(m_best)},
                 {"gates", json::array()},
                 {"durations", json::object()},
                 {"asi", h.asi}};
  m_state["experiment"] = {{"id", id},
                           {"title", h.title},
                           {"source", record["source"]},
                           {"hypothesis", h.hypothesis},
                           {"mechanism", h.mechanism},
                           {"idea", h.idea},
                           {"patch_sha256", h.patch_sha256},
                           {"key", record["key"]},
                           {"base_commit", record["base_commit"]},
                           {"started_at", record["started_at"]},
                           {"stage", "screen"}};
  bool applied = false;
  try {
    set_stage(id, h.title, "screen");
    screen(h, record);
    set_stage(id, h.title, "apply");
    // Every experiment's diff stays retrievable, kept or not.
    fs::path saved = m_paths.patches / fmt::format("{:04d}.patch", id);
    util::write_file_atomic(saved, h.patch);
    record["patch_file"] = saved.lexically_relative(m_paths.root).generic_string();
    applied = true;
    git::ApplyOutcome ap = git::apply_patch(*m_cand, h.patch);
    if (!ap.ok) throw ExperimentEnd{"apply_failed", "patch does not apply: " + ap.error};
    fault_point("apply");
    build_candidate(record, id);
    run_gates(record, id);
    decide::Verdict v = measure(record, id);
    record["reason"] = v.reason;
    switch (v.outcome) {
    case decide::Outcome::keep:
      record["status"] = "keep";
      keep(h, record, id);
      break;
    case decide::Outcome::discard:
      record["status"] = "discard";
      break;
    default:
      record["status"] = "inconclusive";
      break;
    }
  } catch (const ExperimentEnd& end) {
    record["status"] = end.status;
    record["reason"] = end.reason;
  } catch (const StageInterrupted&) {
    record["status"] = "interrupted";
    record["reason"] = fmt::format("stopped by signal {} at stage \"{}\"", static_cast<int>(g_interrupt),
                                   m_state["experiment"].value("stage", "?"));
  } catch (...) {
    // Something stopped the loop itself (disk full, git error): leave no patched worktree. The
    // state file still names the experiment, so the next run records it as interrupted.
    try {
      if (applied) m_cand->reset_hard_clean(m_best);
      if (m_base_tampered) m_base->reset_hard_clean(m_best);
    } catch (const std::exception& e) {
      m_progress.note(fmt::format("warning: could not restore the worktrees ({}); the next run repairs them", e.what()));
    }
    throw;
  }
  // Revert (or, after a keep, bring the base to the new best) before the record is written, so a
  // recorded experiment never leaves a patched worktree behind.
  if (applied) m_cand->reset_hard_clean(m_best);
  if (record["status"] == "keep" || m_base_tampered) m_base->reset_hard_clean(m_best);
  m_base_tampered = false;
  fault_point("revert");
  finish(record, started);
  fault_point("recorded");
  m_state["experiment"] = nullptr;
  write_state(m_paths, m_state);
  return record;
}

std::optional<std::string> Runner::stop_reason(int ran, double started) {
  const config::Limits& lim = m_cfg.limits;
  if (lim.max_experiments > 0 && ran >= lim.max_experiments) {
    return fmt::format("max_experiments reached ({})", lim.max_experiments);
  }
  if (lim.max_duration.count() > 0 && util::monotonic_seconds() - started >= static_cast<double>(lim.max_duration.count()) / 1000.0) {
    return fmt::format("max_duration reached ({})", config::format_duration(lim.max_duration));
  }
  if (lim.max_consecutive_failures > 0 && m_consecutive_failures >= lim.max_consecutive_failures) {
    return fmt::format("max_consecutive_failures reached ({} in a row)", m_consecutive_failures);
  }
  if (lim.target && !m_view.kept.empty()) {
    double best = m_view.experiments[m_view.kept.back()].candidate_median;
    bool reached = m_cfg.metric.direction == decide::Direction::lower ? best <= *lim.target : best >= *lim.target;
    if (reached) return fmt::format("target reached ({} {} {})", m_cfg.metric.name, best, *lim.target);
  }
  return std::nullopt;
}

std::array<std::map<std::string, std::vector<double>>, 2> Runner::collect_pairs(int pairs, const std::string& what) {
  std::array<std::map<std::string, std::vector<double>>, 2> samples;
  json scratch = json::object();
  json warnings = json::array();
  double seconds = 0;
  m_fingerprint[0] = m_base->fingerprint(m_cfg.protected_paths);
  m_fingerprint[1] = m_cand->fingerprint(m_cfg.protected_paths);
  try {
    for (int w = 0; w < m_cfg.benchmark.warmup; ++w) {
      set_stage(0, what, fmt::format("warmup {}/{}", w + 1, m_cfg.benchmark.warmup));
      bench_run(0, what + " warmup base", 0, scratch, warnings, seconds);
      bench_run(1, what + " warmup candidate", 0, scratch, warnings, seconds);
    }
    for (int k = 1; k <= pairs; ++k) {
      set_stage(0, what, fmt::format("pair {}/{}", k, pairs));
      int order[2] = {k % 2 == 1 ? 0 : 1, k % 2 == 1 ? 1 : 0};
      std::map<std::string, double> got[2];
      for (int side : order) got[side] = bench_run(side, fmt::format("{} pair {} side {}", what, k, side), 0, scratch, warnings, seconds);
      for (int side = 0; side < 2; ++side) {
        for (const auto& [name, v] : got[side]) samples[static_cast<size_t>(side)][name].push_back(v);
      }
    }
  } catch (const ExperimentEnd& end) {
    throw Error(fmt::format("{}: {} ({}); see {}", what, end.reason, end.status, m_run_log.string()));
  } catch (const StageInterrupted&) {
    throw Interrupted(what + " interrupted");
  }
  return samples;
}

namespace {

// Smallest change (as a fraction) the rule can keep with 80% power at its last look, for paired log
// ratios with standard deviation `sd_d`: (t_{1-a} + t_{0.8}) * sd / sqrt(n).
double detectable_effect(double sd_d, const decide::Rule& rule) {
  int n = rule.max_pairs;
  if (n < 2 || !(sd_d > 0)) return 0;
  boost::math::students_t t(n - 1);
  double a = decide::look_alpha(rule, rule.max_pairs);
  double z = boost::math::quantile(boost::math::complement(t, a)) + boost::math::quantile(t, 0.8);
  return std::exp(z * sd_d / std::sqrt(static_cast<double>(n))) - 1.0;
}

double sd(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

} // namespace

// The A/A run: base and candidate worktrees at the same commit. Records the noise of every metric,
// the smallest effect the session can detect, and refuses a harness whose A/A run would keep (or
// finds a significant difference between two copies of the same code: a benchmark that depends on
// its worktree's path, say).
json Runner::calibrate(bool refuse_broken) {
  m_progress.note(fmt::format("calibrating: {} A/A pairs of the best commit {} against itself", m_cfg.calibration.pairs,
                              short_hex(m_best)));
  ensure_base_built();
  if (!m_cfg.build.command.empty()) {
    set_stage(0, "calibration", "build (candidate)");
    proc::Result b = run_command(m_cfg.build.command, m_paths.in_worktree(m_cand->path()), m_cfg.build.timeout, 0,
                                 "calibration build candidate", nullptr);
    if (!b.ok()) throw Error(fmt::format("calibration: the build failed in the candidate worktree: {}", b.describe()));
  }
  std::array<std::map<std::string, std::vector<double>>, 2> samples;
  try {
    samples = collect_pairs(m_cfg.calibration.pairs, "calibration");
  } catch (...) {
    m_cand->reset_hard_clean(m_best);
    if (m_base_tampered) m_base->reset_hard_clean(m_best);
    m_base_tampered = false;
    throw;
  }
  m_cand->reset_hard_clean(m_best);
  json metrics = json::object();
  double primary_sd = 0;
  decide::Effect primary_effect;
  for (const auto& [name, base] : samples[0]) {
    auto it = samples[1].find(name);
    if (it == samples[1].end() || it->second.size() != base.size()) continue;
    bool positive = std::all_of(base.begin(), base.end(), [](double v) { return v > 0; }) &&
                    std::all_of(it->second.begin(), it->second.end(), [](double v) { return v > 0; });
    json m = {{"base", base}, {"candidate", it->second}};
    if (positive) {
      std::vector<double> logs, d;
      for (size_t i = 0; i < base.size(); ++i) {
        logs.push_back(std::log(base[i]));
        logs.push_back(std::log(it->second[i]));
        d.push_back(std::log(it->second[i] / base[i]));
      }
      decide::Effect e = decide::estimate({base, it->second}, decide::Direction::lower);
      m["cv"] = sd(logs);  // run-to-run noise on the log scale, about the coefficient of variation
      m["sd_pair"] = sd(d);
      m["effect"] = e.change;
      m["ci_low"] = e.ci_low;
      m["ci_high"] = e.ci_high;
      m["p_differ"] = std::min(1.0, 2 * std::min(e.p_better, e.p_worse));
      if (name == m_cfg.metric.name) {
        primary_sd = sd(d);
        primary_effect = e;
      }
    }
    metrics[name] = m;
  }
  double mde = detectable_effect(primary_sd, m_cfg.decision);
  // Two copies of one commit must not differ. The bar is stricter than a keep (p < 0.005 two-sided,
  // by at least min_effect) so that an honest but noisy harness is refused about once in 200
  // sessions, while a real bias (a metric that depends on the worktree path) is far past it.
  double p_differ = std::min(1.0, 2 * std::min(primary_effect.p_better, primary_effect.p_worse));
  bool broken = p_differ < 0.005 && std::abs(primary_effect.change) >= m_cfg.decision.min_effect;
  json record = {{"type", "calibration"},       {"schema", journal::k_schema},
                 {"session", m_cfg.session},     {"at", util::utc_now_iso()},
                 {"commit", git::to_hex(m_best)}, {"pairs", m_cfg.calibration.pairs},
                 {"metric", m_cfg.metric.name},   {"metrics", metrics},
                 {"detectable_effect", mde},      {"min_effect", m_cfg.decision.min_effect},
                 {"p_differ", p_differ}, {"broken", broken}};
  m_view.add_record(record, journal::append(m_paths.journal, record));
  std::string unit = m_cfg.metric.unit.empty() ? "" : " " + m_cfg.metric.unit;
  for (const auto& [name, m] : metrics.items()) {
    if (!m.contains("cv")) continue;
    m_progress.note(fmt::format("  noise of {}: {:.2f}% run to run, {:.2f}% per pair; A/A difference {} (95% CI {} to {})",
                                name, m["cv"].get<double>() * 100, m["sd_pair"].get<double>() * 100,
                                pct(m["effect"].get<double>()), pct(m["ci_low"].get<double>()), pct(m["ci_high"].get<double>())));
  }
  m_progress.note(fmt::format("  smallest effect detectable at {} pairs: {:.2f}% (min_effect is {:.2f}%)", m_cfg.decision.max_pairs,
                              mde * 100, m_cfg.decision.min_effect * 100));
  if (mde > m_cfg.decision.min_effect) {
    m_progress.note(fmt::format("warning: min_effect {:.2f}% is below what this benchmark can detect in {} pairs ({:.2f}%): "
                                "expect inconclusive results for small changes; raise min_effect or max_pairs, or quieten "
                                "the benchmark", m_cfg.decision.min_effect * 100, m_cfg.decision.max_pairs, mde * 100));
  }
  if (broken && refuse_broken) {
    throw Error(fmt::format("calibration: the benchmark tells two copies of the same commit apart ({} {}, 95% CI {} to {}, "
                            "p={:.2g}): the harness is broken (does the metric depend on the worktree path or on "
                            "which side runs first?); fix it before running experiments",
                            m_cfg.metric.name, pct(primary_effect.change), pct(primary_effect.ci_low),
                            pct(primary_effect.ci_high), p_differ));
  }
  return record;
}

RunSummary Runner::calibrate_command() {
  start(true);  // no header needed for a calibration record
  json rec = calibrate(false);
  m_state["pid"] = nullptr;
  write_state(m_paths, m_state);
  RunSummary s;
  s.stop_reason = rec["broken"].get<bool>()
                      ? "calibration: the harness is broken (see above); `run` calibrates again and refuses to start until it passes"
                      : "calibration recorded in results.jsonl";
  return s;
}

// Re-measures the best commit against the commit the session started from, with more pairs than
// any single experiment, and records the cumulative gain with its confidence interval.
RunSummary Runner::verify_command(int pairs) {
  start(true);
  if (m_view.start_commit.empty()) throw Error("verify: the session has no start commit yet; run experiments first");
  git_oid start = git::from_hex(m_view.start_commit);
  if (git_oid_equal(&start, &m_best) != 0) throw Error("verify: nothing was kept yet; the best commit is the start commit");
  if (pairs <= 0) pairs = m_cfg.verify_pairs > 0 ? m_cfg.verify_pairs : 2 * m_cfg.decision.max_pairs;
  m_progress.note(fmt::format("verifying: {} pairs of the start commit {} (base) against the best commit {} (candidate)",
                              pairs, short_hex(start), short_hex(m_best)));
  json record;
  try {
    m_base->reset_hard_clean(start);
    m_base_built.clear();
    if (!m_cfg.build.command.empty()) {
      for (int i = 0; i < 2; ++i) {
        set_stage(0, "verify", i == 0 ? "build (start commit)" : "build (best commit)");
        proc::Result b = run_command(m_cfg.build.command, m_paths.in_worktree(side(i).path()), m_cfg.build.timeout, 0,
                                     i == 0 ? "verify build start" : "verify build best", nullptr);
        if (!b.ok()) throw Error(fmt::format("verify: the build failed: {}", b.describe()));
      }
    }
    auto samples = collect_pairs(pairs, "verify");
    decide::Paired prim{samples[0][m_cfg.metric.name], samples[1][m_cfg.metric.name]};
    decide::Effect e = decide::estimate(prim, m_cfg.metric.direction);
    json others = json::object();
    for (const auto& [name, base] : samples[0]) {
      if (name == m_cfg.metric.name || samples[1].count(name) == 0) continue;
      double b = metrics::median(base), c = metrics::median(samples[1][name]);
      others[name] = {{"base", b}, {"candidate", c}, {"change", b != 0 ? c / b - 1 : 0.0}};
    }
    record = {{"type", "verify"},  {"schema", journal::k_schema},  {"session", m_cfg.session},
              {"at", util::utc_now_iso()}, {"start_commit", m_view.start_commit}, {"best_commit", git::to_hex(m_best)},
              {"pairs", pairs},
              {"metric", {{"name", m_cfg.metric.name}, {"unit", m_cfg.metric.unit},
                          {"direction", decide::to_string(m_cfg.metric.direction)}, {"base", prim.base},
                          {"candidate", prim.candidate}, {"base_median", metrics::median(prim.base)},
                          {"candidate_median", metrics::median(prim.candidate)}, {"effect", e.change},
                          {"ci_low", e.ci_low}, {"ci_high", e.ci_high}, {"p", e.p_better}}},
              {"metrics", others}};
    m_view.add_record(record, journal::append(m_paths.journal, record));
  } catch (...) {
    m_base->reset_hard_clean(m_best);
    m_cand->reset_hard_clean(m_best);
    m_base_built.clear();
    throw;
  }
  m_base->reset_hard_clean(m_best);
  m_cand->reset_hard_clean(m_best);
  m_base_built.clear();
  m_state["pid"] = nullptr;
  write_state(m_paths, m_state);
  RunSummary s;
  s.stop_reason = fmt::format("verified: {} from the start commit to the best, {} over {} pairs (p={:.2g})",
                              m_cfg.metric.name, effect_text(record["metric"]), pairs, record["metric"]["p"].get<double>());
  return s;
}

// --dry-run: the config loads (already done), the worktrees and build work, every gate passes on
// the best commit as it is, and the benchmark prints the primary metric (and guards); nothing is
// recorded. The branch and worktrees it creates are the session's own and are reused by `run`.
RunSummary Runner::dry_run() {
  start(true);
  RunSummary summary;
  try {
    ensure_base_built();
    if (!m_cfg.build.command.empty()) {
      set_stage(0, "dry run", "build (candidate)");
      proc::Result b = run_command(m_cfg.build.command, m_paths.in_worktree(m_cand->path()), m_cfg.build.timeout, 0,
                                   "dry-run build candidate", nullptr);
      if (!b.ok()) throw Error(fmt::format("dry run: the build failed in the candidate worktree: {}\n{}", b.describe(), b.tail));
    }
    for (const config::Gate& g : m_cfg.gates) {
      set_stage(0, "dry run", "gate " + g.name);
      proc::Result r = run_command(g.command, m_paths.in_worktree(m_cand->path()), g.timeout, 0, "dry-run gate " + g.name, nullptr);
      if (!r.ok()) throw Error(fmt::format("dry run: gate {} fails on the best commit: {}\n{}", g.name, r.describe(), r.tail));
      m_progress.note(fmt::format("gate {}: ok ({:.2f}s)", g.name, r.seconds));
    }
    std::map<std::string, std::vector<double>> values;
    const int runs = std::max(3, m_cfg.benchmark.warmup + 3);
    // The same run and checks as in an experiment (required metrics present and positive, no
    // tampering), so a config that passes here does not crash every experiment.
    json scratch = json::object();
    json warnings = json::array();
    double seconds = 0;
    m_fingerprint[0] = m_base->fingerprint(m_cfg.protected_paths);
    for (int i = 0; i < runs; ++i) {
      set_stage(0, "dry run", fmt::format("benchmark {}/{}", i + 1, runs));
      std::map<std::string, double> medians;
      try {
        medians = bench_run(0, fmt::format("dry-run benchmark {}", i + 1), 0, scratch, warnings, seconds);
      } catch (const ExperimentEnd& end) {
        throw Error(fmt::format("dry run: {} ({}); see {}\n{}", end.reason, end.status, m_run_log.string(),
                                scratch.value("benchmark_tail", "")));
      }
      if (i >= m_cfg.benchmark.warmup) {
        for (const auto& [name, v] : medians) values[name].push_back(v);
      }
    }
    for (const auto& [name, v] : values) {
      double lo = *std::min_element(v.begin(), v.end());
      double hi = *std::max_element(v.begin(), v.end());
      m_progress.note(fmt::format("METRIC {}: median {:.4g} (min {:.4g}, max {:.4g}, {} runs){}", name, metrics::median(v), lo, hi,
                                  v.size(), name == m_cfg.metric.name ? "  <- primary" : ""));
    }
  } catch (const StageInterrupted&) {
    throw Interrupted("dry run interrupted");
  }
  m_state["pid"] = nullptr;
  write_state(m_paths, m_state);
  summary.stop_reason = "dry run: config, build, gates and benchmark are fine; nothing was recorded";
  return summary;
}

// What every command that uses the worktrees does first: take the lock, stop what a killed
// predecessor left running, repair and open the session, and say in the state file who is here.
void Runner::start(bool dry) {
  m_lock.emplace(m_paths);
  if (!m_lock->taken_over().empty()) {
    m_progress.note(fmt::format("warning: took over the lock of a run that is no longer running ({})", m_lock->taken_over()));
  }
  if (const char* fault = std::getenv("AUTORESEARCH_FAULT")) {
    std::string f = fault;
    size_t at = f.find('@');
    m_fault = f.substr(0, at);
    if (at != std::string::npos) m_fault_at = std::max(1, std::atoi(f.c_str() + at + 1));
  }
  // Processes a killed predecessor left behind (its token is in the state file) go first, before
  // the worktrees they may still be writing to are repaired.
  std::optional<json> old_state = read_state(m_paths);
  if (old_state) {
    std::string old_token = old_state->value("token", "");
    if (!old_token.empty()) {
      int killed = proc::kill_by_token(old_token);
      if (killed > 0) m_progress.note(fmt::format("warning: stopped {} process(es) left by the previous run", killed));
    }
  }
  m_token = proc::new_stray_token();
  m_dry = dry;
  std::string stamp = util::utc_now_iso();
  std::replace(stamp.begin(), stamp.end(), ':', '-');
  m_run_log = m_paths.logs / fmt::format("run-{}-{}.log", stamp, ::getpid());
  prepare();
  // An unfinished experiment stays named until run() records it; the token must be on disk before
  // any child can carry it.
  m_state = {{"pid", static_cast<long>(::getpid())}, {"session", m_cfg.session}, {"started_at", util::utc_now_iso()},
             {"token", m_token}, {"experiment", old_state ? old_state->value("experiment", json()) : json()}};
  write_state(m_paths, m_state);
}

RunSummary Runner::run(bool once) {
  start(false);
  recover_unfinished();
  m_state["experiment"] = nullptr;
  write_state(m_paths, m_state);
  report::write_dead_ends(m_view, m_cfg, m_paths.reports);
  // A new session first measures its own noise, and refuses a harness that tells two copies of
  // the same commit apart.
  // A harness found broken is measured again on every start until it passes.
  bool calibrated_ok = m_view.last_calibration && !m_view.last_calibration->value("broken", false);
  if (m_cfg.calibration.on_start && !calibrated_ok) {
    calibrate(true);
  }

  RunSummary summary;
  double started = util::monotonic_seconds();
  while (true) {
    if (interrupted()) throw Interrupted("interrupted before the next experiment; nothing was running");
    if (auto why = stop_reason(summary.experiments, started)) {
      summary.stop_reason = *why;
      break;
    }
    reload_config();
    try {
      ensure_base_built();
    } catch (const StageInterrupted&) {
      throw Interrupted("interrupted while building the best commit; nothing was running");
    }
    try {
      ideas::update_file_safely(m_paths.ideas, ideas::with_ids);
    } catch (const Error& e) {
      m_progress.note(fmt::format("warning: could not give ideas ids: {}", e.what()));
    }
    int id = m_view.next_id;
    std::optional<sources::Hypothesis> h;
    try {
      h = next_hypothesis(id);
    } catch (const StageInterrupted&) {
      m_cand->reset_hard_clean(m_best);
      throw Interrupted("interrupted while the proposer was running; nothing was recorded");
    }
    if (!h) {
      summary.stop_reason = "no more hypotheses (every source is done)";
      break;
    }
    flag_near_dead_end(*h);
    run_hook(m_cfg.hooks.before, "before", id, {{"id", id}, {"title", h->title}, {"source", h->source}, {"origin", h->origin}});
    json record = run_experiment(*h, id);
    ++summary.experiments;
    std::string status = record["status"];
    bool failure = status == "crash" || status == "timeout" || status == "checks_failed" || status == "apply_failed" ||
                   (status == "rejected" && h->source == "proposer");
    m_consecutive_failures = failure ? m_consecutive_failures + 1 : 0;
    m_since_keep = status == "keep" ? 0 : m_since_keep + 1;
    // A proposer that only produces nothing, repeats, or breaks the rules is switched off rather
    // than asked all night.
    if (h->source == "proposer") {
      m_proposer_idle = status == "rejected" || status == "timeout" ? m_proposer_idle + 1 : 0;
      if (m_proposer_idle >= 3) {
        m_progress.note("the proposer produced nothing usable three times in a row: it is off for the rest of this run");
        m_disabled.insert(config::SourceKind::proposer);
      }
    }
    report::write_dead_ends(m_view, m_cfg, m_paths.reports);
    mark_idea(record);
    m_progress.finished(record);
    run_hook(m_cfg.hooks.after, "after", id, record);
    if (m_cfg.limits.plateau > 0 && m_since_keep >= m_cfg.limits.plateau && status != "interrupted") {
      if (m_cfg.limits.plateau_stop) {
        summary.stop_reason = fmt::format("plateau: no keep in {} experiments", m_since_keep);
        break;
      }
      m_progress.note(fmt::format("plateau: no keep in {} experiments from {}; switching to the next source",
                                  m_since_keep, config::to_string(m_last_source)));
      m_disabled.insert(m_last_source);
      m_since_keep = 0;
    }
    if (status == "interrupted") {
      throw Interrupted(fmt::format("interrupted during experiment {}; recorded as interrupted, worktrees restored", id));
    }
    if (once) {
      summary.stop_reason = "--once: one experiment done";
      break;
    }
  }
  record_stop(summary.stop_reason, summary.experiments);
  m_state["finished_at"] = util::utc_now_iso();
  m_state["stop_reason"] = summary.stop_reason;
  m_state["pid"] = nullptr;
  write_state(m_paths, m_state);
  report::write_report(m_view, m_cfg, m_paths.reports);
  return summary;
}

} // namespace

// ---- public --------------------------------------------------------------------------------

std::string effect_text(const json& metric) {
  double e = metric.value("effect", 0.0);
  if (!metric.contains("ci_low")) return pct(e);
  return util::effect_with_ci(e, metric.value("ci_low", 0.0), metric.value("ci_high", 0.0));
}

RunSummary run(const RunOptions& options, Progress& progress) {
  config::Config cfg = config::load(options.config_path);
  fs::path cfg_dir = fs::absolute(options.config_path).parent_path();
  git::Repository repo = git::Repository::discover(cfg_dir);
  Paths paths = Paths::make(cfg, repo.workdir());
  Runner runner(std::move(cfg), std::move(repo), std::move(paths), progress);
  switch (options.mode) {
    case RunMode::dry_run: return runner.dry_run();
    case RunMode::calibrate: return runner.calibrate_command();
    case RunMode::verify: return runner.verify_command(options.pairs);
    default: return runner.run(options.once);
  }
}

// ---- console progress ----------------------------------------------------------------------

ConsoleProgress::ConsoleProgress() : m_tty(::isatty(STDERR_FILENO) == 1) {}

void ConsoleProgress::clear_stage_line() {
  if (m_tty && m_stage_shown) std::fputs("\r\033[K", stderr);
  m_stage_shown = false;
}

void ConsoleProgress::note(const std::string& line) {
  clear_stage_line();
  std::fprintf(stderr, "%s\n", line.c_str());
}

void ConsoleProgress::stage(int id, const std::string& title, const std::string& stage) {
  std::string line = id > 0 ? fmt::format("  #{} {}: {}", id, title, stage) : fmt::format("  {}: {}", title, stage);
  if (m_tty) {
    clear_stage_line();
    std::fputs(line.substr(0, 150).c_str(), stderr);
    m_stage_shown = true;
  } else if (stage.rfind("pair ", 0) != 0 || stage == "pair 1/" + stage.substr(stage.find('/') + 1)) {
    // Without a terminal, print stage changes but not every pair.
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void ConsoleProgress::finished(const json& r) {
  clear_stage_line();
  std::string status = r.value("status", "?");
  std::string detail;
  if (r.contains("metric") && r["metric"].is_object()) {
    detail = fmt::format("{} {} in {} pairs", r["metric"].value("name", ""), effect_text(r["metric"]),
                         r.value("pairs", 0));
  }
  std::string reason = r.value("reason", "");
  std::fprintf(stderr, "#%-3d %-13s %s%s%s%s\n", r.value("id", 0), status.c_str(), r.value("title", "").c_str(),
               detail.empty() ? "" : "  ", detail.c_str(),
               reason.empty() || status == "keep" ? "" : ("  [" + reason + "]").c_str());
  std::fflush(stderr);
}

} // namespace ar::loop
