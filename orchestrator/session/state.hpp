#pragma once
// .autoresearch/state.json: what a running `autoresearch run` is doing, for `status` in another
// terminal and for the next run to find an experiment that never finished. Written atomically.
//
// .autoresearch/lock: one runner per repository. The lock is an flock(2) on the file, so it dies
// with its process; the file names the holder (pid, start time) for the refusal message.

#include "session/paths.hpp"

#include <optional>

#include <nlohmann/json.hpp>

namespace ar::session {

// Durable writes fsync the file and its folder; the others only rename atomically (they survive
// the process being killed, not a power cut). See StateFile for which writes are which.
void write_state(const Paths& paths, const nlohmann::json& state, bool durable = true);
std::optional<nlohmann::json> read_state(const Paths& paths);
bool pid_alive(long pid);
// Whether some process holds the run lock now (a probe with a shared flock(2) that is let go at
// once; RunLock waits out such a probe). A run killed with -9 lost its lock with its last open
// descriptor, even while its pid is still a zombie or reused.
bool lock_held(const Paths& paths);

// The state file of one run. Durable: the run's token (before any child can carry it) and the
// start of each experiment (so that after a power cut the next run still records it as
// interrupted and counts it towards limits.retry_interrupted). Not durable: stage changes and the
// end of an experiment. Losing those in a power cut only shows a stale stage; the journal, which
// is fsync'd per record, says whether the experiment finished.
class StateFile {
 public:
  explicit StateFile(const Paths& paths) : m_paths(paths) {}
  // The state a previous run left (read once, before start()).
  std::optional<nlohmann::json> previous() const { return read_state(m_paths); }
  // This run is here: pid, session, token, and the unfinished experiment carried over (or null).
  void start(const std::string& session, const std::string& token, const nlohmann::json& carried);
  void begin(const nlohmann::json& experiment);  // durable
  void stage(const std::string& stage);          // the running experiment's stage, or a run-level one
  void end();                                    // no experiment running
  // Executor slots: what each slot is doing ([{slot, id, title, stage}]); written with the next
  // write, or now (not durable) when `write`.
  void slots(const nlohmann::json& table, bool write);
  void finish(const std::string& stop_reason);   // the run stopped normally
  void release();                                // the command is done (no pid)
  void rewrite();                                // durable, as it is (the file was deleted)
  const nlohmann::json& current() const { return m_state; }

 private:
  const Paths& m_paths;
  nlohmann::json m_state = nlohmann::json::object();
};

class RunLock {
 public:
  // Takes the lock or throws ar::Error "another autoresearch run holds <file> (pid N, started T)".
  explicit RunLock(const Paths& paths);
  ~RunLock();
  // Non-empty when the lock file named a holder that is no longer running (its lock died with it).
  const std::string& taken_over() const { return m_taken_over; }
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int m_fd = -1;
  std::string m_taken_over;
};

}  // namespace ar::session
