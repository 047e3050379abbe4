#pragma once
// One session as a command sees it: the config in force, the repository, the lock, the state
// file, the session branch and its worktrees, and the journal view.
//
// open() takes the lock (throws ar::Error naming the holder), stops what a killed predecessor left
// running (by its token), repairs the branch against the journal (the journal is the truth: a
// commit no keep record names is dropped), writes a header when the config in force is new, and
// opens both worktrees clean at the best commit.
//
// The journal view is loaded once, in open(), and then only appended to: record() writes the line
// (fsync'd) and adds its summary. Nothing here re-reads the journal.

#include "config/config.hpp"
#include "exec/sandbox.hpp"
#include "git/git.hpp"
#include "journal/journal.hpp"
#include "journal/record.hpp"
#include "journal/writer.hpp"
#include "session/paths.hpp"
#include "session/progress.hpp"
#include "session/state.hpp"
#include "session/workspace.hpp"

#include <memory>
#include <optional>
#include <string>

namespace ar::session {

class Session {
 public:
  Session(config::Config cfg, git::Repository repo, Paths paths, Progress& progress);
  // Releases the session branch (Workspace::release): when a command ends, however it ends, no
  // worktree holds it.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // `write_header`: false for dry-run, calibrate and verify, which start no segment.
  void open(bool write_header);

  const config::Config& config() const { return m_cfg; }
  const Paths& paths() const { return m_paths; }
  Progress& progress() { return m_progress; }
  journal::SessionView& view() { return m_view; }
  git::Repository& repo() { return m_repo; }
  const journal::SessionView& view() const { return m_view; }
  Workspace& workspace() { return *m_workspace; }
  StateFile& state() { return m_state; }
  const std::string& token() const { return m_token; }
  const exec::Sandbox& sandbox() const { return m_sandbox; }
  const std::filesystem::path& run_log() const { return m_run_log; }
  std::string branch() const { return "autoresearch/" + m_cfg.session; }

  // When the state folder (.autoresearch/) or a worktree was deleted behind the loop's back (by a
  // command run unconfined): recreates the folders, the lock, the state file and both worktrees
  // at the best commit, warns, and returns true. Otherwise returns false and does nothing.
  bool recover_state_dir();

  // Before each experiment. Re-reads the config file: a valid edit takes effect (and starts a
  // journal segment); an invalid one, or one that renames the session, is reported once and
  // ignored. Re-reads the harness files in the checkout: a changed one is copied into both
  // worktrees at once, said, and starts a journal segment; a missing one is reported once and the
  // worktrees keep their last copy.
  void reload_config();

  // The experiment a killed predecessor left unfinished (named in its state file, absent from the
  // journal), if any.
  std::optional<journal::RunningExperiment> unfinished() const;

  // Appends to the journal (fsync'd) and to the view. Throws ar::Error, appending nothing, when the
  // journal changed behind the loop's back since open() or the last record (journal::Writer).
  void record(const journal::ExperimentRecord& record);
  void record_line(const nlohmann::json& line);  // header, stop, calibration, verify

 private:
  void remove_stale_git_locks();
  void repair_branch(git_oid& tip, const std::string& start_commit);
  void write_header(const std::string& start_commit);
  void open_sandbox();
  bool reload_config_file();  // whether the config in force changed
  bool refresh_harness();     // whether the harness files changed
  void warn_once(const std::string& message);
  void warn_checkout_paths();  // commands that name the checkout by its absolute path
  nlohmann::json sandbox_json() const;

  config::Config m_cfg;
  nlohmann::json m_cfg_json;
  nlohmann::json m_harness_json;  // {path: sha256} of the harness files in the worktrees
  std::string m_config_warning;  // the last config problem reported, so it is said once
  git::Repository m_repo;
  Paths m_paths;
  Progress& m_progress;
  std::optional<RunLock> m_lock;
  StateFile m_state;
  std::optional<nlohmann::json> m_previous_state;
  std::string m_token;
  std::filesystem::path m_run_log;
  exec::Sandbox m_sandbox;
  journal::SessionView m_view;
  std::optional<journal::Writer> m_writer;  // from open() on
  std::unique_ptr<Workspace> m_workspace;
};

}  // namespace ar::session
