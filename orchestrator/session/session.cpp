#include "session/session.hpp"

#include "ideas/ideas.hpp"
#include "session/environment.hpp"
#include "proc/subprocess.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <unistd.h>
#include <algorithm>

#include <fmt/format.h>

namespace ar::session {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
std::string short_hex(const git_oid& oid) {
  return git::to_hex(oid).substr(0, 12);
}
}  // namespace

Session::Session(config::Config cfg, git::Repository repo, Paths paths, Progress& progress)
    : m_cfg(std::move(cfg)),
      m_repo(std::move(repo)),
      m_paths(std::move(paths)),
      m_progress(progress),
      m_state(m_paths) {}

Session::~Session() {
  if (!m_workspace) return;
  try {
    m_workspace->release();
  } catch (const std::exception& e) {
    m_progress.note(fmt::format("warning: could not release branch {} in the candidate worktree: {}", branch(),
                                e.what()));
  }
}

void Session::open(bool write_header_now) {
  m_lock.emplace(m_paths);
  if (!m_lock->taken_over().empty()) {
    m_progress.note(
        fmt::format("warning: took over the lock of a run that is no longer running ({})", m_lock->taken_over()));
  }
  // Processes a killed predecessor left behind (its token is in the state file) go first, before
  // the worktrees they may still be writing to are repaired.
  m_previous_state = m_state.previous();
  if (m_previous_state) {
    std::string old_token = m_previous_state->value("token", "");
    if (!old_token.empty()) {
      int killed = proc::kill_by_token(old_token);
      if (killed > 0) m_progress.note(fmt::format("warning: stopped {} process(es) left by the previous run", killed));
    }
  }
  m_token = proc::new_stray_token();
  std::string stamp = util::utc_now_iso();
  std::replace(stamp.begin(), stamp.end(), ':', '-');
  m_run_log = m_paths.logs / fmt::format("run-{}-{}.log", stamp, ::getpid());

  fs::create_directories(m_paths.logs);
  fs::create_directories(m_paths.patches);
  m_repo.ensure_excluded("/.autoresearch/");
  remove_stale_git_locks();
  open_sandbox();
  ideas::remove_stale_temp_files(m_paths.ideas);
  if (m_repo.is_shallow()) {
    m_progress.note(
        "note: the repository is a shallow clone; that is fine for experiments, but `git log` "
        "of the session branch stops at the shallow boundary");
  }
  std::vector<std::string> warnings;
  m_view =
      journal::load_view(m_paths.journal, m_cfg.session, warnings, true, m_paths.state_dir / journal::k_index_file);
  for (const auto& w : warnings) m_progress.note("warning: " + w);
  m_writer.emplace(m_paths.journal);

  std::string branch_ref = "refs/heads/" + branch();
  std::optional<git_oid> tip = m_repo.resolve(branch_ref);
  std::string start_commit = m_view.start_commit;
  if (!tip) {
    // Imported history (autoresearch import) was made elsewhere and names no commit of the branch.
    if (m_view.own() > 0) {
      throw Error(
          fmt::format("{}: the journal has {} experiments of session \"{}\" but the branch {} is gone; "
                      "restore the branch or choose a new session name in {}",
                      m_paths.journal.string(), m_view.own(), m_cfg.session, branch(),
                      m_paths.config.filename().string()));
    }
    git_oid head = m_repo.head_commit();
    m_repo.set_ref(branch_ref, head, "autoresearch: start session " + m_cfg.session);
    tip = head;
    if (start_commit.empty()) start_commit = git::to_hex(head);
    m_progress.note(fmt::format("session {}: new branch {} at {}", m_cfg.session, branch(), short_hex(head)));
  } else {
    if (start_commit.empty()) start_commit = git::to_hex(*tip);
    m_progress.note(fmt::format("session {}: resuming on {} at {} ({} experiments so far)", m_cfg.session, branch(),
                                short_hex(*tip), m_view.own()));
  }
  repair_branch(*tip, start_commit);

  if (git::tree_has_path(m_repo, *tip, ".gitmodules")) {
    throw Error(
        fmt::format("the repository has submodules (.gitmodules at {}); autoresearch does not check "
                    "submodules out in its worktrees yet: vendor them or run on a repository without them",
                    short_hex(*tip)));
  }
  std::vector<HarnessFile> harness = read_harness(m_cfg, m_paths.repo_root);
  for (std::size_t i = 0; i < harness.size(); ++i) {
    if (git::tree_has_path(m_repo, *tip, harness[i].path)) {
      throw ConfigError(fmt::format("{}:{}: harness[{}]: {} is tracked by git at {}; harness lists files outside "
                                    "git (list a tracked file under protected instead)",
                                    m_cfg.path.string(), m_cfg.harness[i].line, i, harness[i].path, short_hex(*tip)));
    }
  }
  m_harness_json = harness_json(harness);
  warn_checkout_paths();
  m_workspace = std::make_unique<Workspace>(m_repo, m_paths, branch_ref, *tip, 0, std::move(harness));
  m_sandbox.prepare();  // its namespaces hold the worktree folders as they are now
  // After prepare(): the header names the engine the commands will run in.
  m_cfg_json = config::to_json(m_cfg);
  const json harness_in_header = m_harness_json.empty() ? json() : m_harness_json;
  if (write_header_now && (!m_view.header || (*m_view.header)["config"] != m_cfg_json ||
                           m_view.header->value("sandbox", json()) != sandbox_json() ||
                           m_view.header->value("harness", json()) != harness_in_header)) {
    if (m_view.header && m_view.header->contains("imported")) {
      m_progress.note(fmt::format("the journal holds {} imported experiment(s); this run starts a new segment",
                                  m_view.imported.size()));
    } else if (m_view.header && (*m_view.header)["config"] != m_cfg_json) {
      m_progress.note("config changed since the last run: a new journal segment starts");
    } else if (m_view.header && m_view.header->value("sandbox", json()) != sandbox_json()) {
      m_progress.note("the sandbox changed since the last run: a new journal segment starts");
    } else if (m_view.header) {
      m_progress.note("a harness file changed since the last run: a new journal segment starts");
    }
    write_header(start_commit);
  }
  // An unfinished experiment stays named until the run records it; the token must be on disk
  // before any child can carry it.
  m_state.start(m_cfg.session, m_token, m_previous_state ? m_previous_state->value("experiment", json()) : json());
}

