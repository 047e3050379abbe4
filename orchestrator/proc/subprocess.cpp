#include "proc/subprocess.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace ar::proc {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long one poll() may sleep: the deadline, the kill grace and *interrupt are checked at least
// this often.
constexpr milliseconds k_poll_step{100};
// Bytes read per read(2), and reads per wake-up, so a child that writes faster than we read
// cannot starve the deadline checks.
constexpr std::size_t k_read_chunk = 64u << 10;
constexpr int k_reads_per_wakeup = 16;

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return m_fd; }
  bool valid() const { return m_fd >= 0; }
  void reset() {
    // close() must not be retried on EINTR on Linux: the descriptor is gone either way.
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }

 private:
  int m_fd = -1;
};

// Keeps our descriptors off 0-2: if the program was started with stdin closed, a pipe could land
// on fd 0 and the child's dup2 of /dev/null onto 0 would clobber it before it is used.
bool lift_above_stdio(Fd& fd) {
  if (fd.get() > STDERR_FILENO) return true;
  int lifted = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (lifted < 0) return false;
  fd = Fd(lifted);
  return true;
}

bool make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
  return lift_above_stdio(read_end) && lift_above_stdio(write_end);
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// The last `capacity` bytes of a stream, in O(capacity) memory.
class Ring {
 public:
  explicit Ring(std::size_t capacity) : m_capacity(capacity) {}

  void append(const char* data, std::size_t size) {
    if (m_capacity == 0 || size == 0) return;
    if (size >= m_capacity) {
      m_buf.assign(data + (size - m_capacity), m_capacity);
      m_start = 0;
      return;
    }
    if (m_buf.size() < m_capacity) {
      // Not full yet, so m_start is still 0 and plain appending keeps the order.
      if (m_buf.capacity() < m_capacity) m_buf.reserve(m_capacity);
      std::size_t take = std::min(size, m_capacity - m_buf.size());
      m_buf.append(data, take);
      data += take;
      size -= take;
    }
    while (size > 0) {
      std::size_t take = std::min(size, m_capacity - m_start);
      std::memcpy(&m_buf[m_start], data, take);
      m_start = (m_start + take) % m_capacity;
      data += take;
      size -= take;
    }
  }

  std::size_t size() const { return m_buf.size(); }

  std::string str() const {
    std::string out;
    out.reserve(m_buf.size());
    out.append(m_buf, m_start, std::string::npos);
    out.append(m_buf, 0, m_start);
    return out;
  }

 private:
  std::size_t m_capacity;
  std::string m_buf;
  std::size_t m_start = 0;
};

// Splits the stream into lines for on_line; a line longer than the limit is passed on cut, and
// the rest of it is dropped unread, so memory stays at max_line_bytes.
class LineSplitter {
 public:
  LineSplitter(const std::function<void(std::string_view)>& on_line, std::size_t max_line_bytes)
      : m_on_line(on_line), m_max(max_line_bytes) {}

  void feed(const char* data, std::size_t size) {
    if (!m_on_line) return;
    while (size > 0) {
      const void* found = std::memchr(data, '\n', size);
      std::size_t piece = found != nullptr ? static_cast<std::size_t>(static_cast<const char*>(found) - data) : size;
      take(data, piece);
      if (found == nullptr) return;
      emit();
      data += piece + 1;
      size -= piece + 1;
    }
  }

  // The last line may lack its '\n'.
  void finish() {
    if (m_on_line && m_pending) emit();
  }

 private:
  void take(const char* data, std::size_t size) {
    if (size == 0) return;
    m_pending = true;
    std::size_t room = m_max - std::min(m_max, m_line.size());
    m_line.append(data, std::min(room, size));
  }

  void emit() {
    std::string line;
    line.swap(m_line);
    m_pending = false;
    m_on_line(line);
    // Reuse the buffer for the next line unless a long line made it big.
    if (line.capacity() <= 4096) {
      line.clear();
      m_line.swap(line);
    }
  }

  const std::function<void(std::string_view)>& m_on_line;
  std::size_t m_max;
  std::string m_line;
  bool m_pending = false;  // a line has started (it may be empty after a cut at 0 bytes)
};

// The log file: the first head bytes go straight to disk; later bytes only into a ring, written
// after a cut marker when the child is done, because until then we cannot know what the tail is.
class Log {
 public:
  Log(std::uint64_t head_bytes, std::uint64_t tail_bytes)
      : m_head(head_bytes), m_tail(static_cast<std::size_t>(tail_bytes)) {}

