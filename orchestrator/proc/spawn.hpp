#pragma once
// Internal to proc/: starting a child and owning it until it is reaped. make_plan() does every
// allocation before fork(); exec_child() runs in the forked child and only makes
// async-signal-safe calls; a failure there is reported to the parent as a ChildReport on a
// close-on-exec pipe (so no report means the exec happened).

#include "proc/fd.hpp"
#include "proc/subprocess.hpp"

#include <string>
#include <vector>

#include <sched.h>
#include <sys/types.h>

namespace ar::proc::detail {

// What the child needs, all built before fork(): between fork and exec only async-signal-safe
// calls are allowed, and another thread may hold the malloc lock.
struct ChildPlan {
  std::vector<std::string> args;
  std::vector<char*> argv;  // points into args
  std::vector<std::string> env_strings;
  std::vector<char*> envp;  // points into env_strings; empty: inherit
  std::string cwd;
  bool path_lookup = false;
  pid_t parent = 0;
  RunSpec::Confinement confinement;
  bool pin = false;  // set the child's CPU affinity to `cpus`
  cpu_set_t cpus{};
};

enum Stage : int {
  k_stage_setpgid = 1,
  k_stage_redirect = 2,
  k_stage_chdir = 3,
  k_stage_exec = 4,
  k_stage_user_ns = 5,
  k_stage_mount_ns = 6,
  k_stage_capabilities = 7,
  k_stage_landlock = 8,
  k_stage_affinity = 9
};

// Written by the child to the report pipe when a stage before exec fails.
struct ChildReport {
  int stage = 0;
  int err = 0;
};

// Copy a plan and the copy's argv and envp still point into the original's strings; move it.
ChildPlan make_plan(const RunSpec& spec);

// In the child: own process group, default signal dispositions, stdin from `stdin_fd`, stdout and
// stderr to `out_fd`, then exec. Never returns; on failure writes a ChildReport to `report_fd` and
// exits 127. It writes nothing the parent can see but that report (it may share our memory).
[[noreturn]] void exec_child(const ChildPlan& plan, int stdin_fd, int out_fd, int report_fd);

// Starts exec_child in a child that shares our memory until it execs (clone with CLONE_VM and
// CLONE_VFORK, on a stack of its own, as posix_spawn does), so the cost of starting a command
// does not grow with the size of this process: fork() would copy the page tables of a loop that
// holds a 100,000-record view. Signals are blocked around the clone so that none of our handlers
// runs in the child. Returns the child's pid, or -1 with errno set.
pid_t spawn_child(const ChildPlan& plan, int stdin_fd, int out_fd, int report_fd);

// "cannot change to /x: No such file or directory", "nosuchcmd: No such file or directory".
std::string describe_start_failure(const ChildReport& report, const ChildPlan& plan);

// A descriptor that becomes readable when `pid` exits (pidfd, Linux 5.3+); invalid where
// unsupported, and callers then poll on a timer instead.
Fd open_exit_fd(pid_t pid);

// Owns a forked child: kills its group and reaps it on destruction unless reap() already ran, so
// no path out of run() (an exception from on_line, bad_alloc) leaves a zombie or a runaway group.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : m_pid(pid) {}
  ~ChildGuard();
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;

  pid_t pid() const { return m_pid; }
  bool reaped() const { return m_reaped; }
  int status() const { return m_status; }  // the waitpid status, once reaped
  // Once reaped: the CPU time of the child and the descendants it waited for (wait4's rusage),
  // in seconds, -1 when unknown; and the CPU the child last ran on (field 39 of
  // /proc/<pid>/stat, read while it was a zombie, just before the reap), -1 when unknown.
  double cpu_seconds() const { return m_cpu_seconds; }
  int last_cpu() const { return m_last_cpu; }

  // True when the child has ended. It is left a zombie, so its pid (and so its process group
  // id) cannot be reused while the caller signals the group.
  bool has_ended() const;
  // Waits for the child, retrying EINTR.
  void reap();

 private:
  pid_t m_pid;
  bool m_reaped = false;
  double m_cpu_seconds = -1;
  int m_last_cpu = -1;
  int m_status = 0;
};

}  // namespace ar::proc::detail
