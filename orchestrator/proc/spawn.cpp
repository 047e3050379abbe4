// Spawning: the plan built before fork(), the child's setup between fork and exec, and the
// guard that reaps it. Split from run() so the code that runs in the forked child, where only
// async-signal-safe calls are allowed, sits in one place and can be read against that rule.

#include "proc/spawn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace ar::proc::detail {

ChildPlan make_plan(const RunSpec& spec) {
  ChildPlan plan;
  if (!spec.command.empty()) {
    plan.args = {spec.shell, "-c", spec.command};
  } else {
    plan.args = spec.argv;
    plan.path_lookup = true;
  }
  for (auto& arg : plan.args) plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);

  if (!spec.env.empty() || !spec.stray_token.empty()) {
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
      std::string_view text(*entry);
      std::string_view name = text.substr(0, text.find('='));
      bool overridden = name == k_token_variable ||
                        std::any_of(spec.env.begin(), spec.env.end(), [&](const auto& kv) { return kv.first == name; });
      if (!overridden) plan.env_strings.emplace_back(text);
    }
    for (const auto& [name, value] : spec.env) plan.env_strings.push_back(name + "=" + value);
    if (!spec.stray_token.empty()) plan.env_strings.push_back(std::string(k_token_variable) + "=" + spec.stray_token);
    for (auto& entry : plan.env_strings) plan.envp.push_back(entry.data());
    plan.envp.push_back(nullptr);
  }
  plan.cwd = spec.cwd.string();
  plan.parent = ::getpid();
  plan.confinement = spec.confinement;
  CPU_ZERO(&plan.cpus);
  for (int cpu : spec.cpus) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) continue;
    CPU_SET(cpu, &plan.cpus);
    plan.pin = true;
  }
  return plan;
}

namespace {

// In the child: the namespaces, no capabilities, no new privileges, the Landlock domain. Raw
// system calls only (see exec_child). Returns the failed stage, or 0.
int confine(const RunSpec::Confinement& c) {
  if (c.user_ns >= 0 && ::setns(c.user_ns, CLONE_NEWUSER) != 0) return k_stage_user_ns;
  if (c.mount_ns >= 0 && ::setns(c.mount_ns, CLONE_NEWNS) != 0) return k_stage_mount_ns;
  // Whatever the namespace granted (full capabilities in a user namespace, or root's), none is
  // kept: a command must not be able to remount the read-only repository.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return k_stage_capabilities;
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int cap = 0; cap < 64; ++cap) ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);  // EINVAL past the last one
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[2] = {};
  if (::syscall(SYS_capset, &header, none) != 0) return k_stage_capabilities;
  if (c.landlock >= 0 && ::syscall(SYS_landlock_restrict_self, c.landlock, 0U) != 0) return k_stage_landlock;
  return 0;
}

}  // namespace

[[noreturn]] void exec_child(const ChildPlan& plan, int stdin_fd, int out_fd, int report_fd) {
  auto fail = [report_fd](int stage) {
    ChildReport report{stage, errno};
    ssize_t ignored = ::write(report_fd, &report, sizeof report);
    (void)ignored;
    ::_exit(127);
  };
  if (::setpgid(0, 0) != 0) fail(k_stage_setpgid);
  // If the orchestrator is killed outright (kill -9, OOM), the direct child goes with it; the rest
  // of its group is stopped by the next run, which finds the group id in its state file.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != plan.parent) ::_exit(127);  // the parent died before prctl took effect

  // Ignored signals and the blocked mask survive exec; a benchmark must start with defaults
  // (`yes | head` relies on SIGPIPE killing `yes`).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig : {SIGPIPE, SIGXFSZ, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2})
    ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // Our descriptors sit above 2 (lift_above_stdio), so these dup2 calls never overwrite a source.
  if (::dup2(stdin_fd, STDIN_FILENO) < 0 || ::dup2(out_fd, STDOUT_FILENO) < 0 || ::dup2(out_fd, STDERR_FILENO) < 0)
    fail(k_stage_redirect);
  // After the redirections (which use our descriptors) and before chdir: joining a mount
  // namespace moves the working folder to its root.
  if (plan.confinement.confined) {
    if (int stage = confine(plan.confinement)) fail(stage);
  }
  if (!plan.cwd.empty() && ::chdir(plan.cwd.c_str()) != 0) fail(k_stage_chdir);
  // Both sides of a pair on the same CPUs (benchmark.cpus): what the child and its descendants
  // inherit.
  if (plan.pin && ::sched_setaffinity(0, sizeof plan.cpus, &plan.cpus) != 0) fail(k_stage_affinity);
  // The environment goes to exec, never into `environ`: the parent's memory is shared.
  char* const* envp = plan.envp.empty() ? environ : const_cast<char* const*>(plan.envp.data());
  if (plan.path_lookup)
    ::execvpe(plan.argv[0], plan.argv.data(), envp);
  else
    ::execve(plan.argv[0], plan.argv.data(), envp);
  fail(k_stage_exec);
  ::_exit(127);  // not reached; fail() does not return
}

