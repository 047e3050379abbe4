#pragma once
// .autoresearch/state.json: what a running `autoresearch run` is doing, for `status` in another
// terminal and for the next run to find an experiment that never finished. Written atomically.
//
// .autoresearch/lock: one runner per repository. The lock is an flock(2) on the file, so it dies
// with its process; the file names the holder (pid, start time) for the refusal message.

#include "loop/paths.hpp"

#include <optional>

#include <nlohmann/json.hpp>

namespace ar::loop {

void write_state(const Paths& paths, const nlohmann::json& state);
std::optional<nlohmann::json> read_state(const Paths& paths);
bool pid_alive(long pid);

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

} // namespace ar::loop