  // Returns an error message, or empty when the log is open (or not wanted).
  std::string open(const std::filesystem::path& path) {
    m_path = path;
    if (path.empty()) return {};
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message());
    m_fd = Fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (!m_fd.valid()) return fmt::format("cannot open log {}: {}", path.string(), errno_text(errno));
    if (!lift_above_stdio(m_fd)) return fmt::format("cannot open log {}: {}", path.string(), errno_text(errno));
    return {};
  }

  void feed(const char* data, std::size_t size) {
    if (!m_fd.valid()) return;
    if (m_written < m_head) {
      std::size_t direct = static_cast<std::size_t>(std::min<std::uint64_t>(size, m_head - m_written));
      write(data, direct);
      m_written += direct;
      data += direct;
      size -= direct;
    }
    m_after_head += size;
    m_tail.append(data, size);
  }

  // Writes what the ring holds; returns true when bytes were omitted.
  bool finish() {
    if (!m_fd.valid()) return false;
    bool cut = m_after_head > m_tail.size();
    if (cut) {
      std::string marker =
          fmt::format("\n[autoresearch: output cut: {} bytes omitted]\n", m_after_head - m_tail.size());
      write(marker.data(), marker.size());
    }
    std::string tail = m_tail.str();
    write(tail.data(), tail.size());
    m_fd.reset();
    return cut;
  }

  // The first write error, if any (the run goes on without its log).
  const std::string& error() const { return m_error; }

 private:
  void write(const char* data, std::size_t size) {
    if (!m_error.empty() || size == 0) return;
    if (!write_all(m_fd.get(), data, size))
      m_error = fmt::format("cannot write log {}: {}", m_path.string(), errno_text(errno));
  }

  std::uint64_t m_head;
  Ring m_tail;
  std::filesystem::path m_path;
  Fd m_fd;
  std::uint64_t m_written = 0;
  std::uint64_t m_after_head = 0;
  std::string m_error;
};

// Kills and reaps the child if run() leaves early (an exception from on_line, bad_alloc), so no
// path out of run() leaves a zombie or a runaway group behind.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : m_pid(pid) {}
  ~ChildGuard() {
    if (!m_reaped) {
      ::kill(-m_pid, SIGKILL);
      ::kill(m_pid, SIGKILL);
      reap();
    }
  }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;

  pid_t pid() const { return m_pid; }
  bool reaped() const { return m_reaped; }
  int status() const { return m_status; }

  // True when the child has ended; it stays a zombie, so its pid (and so its process group id)
  // cannot be reused while we signal the group.
  bool has_ended() const {
    siginfo_t info{};
    for (;;) {
      if (::waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0)
        return info.si_pid == m_pid;
      if (errno != EINTR) return true;  // ECHILD: nothing left to wait for
    }
  }

  void reap() {
    for (;;) {
      pid_t got = ::waitpid(m_pid, &m_status, 0);
      if (got == m_pid) break;
      if (got < 0 && errno != EINTR) break;
    }
    m_reaped = true;
  }

 private:
  pid_t m_pid;
  bool m_reaped = false;
  int m_status = 0;
};

// What the child needs, all built before fork(): between fork and exec only async-signal-safe
// calls are allowed, and another thread may hold the malloc lock.
struct ChildPlan {
  std::vector<std::string> args;
  std::vector<char*> argv;
  std::vector<std::string> env_strings;
  std::vector<char*> envp;  // empty: inherit
  std::string cwd;
  bool path_lookup = false;
  pid_t parent = 0;
};

enum Stage : int { k_stage_setpgid = 1, k_stage_redirect = 2, k_stage_chdir = 3, k_stage_exec = 4 };

struct ChildReport {
  int stage = 0;
  int err = 0;
};

ChildPlan make_plan(const RunSpec& spec) {
  ChildPlan plan;
  if (!spec.command.empty()) {
    plan.args = {"/bin/sh", "-c", spec.command};
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
  return plan;
}

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
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2})
    ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // Our descriptors sit above 2 (lift_above_stdio), so these dup2 calls never overwrite a source.
  if (::dup2(stdin_fd, STDIN_FILENO) < 0 || ::dup2(out_fd, STDOUT_FILENO) < 0 || ::dup2(out_fd, STDERR_FILENO) < 0)
    fail(k_stage_redirect);
  if (!plan.cwd.empty() && ::chdir(plan.cwd.c_str()) != 0) fail(k_stage_chdir);
  if (!plan.envp.empty()) environ = const_cast<char**>(plan.envp.data());
  if (plan.path_lookup)
    ::execvp(plan.argv[0], plan.argv.data());
  else
    ::execv(plan.argv[0], plan.argv.data());
  fail(k_stage_exec);
  ::_exit(127);  // not reached; fail() does not return
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