// A run killed while git wrote (a worktree's index or HEAD, the session branch) leaves its lock
// file, and every later git write there fails. We hold the run lock and have stopped what the
// previous run left, so nobody else writes these: the locks are stale. The user's own checkout
// and branches are not touched.
void Session::remove_stale_git_locks() {
  const fs::path git_dir = m_repo.git_dir();
  std::vector<fs::path> locks;
  for (const char* name : {"autoresearch-cand", "autoresearch-base"}) {
    locks.push_back(git_dir / "worktrees" / name / "index.lock");
    locks.push_back(git_dir / "worktrees" / name / "HEAD.lock");
  }
  locks.push_back(git_dir / "refs" / "heads" / "autoresearch" / (m_cfg.session + ".lock"));
  for (const fs::path& lock : locks) {
    std::error_code ec;
    if (fs::remove(lock, ec) && !ec) m_progress.note("note: removed " + lock.string() + " left by a stopped run");
  }
}

// The journal is the truth: a commit on the branch that no keep record names comes from a keep
// that was interrupted before it was recorded; take it back.
void Session::repair_branch(git_oid& tip, const std::string& start_commit) {
  std::string expected = m_view.kept.empty() ? start_commit : m_view.experiments[m_view.kept.back()].commit;
  if (expected.empty() || git::to_hex(tip) == expected) return;
  git_oid want = git::from_hex(expected);
  std::vector<git_oid> extra = m_repo.first_parent_chain(tip, want);
  for (const git_oid& c : extra) {
    if (m_repo.commit_message(c).find("\nExperiment: ") == std::string::npos) {
      throw Error(
          fmt::format("branch {} has commit {} that autoresearch did not make; move it elsewhere (the "
                      "session branch holds kept experiments only)",
                      branch(), short_hex(c)));
    }
  }
  m_repo.set_ref("refs/heads/" + branch(), want, "autoresearch: drop unrecorded keep");
  m_progress.note(
      fmt::format("warning: dropped {} unrecorded commit(s) from {} (a keep interrupted before it "
                  "reached the journal)",
                  extra.size(), branch()));
  tip = want;
}