namespace {

struct CloneArgs {
  const ChildPlan* plan;
  int stdin_fd, out_fd, report_fd;
};

int clone_entry(void* arg) {
  const auto* a = static_cast<const CloneArgs*>(arg);
  exec_child(*a->plan, a->stdin_fd, a->out_fd, a->report_fd);
}

}  // namespace

pid_t spawn_child(const ChildPlan& plan, int stdin_fd, int out_fd, int report_fd) {
  // The child's own stack; the parent waits (CLONE_VFORK) until the child has exec'd or exited,
  // so it stays valid for as long as the child uses it.
  constexpr std::size_t k_stack = 256 * 1024;
  std::vector<char> stack(k_stack);
  CloneArgs args{&plan, stdin_fd, out_fd, report_fd};
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  // Joining a user namespace needs a process with memory of its own: that child is forked.
  int flags = plan.confinement.user_ns >= 0 ? SIGCHLD : (CLONE_VM | CLONE_VFORK | SIGCHLD);
  pid_t pid = ::clone(clone_entry, stack.data() + stack.size(), flags, &args);
  int saved = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return pid;
}

std::string describe_start_failure(const ChildReport& report, const ChildPlan& plan) {
  std::string why = errno_text(report.err);
  switch (report.stage) {
    case k_stage_setpgid:
      return "setpgid: " + why;
    case k_stage_redirect:
      return "redirecting stdin/stdout: " + why;
    case k_stage_chdir:
      return fmt::format("cannot change to {}: {}", plan.cwd, why);
    case k_stage_user_ns:
      return "sandbox: cannot join its user namespace: " + why;
    case k_stage_mount_ns:
      return "sandbox: cannot join its mount namespace: " + why;
    case k_stage_capabilities:
      return "sandbox: cannot drop capabilities: " + why;
    case k_stage_landlock:
      return "sandbox: cannot enter its Landlock domain: " + why;
    case k_stage_affinity:
      return "setting the CPU affinity (benchmark.cpus): " + why;
    default:
      return fmt::format("{}: {}", plan.args.front(), why);
  }
}

// A descriptor that becomes readable when the child exits (Linux 5.3+), so an exit is seen at once
// even while a leftover holds the pipe quiet. Invalid where unsupported: we then notice the exit
// at the next poll step instead.
Fd open_exit_fd(pid_t pid) {
#ifdef SYS_pidfd_open
  return Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
#else
  (void)pid;
  return Fd();
#endif
}

ChildGuard::~ChildGuard() {
  if (!m_reaped) {
    ::kill(-m_pid, SIGKILL);
    ::kill(m_pid, SIGKILL);
    reap();
  }
}

bool ChildGuard::has_ended() const {
  siginfo_t info{};
  for (;;) {
    if (::waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0) return info.si_pid == m_pid;
    if (errno != EINTR) return true;  // ECHILD: nothing left to wait for
  }
}

namespace {

// Field 39 (processor) of /proc/<pid>/stat: the CPU the process last ran on. The fields after
// the command name, which may hold spaces and parentheses, start after the last ')'.
int last_cpu_of(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  std::FILE* f = std::fopen(path, "re");
  if (f == nullptr) return -1;
  char buf[1024];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return -1;
  int field = 2;
  for (; *p != '\0'; ++p) {
    if (*p != ' ') continue;
    if (++field == 39) return std::atoi(p + 1);
  }
  return -1;
}

}  // namespace

void ChildGuard::reap() {
  if (has_ended()) m_last_cpu = last_cpu_of(m_pid);
  struct rusage usage{};
  for (;;) {
    pid_t got = ::wait4(m_pid, &m_status, 0, &usage);
    if (got == m_pid) {
      m_cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                      static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
      break;
    }
    if (got < 0 && errno != EINTR) break;
  }
  m_reaped = true;
}

}  // namespace ar::proc::detail