int ceil_ms(Clock::duration d) {
  auto ms = std::chrono::ceil<milliseconds>(d).count();
  return static_cast<int>(std::clamp<decltype(ms)>(ms, 0, k_poll_step.count()));
}

}  // namespace

std::string Result::describe() const {
  switch (ending) {
    case Ending::exited:
      return fmt::format("exit {}", exit_code);
    case Ending::signaled:
      return fmt::format("killed by signal {}", signal);
    case Ending::timed_out:
      return seconds < 10 ? fmt::format("timed out after {:.1f}s", seconds)
                          : fmt::format("timed out after {:.0f}s", seconds);
    case Ending::interrupted:
      return "interrupted";
    case Ending::failed_to_start:
      return "could not start: " + error;
  }
  return "unknown ending";
}

int kill_by_token(const std::string& token) {
  if (token.empty()) return 0;
  const std::string needle = std::string(k_token_variable) + "=" + token;
  int killed = 0;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return 0;
  const pid_t self = ::getpid();
  std::vector<char> buf(256 * 1024);
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || pid <= 0 || pid == self) continue;
    std::string path = std::string("/proc/") + e->d_name + "/environ";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    std::size_t have = 0;
    for (;;) {
      ssize_t n = ::read(fd, buf.data() + have, buf.size() - have);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      have += static_cast<std::size_t>(n);
      if (have == buf.size()) break;
    }
    ::close(fd);
    // Entries are NUL-separated; match a whole entry.
    std::string_view env(buf.data(), have);
    std::size_t at = 0;
    while ((at = env.find(needle, at)) != std::string_view::npos) {
      bool starts = at == 0 || env[at - 1] == '\0';
      bool ends = at + needle.size() == env.size() || env[at + needle.size()] == '\0';
      if (starts && ends) {
        if (::kill(static_cast<pid_t>(pid), SIGKILL) == 0) ++killed;
        break;
      }
      at += needle.size();
    }
  }
  ::closedir(dir);
  return killed;
}

