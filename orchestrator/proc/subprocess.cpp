// run(): the loop that watches one child: reads its output into the sinks of capture.hpp,
// enforces the deadline and the interrupt flag, and decides how the run ended. Spawning is in
// spawn.cpp, stray killing in stray.cpp; this file only sequences them.

#include "proc/subprocess.hpp"

#include "proc/capture.hpp"
#include "proc/fd.hpp"
#include "proc/live.hpp"
#include "proc/spawn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ar::proc {

using namespace detail;

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

int ceil_ms(Clock::duration d) {
  auto ms = std::chrono::ceil<milliseconds>(d).count();
  return static_cast<int>(std::clamp<decltype(ms)>(ms, 0, k_poll_step.count()));
}

}  // namespace

std::string Result::describe() const {
  const std::string why = hint.empty() ? "" : " (" + hint + ")";
  switch (ending) {
    case Ending::exited:
      return fmt::format("exit {}{}", exit_code, why);
    case Ending::signaled:
      return fmt::format("killed by signal {}{}", signal, why);
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

Result run(const RunSpec& spec) {
  Result result;
  // Stopping before the start is cheaper and cleaner than starting a process only to kill it.
  const auto stopped = [&spec] {
    return (spec.interrupt != nullptr && *spec.interrupt != 0) || (spec.cancel != nullptr && spec.cancel->load());
  };
  if (stopped()) {
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
  detail::LiveChild live;  // outlives `child` below: unregistered only once reaped
  pid_t pid = -1;
  {
    std::unique_lock<std::mutex> lock = detail::lock_live_to_spawn();
    pid = spawn_child(plan, dev_null.get(), out_write.get(), report_write.get());
    if (pid > 0) live.set(pid);
  }
  if (pid < 0) {
    result.error = "clone: " + errno_text(errno);
    return result;
  }

  ChildGuard child(pid);
  // Also set the group from here: whichever of the two runs first, the group exists before we
  // might signal it. EACCES (the child already exec'd) means the child did it itself.
  ::setpgid(pid, pid);
  if (spec.on_spawn) spec.on_spawn(pid);
  out_write.reset();
  report_write.reset();
  dev_null.reset();
  const auto seconds_since_start = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  // The group, and whatever left it (see sweep_leftovers; kill_by_token ignores "").
  const auto kill_everything = [&] {
    ::kill(-pid, SIGKILL);
    sweep_leftovers(spec.stray_token, pid);
  };

  // The report pipe closes on exec (CLOEXEC); a report on it means the exec did not happen.
  ChildReport report;
  const bool exec_failed = read_full(report_read.get(), &report, sizeof report) == sizeof report;
  report_read.reset();
  if (exec_failed) {
    child.reap();
    result.seconds = seconds_since_start();
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
  const auto first_deadline = spec.timeout.count() > 0 ? start + spec.timeout : no_time;
  // Time stopped by another thread's PauseOthers does not count (executor slots).
  const double paused_at_start = detail::paused_seconds();
  auto deadline = first_deadline;
  auto kill_at = no_time;
  auto drain_until = no_time;
  milliseconds idle_step{1};

  for (;;) {
    const auto now = Clock::now();
    if (first_deadline != no_time) {
      deadline = first_deadline + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(detail::paused_seconds() - paused_at_start));
    }
    if (!child.reaped() && child.has_ended()) {
      // Whatever is left in the group is a leftover (an orderly benchmark has none); kill it while
      // the zombie leader still pins the group id.
      kill_everything();
      child.reap();
      result.seconds = seconds_since_start();
      drain_until = now + spec.drain_after_exit;
    }
    if (!child.reaped()) {
      if (stop == Stop::none) {
        if (now >= deadline)
          stop = Stop::timeout;
        else if (stopped())
          stop = Stop::interrupt;
        if (stop != Stop::none) {
          ::kill(-pid, SIGTERM);
          // A person waiting on Ctrl-C gets a shorter grace than a timed-out benchmark.
          kill_at = now + (stop == Stop::interrupt ? std::min(spec.kill_grace, spec.interrupt_grace) : spec.kill_grace);
        }
      }
      if (now >= kill_at) {
        kill_everything();
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
  sweep_leftovers(spec.stray_token, pid);

  lines.finish();
  result.log_cut = log.finish();
  if (result.error.empty()) result.error = log.error();
  result.tail = tail.str();

  const int status = child.status();
  result.cpu_seconds = child.cpu_seconds();
  result.cpu = child.last_cpu();
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