void Session::write_header(const std::string& start_commit) {
  json header{{"type", "header"},
              {"schema", journal::k_schema},
              {"session", m_cfg.session},
              {"created_at", util::utc_now_iso()},
              {"tool_version", AUTORESEARCH_VERSION},
              {"start_commit", start_commit},
              {"sandbox", sandbox_json()},
              {"environment", capture_environment()},
              {"config", m_cfg_json}};
  // The fingerprints of the harness files the segment measured with (only when there are any,
  // so a journal written before the key existed sees no change).
  if (!m_harness_json.empty()) header["harness"] = m_harness_json;
  record_line(header);
}

bool Session::recover_state_dir() {
  std::error_code ec;
  bool whole = fs::exists(m_paths.logs, ec) && fs::exists(m_paths.patches, ec) &&
               fs::exists(m_paths.cand_wt / ".git", ec) && fs::exists(m_paths.base_wt / ".git", ec);
  if (whole) return false;
  fs::create_directories(m_paths.logs);
  fs::create_directories(m_paths.patches);
  m_lock.reset();
  m_lock.emplace(m_paths);
  m_state.rewrite();
  git_oid best = m_workspace->best();
  std::vector<HarnessFile> harness = m_workspace->harness();
  m_workspace.reset();
  m_workspace = std::make_unique<Workspace>(m_repo, m_paths, "refs/heads/" + branch(), best, 0, std::move(harness));
  fs::create_directories(m_paths.state_dir / "proposal");
  m_sandbox.prepare();
  m_progress.note(fmt::format("warning: {} was deleted while an experiment ran; recreated it (worktrees at {}, "
                              "lock, state file)",
                              m_paths.state_dir.string(), short_hex(best)));
  return true;
}

void Session::open_sandbox() {
  exec::SandboxLayout layout;
  layout.protect = {m_paths.repo_root, m_repo.git_dir(), m_paths.state_dir};
  layout.worktrees = {m_paths.base_wt, m_paths.cand_wt};
  layout.tmp_root = m_paths.state_dir / "tmp";
  layout.outbox = m_paths.state_dir / "proposal";
  m_sandbox = exec::Sandbox::make(m_cfg.sandbox, layout, m_paths.config);
  if (m_cfg.sandbox.mode != config::SandboxMode::off && !m_sandbox.confined()) {
    m_progress.note(fmt::format("warning: commands run unconfined: {}; the code under test can write to the "
                                "repository and the journal (the journal header says so)",
                                m_sandbox.unconfined_why()));
  }
}

// The journal header's word on confinement: how every command of the segment ran.
json Session::sandbox_json() const {
  json j{{"mode", config::to_string(m_sandbox.mode())}, {"confined", m_sandbox.confined()}};
  if (m_sandbox.confined()) j["engine"] = m_sandbox.engine();
  if (!m_sandbox.unconfined_why().empty()) j["unconfined"] = m_sandbox.unconfined_why();
  return j;
}

