#pragma once
// The only code in the program that forks. A command runs in its own process group with stdin
// from /dev/null; stdout and stderr share one pipe (so lines keep their order) and go to a log
// file (capped: head and tail kept, the cut marked) and to a bounded in-memory tail. Each complete
// line is also handed to `on_line`, so callers can scan the whole stream without holding it.
//
// At the deadline, or when *interrupt becomes non-zero, SIGTERM goes to the whole group and SIGKILL
// follows after `kill_grace`. When the direct child exits, the rest of its group is killed too
// and the pipe is drained for at most `drain_after_exit`, so a grandchild (even one that left the
// group) holding the pipe cannot hang the caller. Every child is reaped before run() returns.
//
// The direct child gets PR_SET_PDEATHSIG(SIGKILL): if the caller dies without cleaning up, the child
// dies too (its own children are the next run's to stop, see RunSpec::on_spawn).
//
// Commands may run from several threads at once (executor slots): each spawn registers its child
// (proc/live.hpp), so the sweep after one command never touches another's. A process a command
// leaves behind is then ended when any command ends. Signal-safe in the sense that EINTR is retried.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ar::proc {

struct RunSpec {
  // Run as `<shell> -c <command>` when non-empty; otherwise `argv` is executed directly (PATH
  // lookup applies to argv[0]).
  std::string command;
  std::string shell = "/bin/sh";  // an absolute path
  std::vector<std::string> argv;
  std::filesystem::path cwd;                             // empty: inherit
  std::vector<std::pair<std::string, std::string>> env;  // added to / overriding the environment
  std::vector<int> cpus;  // the CPUs the child may run on (sched_setaffinity before exec); empty: ours
  std::chrono::milliseconds timeout{0};                  // 0: no deadline
  std::chrono::milliseconds kill_grace{std::chrono::seconds(5)};
  std::chrono::milliseconds interrupt_grace{std::chrono::seconds(2)};  // TERM to KILL when interrupted
  std::chrono::milliseconds drain_after_exit{std::chrono::seconds(2)};
  std::filesystem::path log_path;                         // output appended here; empty: no log file
  std::uint64_t log_head_bytes = 32u << 20;               // bytes written to the log before it is cut
  std::uint64_t log_tail_bytes = 4u << 20;                // bytes kept from the end once the log is cut
  std::size_t tail_bytes = 16u << 10;                     // size of Result::tail
  std::size_t max_line_bytes = 64u << 10;                 // longer lines reach on_line cut to this length
  std::function<void(std::string_view line)> on_line;     // each line, without its '\n'
  const volatile std::sig_atomic_t* interrupt = nullptr;  // stop early when *interrupt != 0
  const std::atomic<bool>* cancel = nullptr;  // likewise when set (another thread cancels); ends `interrupted`
  // Called in the parent right after the child's process group exists, with its id (= the child's
  // pid), so callers can record it and stop a group left behind by a killed orchestrator.
  std::function<void(int pgid)> on_spawn;
  // When set, the child's environment gets AUTORESEARCH_RUN_TOKEN=<token>; every process still
  // carrying it when the child ends (a daemon that left the group with setsid, say) is killed.
  std::string stray_token;
  std::filesystem::path stdin_path;  // read as stdin instead of /dev/null when set
  // Confinement (exec/sandbox sets it up; the descriptors stay the caller's). When `confined`, the
  // child joins `user_ns` (when >= 0, and then it is forked, not cloned with shared memory:
  // joining a user namespace needs a process of its own) and `mount_ns`, drops every capability,
  // sets no_new_privs and enters the Landlock domain `landlock` (when >= 0), all before exec.
  struct Confinement {
    bool confined = false;
    int user_ns = -1;
    int mount_ns = -1;
    int landlock = -1;
  } confinement;
};

inline constexpr const char* k_token_variable = "AUTORESEARCH_RUN_TOKEN";

// Sends SIGKILL to every process (but this one) whose environment holds
// AUTORESEARCH_RUN_TOKEN=<token>; returns how many. Used after each run and, with the token a
// killed orchestrator left in its state file, by the next run.
int kill_by_token(const std::string& token);

// While it lives, the commands other threads of this process are running are stopped (SIGSTOP to
// their process groups) and commands they start wait; the time stopped does not count towards
// their timeouts. Executor slots measure under it so background builds and gates do not share the
// machine with a measured pair. One at a time; make it on the measuring thread.
class PauseOthers {
 public:
  PauseOthers();
  ~PauseOthers();
  PauseOthers(const PauseOthers&) = delete;
  PauseOthers& operator=(const PauseOthers&) = delete;
};

// A fresh random token for RunSpec::stray_token.
std::string new_stray_token();

// Makes this process a child subreaper (PR_SET_CHILD_SUBREAPER): a descendant of a command whose
// parent dies becomes our child instead of init's. run() then ends every process a command left,
// whatever it did to hide (setsid, double fork, `env -i` dropping the token), and the /proc token
// scan after each command is no longer needed. Call once, before the first run(), in a process
// that runs one command at a time. False where the kernel refuses (then tokens are the fallback).
bool become_subreaper();

// What run() does when a command has ended: as a subreaper, kill and reap every child of ours but
// `keep` (the command itself, reaped by run()) and the other commands running now, until none is left; otherwise kill_by_token(token).
// Returns how many processes were killed.
int sweep_leftovers(const std::string& token, int keep);

enum class Ending { exited, signaled, timed_out, interrupted, failed_to_start };

struct Result {
  Ending ending = Ending::failed_to_start;
  int exit_code = -1;  // valid when ending == exited
  int signal = 0;      // valid when ending == signaled
  double seconds = 0;  // wall time from spawn to reap
  double cpu_seconds = -1;  // user + system time of the child and what it waited for; -1: unknown
  int cpu = -1;             // the CPU the child last ran on (see ChildGuard); -1: unknown
  std::string tail;    // the last tail_bytes of output
  std::string error;   // why it failed to start, or other layer errors
  std::uint64_t output_bytes = 0;
  bool log_cut = false;  // the log file holds only head and tail
  // What a layer above learned about a failure (the sandbox refused a write); describe() adds it.
  std::string hint;

  bool ok() const { return ending == Ending::exited && exit_code == 0; }
  // One line: "exit 3", "killed by signal 11", "timed out after 10s", "interrupted",
  // "could not start: ...".
  std::string describe() const;
};

// Runs the command to completion (or deadline or interrupt). Never throws for the child's
// failures; those are in Result.
Result run(const RunSpec& spec);

}  // namespace ar::proc