std::string new_stray_token() {
  unsigned char bytes[16];
  Fd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
  std::size_t got = 0;
  while (fd.valid() && got < sizeof bytes) {
    ssize_t n = ::read(fd.get(), bytes + got, sizeof bytes - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  std::string out;
  for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out + fmt::format("-{}", ::getpid());
}

Result run(const RunSpec& spec) {
  Result result;
  // Stopping before the start is cheaper and cleaner than starting a process only to kill it.
  if (spec.interrupt != nullptr && *spec.interrupt != 0) {
    result.ending = Ending::interrupted;
    return result;
  }
  if (spec.command.empty() && spec.argv.empty()) {
    result.error = "nothing to run (no command and no argv)";
    return result;
  }

  Log log(spec.log_head_bytes, spec.log_tail_bytes);
  if (auto error = log.open(spec.log_path); !error.empty()) {
    result.error = error;
    return result;
  }

  const ChildPlan plan = make_plan(spec);
  // stdin is /dev/null unless the caller hands the child a file to read (hooks get JSON).
  Fd dev_null(::open(spec.stdin_path.empty() ? "/dev/null" : spec.stdin_path.c_str(), O_RDONLY | O_CLOEXEC));
  Fd out_read, out_write, report_read, report_write;
  if (!dev_null.valid() || !lift_above_stdio(dev_null) || !make_pipe(out_read, out_write) ||
      !make_pipe(report_read, report_write)) {
    result.error = "cannot set up pipes: " + errno_text(errno);
    return result;
  }

  const auto start = Clock::now();
  pid_t pid = ::fork();
  if (pid < 0) {
    result.error = "fork: " + errno_text(errno);
    return result;
  }
  if (pid == 0) exec_child(plan, dev_null.get(), out_write.get(), report_write.get());

  ChildGuard child(pid);
  // Also set the group from here: whichever of the two runs first, the group exists before we
  // might signal it. EACCES (the child already exec'd) means the child did it itself.
  ::setpgid(pid, pid);
  if (spec.on_spawn) spec.on_spawn(pid);
  out_write.reset();
  report_write.reset();
  dev_null.reset();

  // The report pipe closes on exec (CLOEXEC); a report on it means the exec did not happen.
  ChildReport report;
  std::size_t got = 0;
  while (got < sizeof report) {
    ssize_t n = ::read(report_read.get(), reinterpret_cast<char*>(&report) + got, sizeof report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  report_read.reset();
  if (got == sizeof report) {
    child.reap();
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.error = describe_start_failure(report, plan);
    return result;
  }

  ::fcntl(out_read.get(), F_SETFL, ::fcntl(out_read.get(), F_GETFL) | O_NONBLOCK);
  Fd exit_fd = open_exit_fd(pid);

  Ring tail(spec.tail_bytes);
  LineSplitter lines(spec.on_line, spec.max_line_bytes);
  std::vector<char> buffer(k_read_chunk);

  enum class Stop { none, timeout, interrupt };
  Stop stop = Stop::none;
  const auto no_time = Clock::time_point::max();
  const auto deadline = spec.timeout.count() > 0 ? start + spec.timeout : no_time;
  auto kill_at = no_time;
  auto drain_until = no_time;
  milliseconds idle_step{1};

  for (;;) {
    const auto now = Clock::now();
    if (!child.reaped() && child.has_ended()) {
      // Whatever is left in the group is a leftover (an orderly benchmark has none); kill it while
      // the zombie leader still pins the group id.
      ::kill(-pid, SIGKILL);
      if (!spec.stray_token.empty()) kill_by_token(spec.stray_token);
      child.reap();
      result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      drain_until = now + spec.drain_after_exit;
    }
    if (!child.reaped()) {
      if (stop == Stop::none) {
        if (now >= deadline)
          stop = Stop::timeout;
        else if (spec.interrupt != nullptr && *spec.interrupt != 0)
          stop = Stop::interrupt;
        if (stop != Stop::none) {
          ::kill(-pid, SIGTERM);
          // A person waiting on Ctrl-C gets a shorter grace than a timed-out benchmark.
          kill_at = now + (stop == Stop::interrupt ? std::min(spec.kill_grace, spec.interrupt_grace) : spec.kill_grace);
        }
      }
      if (now >= kill_at) {
        ::kill(-pid, SIGKILL);
        if (!spec.stray_token.empty()) kill_by_token(spec.stray_token);
        kill_at = no_time;
      }
    }
    if (child.reaped() && (!out_read.valid() || now >= drain_until)) break;

    auto next = std::min({now + k_poll_step, stop == Stop::none ? deadline : no_time, kill_at, drain_until});
    int wait_ms = ceil_ms(next - now);

    pollfd fds[2];
    nfds_t count = 0;
    if (out_read.valid()) fds[count++] = {out_read.get(), POLLIN, 0};
    if (exit_fd.valid() && !child.reaped()) fds[count++] = {exit_fd.get(), POLLIN, 0};
    if (count == 0) {
      // The child closed its output and we cannot wait on its exit: sleep in short, growing
      // steps, since the exit usually follows the EOF closely.
      ::poll(nullptr, 0, std::min(wait_ms, static_cast<int>(idle_step.count())));
      idle_step = std::min(idle_step * 2, milliseconds(50));
      continue;
    }
    // A timeout, EINTR or the exit descriptor alone: go round and look at the child, the clock
    // and the flag.
    if (::poll(fds, count, wait_ms) <= 0 || !out_read.valid() || fds[0].revents == 0) continue;
    for (int i = 0; i < k_reads_per_wakeup; ++i) {
      ssize_t n = ::read(out_read.get(), buffer.data(), buffer.size());
      if (n > 0) {
        auto size = static_cast<std::size_t>(n);
        result.output_bytes += size;
        log.feed(buffer.data(), size);
        tail.append(buffer.data(), size);
        lines.feed(buffer.data(), size);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && result.error.empty()) result.error = "reading output: " + errno_text(errno);
      out_read.reset();  // EOF (or a read error we cannot recover from)
      break;
    }
  }
  // Past drain_after_exit a process outside the group may still hold the pipe; we stop listening.
  out_read.reset();
  if (!spec.stray_token.empty()) kill_by_token(spec.stray_token);

  lines.finish();
  result.log_cut = log.finish();
  if (result.error.empty()) result.error = log.error();
  result.tail = tail.str();

  const int status = child.status();
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  if (stop == Stop::timeout)
    result.ending = Ending::timed_out;
  else if (stop == Stop::interrupt)
    result.ending = Ending::interrupted;
  else if (WIFSIGNALED(status))
    result.ending = Ending::signaled;
  else
    result.ending = Ending::exited;
  return result;
}

}  // namespace ar::proc