// A command that names the checkout by its absolute path runs the checkout's files on both sides:
// base and candidate measure the same thing and every change looks like no effect (the A/A
// calibration passes too). Worth a warning, not an error: the path may be there on purpose.
void Session::warn_checkout_paths() {
  std::string root = m_paths.repo_root.string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::vector<std::pair<std::string, std::string>> commands{{"benchmark.command", m_cfg.benchmark.command},
                                                            {"build.command", m_cfg.build.command}};
  for (std::size_t i = 0; i < m_cfg.gates.size(); ++i)
    commands.emplace_back(fmt::format("gates[{}].command", i), m_cfg.gates[i].command);
  for (const auto& [key, command] : commands) {
    for (std::size_t at = command.find(root); at != std::string::npos; at = command.find(root, at + 1)) {
      const std::size_t end = at + root.size();
      const bool whole = end == command.size() || command[end] == '/' || command[end] == ' ' ||
                         command[end] == '\'' || command[end] == '"' || command[end] == ';';
      if (!whole || command.compare(end, 14, "/.autoresearch") == 0) continue;
      m_progress.note(fmt::format("warning: {} names the checkout ({}): both worktrees would run the checkout's "
                                  "files, so base and candidate measure the same thing; use a path relative to the "
                                  "repository (list files outside git under harness)",
                                  key, root));
      break;
    }
  }
}

void Session::warn_once(const std::string& message) {
  if (message != m_config_warning) m_progress.note(message);
  m_config_warning = message;
}

void Session::reload_config() {
  const bool config_changed = reload_config_file();
  const bool harness_changed = refresh_harness();
  if (config_changed || harness_changed) write_header(m_view.start_commit);
}

bool Session::reload_config_file() {
  config::Config fresh;
  try {
    fresh = config::load(m_cfg.path);
  } catch (const ConfigError& e) {
    warn_once(fmt::format("warning: the config was edited and no longer loads ({}); going on with the config in force",
                          e.what()));
    return false;
  }
  json j = config::to_json(fresh);
  if (j == m_cfg_json) return false;
  if (fresh.session != m_cfg.session) {
    warn_once(
        fmt::format("warning: the config now names session \"{}\"; a running session cannot switch: stop and "
                    "run again to start it",
                    fresh.session));
    return false;
  }
  m_config_warning.clear();
  m_cfg = std::move(fresh);
  m_cfg_json = std::move(j);
  m_paths.queue = m_paths.root / m_cfg.sources.queue.dir;
  m_progress.note(
      fmt::format("config {} changed: the new settings apply from the next experiment (new journal segment)",
                  m_paths.config.filename().string()));
  return true;
}

bool Session::refresh_harness() {
  std::vector<HarnessFile> now;
  try {
    now = read_harness(m_cfg, m_paths.repo_root);
  } catch (const ConfigError& e) {
    warn_once(fmt::format("warning: {}; the worktrees keep their last copy", e.what()));
    return false;
  }
  json j = harness_json(now);
  if (j == m_harness_json) return false;
  for (const HarnessFile& f : now) {
    if (m_harness_json.value(f.path, "") == f.sha256) continue;
    m_progress.note(fmt::format("harness file {} {} in the checkout: copied into both worktrees for the next "
                                "experiment (new journal segment)",
                                f.path, m_harness_json.contains(f.path) ? "changed" : "added"));
  }
  m_workspace->set_harness(std::move(now));
  m_harness_json = std::move(j);
  return true;
}

std::optional<journal::RunningExperiment> Session::unfinished() const {
  if (!m_previous_state || !m_previous_state->contains("experiment")) return std::nullopt;
  const json& e = (*m_previous_state)["experiment"];
  if (!e.is_object()) return std::nullopt;
  journal::RunningExperiment r = journal::running_from_json(e);
  r.session = m_cfg.session;
  if (m_view.has_id(r.id)) return std::nullopt;  // it finished after all
  return r;
}

void Session::record(const journal::ExperimentRecord& record) {
  json line = journal::to_json(record);
  m_view.add_record(line, m_writer->append(line));
}

void Session::record_line(const json& line) {
  m_view.add_record(line, m_writer->append(line));
}

}  // namespace ar::session
