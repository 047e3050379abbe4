#include "exec/namespaces.hpp"

#include <fcntl.h>
#include <linux/landlock.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

namespace ar::exec {

namespace {

// The ruleset attribute up to ABI 6's `scoped` field; the kernel is told the size it knows.
struct RulesetAttr {
  std::uint64_t handled_access_fs = 0;
  std::uint64_t handled_access_net = 0;
  std::uint64_t scoped = 0;
};
constexpr std::uint64_t k_scope_signal = 1ULL << 1;  // LANDLOCK_SCOPE_SIGNAL (ABI 6)

std::string errno_text(int err) {
  return std::strerror(err);
}

}  // namespace

int landlock_abi() {
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi > 0 ? static_cast<int>(abi) : 0;
}

int landlock_domain(int abi, std::string& why) {
  RulesetAttr attr;
  attr.handled_access_fs = LANDLOCK_ACCESS_FS_MAKE_BLOCK;  // nobody's benchmark makes block devices
  std::size_t size = sizeof attr.handled_access_fs;
  if (abi >= 6) {
    attr.scoped = k_scope_signal;
    size = sizeof attr;
  }
  long fd = ::syscall(SYS_landlock_create_ruleset, &attr, size, 0U);
  if (fd < 0) {
    why = "Landlock ruleset: " + errno_text(errno);
    return -1;
  }
  return static_cast<int>(fd);
}

void Namespaces::close() {
  if (mount >= 0) ::close(mount);
  if (user >= 0) ::close(user);
  mount = user = -1;
}

Namespaces build_namespaces(const std::vector<std::string>& bwrap_policy, std::string& why) {
  Namespaces out;
  std::vector<std::string> args = bwrap_policy;
  args.insert(args.end(), {"--", "/bin/sh", "-c", "echo $$; exec sleep infinity"});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    why = "pipe: " + errno_text(errno);
    return out;
  }
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    why = "fork: " + errno_text(errno);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return out;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, STDIN_FILENO);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(pipe_fds[1]);

  // Its first line: the pid of the process inside (the mounts are in place once it runs), or
  // bwrap's error.
  std::string said;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (said.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buffer[512];
    ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    said.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  long inner = std::strtol(said.c_str(), nullptr, 10);
  if (inner > 0) {
    auto open_ns = [&](const char* name) { return ::open(fmt::format("/proc/{}/ns/{}", inner, name).c_str(), O_RDONLY | O_CLOEXEC); };
    out.mount = open_ns("mnt");
    struct stat theirs {}, ours {};
    if (::stat(fmt::format("/proc/{}/ns/user", inner).c_str(), &theirs) == 0 && ::stat("/proc/self/ns/user", &ours) == 0 &&
        theirs.st_ino != ours.st_ino) {
      out.user = open_ns("user");
      if (out.user < 0) out.close();
    }
    if (out.mount < 0) why = fmt::format("cannot open the namespaces of process {}: {}", inner, errno_text(errno));
  } else {
    why = said.empty() ? "bubblewrap said nothing" : said.substr(0, said.find('\n'));
  }
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  while (::waitpid(-pid, &status, WNOHANG) > 0) {
  }
  return out;
}

}  // namespace ar::exec
