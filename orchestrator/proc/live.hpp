#pragma once
// The commands of this process that are running now, for the sweep after each command (see
// sweep_leftovers): with several commands at once (executor slots, one per thread), a child of
// ours that is another command's leader is not a leftover, and must be neither killed nor reaped
// by a sweep. A spawn registers its child while holding the lock, so no sweep can see the child
// unregistered; the registration ends after the child was reaped.
//
// Process-wide on purpose: the children of a process are a process-wide resource.

#include <mutex>

#include <sys/types.h>

namespace ar::proc::detail {

// The lock, once no other thread holds the commands paused (see PauseOthers): a spawn waits here.
std::unique_lock<std::mutex> lock_live_to_spawn();
std::unique_lock<std::mutex> lock_live();
// With a lock held: registers `pid` as started by the calling thread.
void add_live(pid_t pid);
bool is_live(pid_t pid);
// Takes the lock itself.
void remove_live(pid_t pid);
// Seconds the commands of this thread spent stopped by another thread's PauseOthers so far
// (a monotonic total): run() extends a deadline by what accrued while its command ran.
double paused_seconds();

// Registered from construction (the lock held by the caller) to destruction.
class LiveChild {
 public:
  LiveChild() = default;
  void set(pid_t pid) {
    add_live(pid);
    m_pid = pid;
  }
  ~LiveChild() {
    if (m_pid > 0) remove_live(m_pid);
  }
  LiveChild(const LiveChild&) = delete;
  LiveChild& operator=(const LiveChild&) = delete;

 private:
  pid_t m_pid = -1;
};

}  // namespace ar::proc::detail
