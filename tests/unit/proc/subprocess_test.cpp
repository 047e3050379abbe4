#include "proc/subprocess.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sched.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace ar::proc {
namespace {

using namespace std::chrono_literals;
using ar::test::read_text;
using ar::test::TempDir;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

RunSpec shell(const std::string& command) {
  RunSpec spec;
  spec.command = command;
  spec.kill_grace = 500ms;
  spec.drain_after_exit = 500ms;
  return spec;
}

// Collects on_line calls into a vector owned by the test.
void collect_lines(RunSpec& spec, std::vector<std::string>& lines) {
  spec.on_line = [&lines](std::string_view line) { lines.emplace_back(line); };
}

// The number after "<key>=" on some line of `text`, or -1.
long value_after(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + "=", 0) == 0) return std::stol(line.substr(key.size() + 1));
  return -1;
}

// True while some live (non-zombie) process belongs to process group `pgid`. Zombies are left out
// because a container's pid 1 may never reap the orphans we killed.
bool group_has_live_process(long pgid) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    char state = 0;
    long ppid = 0, pgrp = 0;
    fields >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != 'Z' && state != 'X') return true;
  }
  return false;
}

bool group_gone_within(long pgid, std::chrono::milliseconds limit) {
  auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (!group_has_live_process(pgid)) return true;
    std::this_thread::sleep_for(20ms);
  }
  return !group_has_live_process(pgid);
}

TEST(SubprocessExit, ZeroIsOk) {
  Result r = run(shell("true"));
  EXPECT_EQ(r.ending, Ending::exited);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.describe(), "exit 0");
  EXPECT_EQ(r.output_bytes, 0u);
  EXPECT_EQ(r.tail, "");
  EXPECT_GE(r.seconds, 0.0);
  EXPECT_LT(r.seconds, 5.0);
}

TEST(SubprocessUsage, CpuTimeAndTheCpuItRanOn) {
  // A shell loop that burns about 0.2 s of CPU in a child it waits for: wait4's rusage counts it.
  Result r = run(shell("i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sh -c 'i=0; while [ $i -lt 100000 ]; "
                       "do i=$((i+1)); done'"));
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_GT(r.cpu_seconds, 0.05);
  EXPECT_LE(r.cpu_seconds, r.seconds * 2 + 0.05) << "at most the cores it had";
  EXPECT_GE(r.cpu, 0);
  EXPECT_LT(r.cpu, 4096);
}

TEST(SubprocessUsage, TheChildRunsOnTheCpusItWasGiven) {
  cpu_set_t mine;
  CPU_ZERO(&mine);
  ASSERT_EQ(::sched_getaffinity(0, sizeof mine, &mine), 0);
  int first = 0;
  while (!CPU_ISSET(first, &mine)) ++first;
  RunSpec spec = shell("grep Cpus_allowed_list /proc/self/status");
  spec.cpus = {first};
  std::vector<std::string> lines;
  collect_lines(spec, lines);
  Result r = run(spec);
  ASSERT_TRUE(r.ok()) << r.describe() << r.tail;
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "Cpus_allowed_list:\t" + std::to_string(first));
  EXPECT_EQ(r.cpu, first) << "it last ran on the one CPU it had";
  // A CPU it may not use fails the start, naming the setting.
  spec.cpus = {CPU_SETSIZE - 1};
  Result bad = run(spec);
  if (!CPU_ISSET(CPU_SETSIZE - 1, &mine)) {
    EXPECT_EQ(bad.ending, Ending::failed_to_start);
    EXPECT_NE(bad.error.find("benchmark.cpus"), std::string::npos) << bad.error;
  }
}

TEST(SubprocessExit, CodePropagates) {
  Result r = run(shell("exit 3"));
  EXPECT_EQ(r.ending, Ending::exited);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.describe(), "exit 3");
}

TEST(SubprocessExit, ArgvModeRunsWithoutShell) {
  RunSpec spec;
  spec.argv = {"printf", "%s|%s\\n", "a b", "$HOME"};  // no shell: no splitting, no expansion
  Result r = run(spec);
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.tail, "a b|$HOME\n");
}

TEST(SubprocessExit, MissingShellProgramIsExit127) {
  Result r = run(shell("autoresearch-no-such-program-xyz"));
  EXPECT_EQ(r.ending, Ending::exited);
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.tail.find("not found"), std::string::npos) << r.tail;
}

TEST(SubprocessExit, KilledBySignal) {
  Result r = run(shell("ulimit -c 0; kill -SEGV $$"));
  EXPECT_EQ(r.ending, Ending::signaled);
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.describe(), "killed by signal 11");
}

TEST(SubprocessStart, MissingProgramInArgvMode) {
  for (const std::string program : {"autoresearch-no-such-program-xyz", "/nonexistent/dir/prog"}) {
    RunSpec spec;
    spec.argv = {program, "--flag"};
    Result r = run(spec);
    EXPECT_EQ(r.ending, Ending::failed_to_start) << program;
    EXPECT_NE(r.error.find("No such file or directory"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find(program), std::string::npos) << r.error;
    EXPECT_EQ(r.describe().rfind("could not start: ", 0), 0u) << r.describe();
    EXPECT_FALSE(r.ok());
  }
}

TEST(SubprocessStart, NotExecutableInArgvMode) {
  TempDir dir;
  ar::test::write_text(dir / "script", "#!/bin/sh\necho hi\n");  // mode 0644
  RunSpec spec;
  spec.argv = {(dir / "script").string()};
  Result r = run(spec);
  EXPECT_EQ(r.ending, Ending::failed_to_start);
  EXPECT_NE(r.error.find("Permission denied"), std::string::npos) << r.error;
}

TEST(SubprocessStart, MissingCwd) {
  TempDir dir;
  RunSpec spec = shell("echo should-not-run");
  spec.cwd = dir / "missing";
  Result r = run(spec);
  EXPECT_EQ(r.ending, Ending::failed_to_start);
  EXPECT_NE(r.error.find((dir / "missing").string()), std::string::npos) << r.error;
  EXPECT_EQ(r.output_bytes, 0u);
}

TEST(SubprocessStart, NothingToRun) {
  Result r = run(RunSpec{});
  EXPECT_EQ(r.ending, Ending::failed_to_start);
  EXPECT_FALSE(r.error.empty());
}

TEST(SubprocessStart, UnwritableLogFailsBeforeStarting) {
  TempDir dir;
  ar::test::write_text(dir / "file", "x");
  RunSpec spec = shell("touch " + ar::test::shell_quote((dir / "ran").string()));
  spec.log_path = dir / "file" / "sub" / "out.log";  // a parent is a regular file
  Result r = run(spec);
  EXPECT_EQ(r.ending, Ending::failed_to_start);
  EXPECT_FALSE(r.error.empty());
  EXPECT_FALSE(std::filesystem::exists(dir / "ran"));
}

TEST(SubprocessEnvironment, CwdAndEnvHonoured) {
  TempDir dir;
  std::filesystem::create_directories(dir / "work");
  RunSpec spec = shell("pwd -P; echo \"v=$AR_TEST_VALUE\"; echo \"home=$HOME\"; echo \"path=${PATH:+set}\"");
  spec.cwd = dir / "work";
  spec.env = {{"AR_TEST_VALUE", "hello world"}, {"HOME", "/nowhere"}};
  std::vector<std::string> lines;
  collect_lines(spec, lines);
  Result r = run(spec);
  ASSERT_TRUE(r.ok()) << r.describe() << "\n" << r.tail;
  ASSERT_EQ(lines.size(), 4u) << r.tail;
  EXPECT_EQ(lines[0], std::filesystem::canonical(dir / "work").string());
  EXPECT_EQ(lines[1], "v=hello world");
  EXPECT_EQ(lines[2], "home=/nowhere");
  EXPECT_EQ(lines[3], "path=set");  // the rest of the environment is inherited
}

TEST(SubprocessEnvironment, EnvInArgvModeOverridesWithoutDuplicates) {
  RunSpec spec;
  spec.argv = {"env"};
  spec.env = {{"HOME", "/override"}, {"AR_TEST_NEW", "1"}};
  std::vector<std::string> lines;
  collect_lines(spec, lines);
  Result r = run(spec);
  ASSERT_TRUE(r.ok()) << r.describe();
  int homes = 0;
  bool saw_new = false;
  for (const auto& line : lines) {
    if (line.rfind("HOME=", 0) == 0) {
      ++homes;
      EXPECT_EQ(line, "HOME=/override");
    }
    if (line == "AR_TEST_NEW=1") saw_new = true;
  }
  EXPECT_EQ(homes, 1);
  EXPECT_TRUE(saw_new);
}

TEST(SubprocessEnvironment, StdinIsDevNull) {
  RunSpec spec = shell("cat; echo \"cat=$?\"");
  spec.timeout = 5s;
  auto start = Clock::now();
  Result r = run(spec);
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.tail, "cat=0\n");
  EXPECT_LT(seconds_since(start), 2.0);

  RunSpec link;
  link.argv = {"readlink", "/proc/self/fd/0"};
  Result l = run(link);
  EXPECT_EQ(l.tail, "/dev/null\n");
}

TEST(SubprocessEnvironment, OwnProcessGroup) {
  RunSpec spec = shell("echo \"pid=$$\"; cut -d' ' -f5 /proc/$$/stat");
  Result r = run(spec);
  ASSERT_TRUE(r.ok()) << r.tail;
  long pid = value_after(r.tail, "pid");
  ASSERT_GT(pid, 0);
  EXPECT_NE(r.tail.find("\n" + std::to_string(pid) + "\n"), std::string::npos) << r.tail;
  EXPECT_NE(pid, static_cast<long>(getpgrp()));
}

TEST(SubprocessEnvironment, OurDescriptorsDoNotLeak) {
  TempDir dir;
  // List every descriptor of the shell with its target; only 1 and 2 may be the output pipe, and
  // the log file must not be open in the child at all.
  RunSpec spec = shell("for f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink $f)\"; done");
  spec.log_path = dir / "out.log";
  std::vector<std::string> lines;
  collect_lines(spec, lines);
  Result r = run(spec);
  ASSERT_TRUE(r.ok()) << r.tail;
  std::string pipe_target;
  for (const auto& line : lines)
    if (line.rfind("1 ", 0) == 0) pipe_target = line.substr(2);
  ASSERT_EQ(pipe_target.rfind("pipe:", 0), 0u) << r.tail;
  int pipe_fds = 0;
  for (const auto& line : lines) {
    EXPECT_EQ(line.find("out.log"), std::string::npos) << line;
    if (line.size() > pipe_target.size() &&
        line.compare(line.size() - pipe_target.size(), std::string::npos, pipe_target) == 0)
      ++pipe_fds;
  }
  EXPECT_EQ(pipe_fds, 2) << r.tail;
}

TEST(SubprocessEnvironment, SignalsStartAtDefaults) {
  // An ignored SIGPIPE in the parent would survive exec and make `yes | head` spin on EPIPE.
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, &old);
  RunSpec spec;
  spec.argv = {"grep", "^SigIgn:", "/proc/self/status"};
  Result r = run(spec);
  sigaction(SIGPIPE, &old, nullptr);
  ASSERT_TRUE(r.ok()) << r.tail;
  auto mask = std::stoull(r.tail.substr(r.tail.find(':') + 1), nullptr, 16);
  EXPECT_EQ(mask & (1ull << (SIGPIPE - 1)), 0u) << r.tail;
}

TEST(SubprocessOutput, LogAndTailCaptureStdoutAndStderrInOrder) {
  TempDir dir;
  RunSpec spec = shell("echo one; echo two >&2; printf three");
  spec.log_path = dir / "logs" / "nested" / "run.log";
  Result r = run(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.tail, "one\ntwo\nthree");
  EXPECT_EQ(r.output_bytes, 13u);
  EXPECT_FALSE(r.log_cut);
  EXPECT_EQ(read_text(spec.log_path), "one\ntwo\nthree");

  // The log is appended to, not replaced.
  spec.command = "echo four";
  Result again = run(spec);
  EXPECT_TRUE(again.ok());
  EXPECT_EQ(read_text(spec.log_path), "one\ntwo\nthreefour\n");
}

TEST(SubprocessOutput, TailKeepsTheLastBytes) {
  RunSpec spec = shell("seq 1 1000");
  spec.tail_bytes = 10;
  Result r = run(spec);
  EXPECT_EQ(r.tail, "\n999\n1000\n");
  EXPECT_EQ(r.output_bytes, 3893u);
}

TEST(SubprocessOutput, EveryLineReachesOnLineIncludingTheUnterminatedLast) {
  RunSpec spec = shell("echo first; echo; echo 'METRIC x=1' >&2; printf 'no newline'");
  std::vector<std::string> lines;
  collect_lines(spec, lines);
  Result r = run(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(lines, (std::vector<std::string>{"first", "", "METRIC x=1", "no newline"}));
}

TEST(SubprocessOutput, LongLineIsCutForOnLineButLoggedWhole) {
  TempDir dir;
  RunSpec spec = shell("printf '%0500d\\n' 0; echo after; printf '%0300d' 7");
  spec.max_line_bytes = 100;
  spec.log_path = dir / "run.log";
  std::vector<std::string> lines;
  collect_lines(spec, lines);
  Result r = run(spec);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], std::string(100, '0'));
  EXPECT_EQ(lines[1], "after");
  EXPECT_EQ(lines[2], std::string(100, '0'));
  EXPECT_EQ(read_text(spec.log_path), std::string(500, '0') + "\nafter\n" + std::string(299, '0') + "7");
}

TEST(SubprocessOutput, LargerThanAPipeBufferIsFullyLogged) {
  TempDir dir;
  RunSpec spec = shell("seq 1 1000000");  // 6.9 MB
  spec.log_path = dir / "run.log";
  spec.tail_bytes = 1024;
  long count = 0;
  std::string last;
  spec.on_line = [&](std::string_view line) {
    ++count;
    last = line;
  };
  Result r = run(spec);
  ASSERT_TRUE(r.ok()) << r.describe();
  std::string expected;
  for (int i = 1; i <= 1000000; ++i) expected += std::to_string(i) + "\n";
  EXPECT_EQ(r.output_bytes, expected.size());
  EXPECT_FALSE(r.log_cut);
  EXPECT_TRUE(read_text(spec.log_path) == expected) << "log differs from the output";
  EXPECT_EQ(r.tail, expected.substr(expected.size() - 1024));
  EXPECT_EQ(count, 1000000);
  EXPECT_EQ(last, "1000000");
}

TEST(SubprocessOutput, BetweenHeadAndHeadPlusTailIsNotCut) {
  TempDir dir;
  RunSpec spec = shell("printf '%01500d' 0");
  spec.log_path = dir / "run.log";
  spec.log_head_bytes = 1000;
  spec.log_tail_bytes = 1000;
  Result r = run(spec);
  EXPECT_FALSE(r.log_cut);
  EXPECT_EQ(read_text(spec.log_path), std::string(1500, '0'));
}

TEST(SubprocessOutput, HugeOutputIsCutWithBoundedMemory) {
  TempDir dir;
  constexpr std::uint64_t k_bulk = 200'000'000;
  RunSpec spec = shell("echo start; yes \"$(printf '%0999d' 0)\" | head -c " + std::to_string(k_bulk) +
                       "; echo; echo 'METRIC score=42'");
  spec.timeout = 60s;
  spec.log_path = dir / "run.log";
  spec.log_head_bytes = 64 << 10;
  spec.log_tail_bytes = 32 << 10;
  spec.tail_bytes = 1024;
  long count = 0;
  std::string metric_line;
  spec.on_line = [&](std::string_view line) {
    ++count;
    if (line.rfind("METRIC ", 0) == 0) metric_line = line;
  };
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  Result r = run(spec);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);

  ASSERT_TRUE(r.ok()) << r.describe();
  const std::uint64_t total = 6 + k_bulk + 1 + 16;
  EXPECT_EQ(r.output_bytes, total);
  EXPECT_TRUE(r.log_cut);
  EXPECT_EQ(metric_line, "METRIC score=42");
  // "start", the bulk (whole 1000-byte lines), the empty line from `echo`, the METRIC line.
  EXPECT_EQ(count, 1 + static_cast<long>(k_bulk / 1000) + 1 + 1);
  EXPECT_EQ(r.tail.size(), 1024u);
  EXPECT_EQ(r.tail.substr(r.tail.size() - 17), "\nMETRIC score=42\n");

  const std::string log = read_text(spec.log_path);
  const std::string marker =
      "\n[autoresearch: output cut: " + std::to_string(total - (64 << 10) - (32 << 10)) + " bytes omitted]\n";
  EXPECT_EQ(log.size(), (64u << 10) + marker.size() + (32u << 10));
  EXPECT_EQ(log.rfind("start\n0000", 0), 0u);
  EXPECT_EQ(log.substr(64 << 10, marker.size()), marker);
  EXPECT_EQ(log.substr(log.size() - 17), "\nMETRIC score=42\n");
  // Holding the output would have grown the peak RSS by 200 MB (ru_maxrss is in KiB).
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 32 * 1024);
}

TEST(SubprocessDeadline, TimeoutStopsASleeper) {
  RunSpec spec = shell("echo \"pgid=$$\"; sleep 30");
  spec.timeout = 300ms;
  auto start = Clock::now();
  Result r = run(spec);
  double took = seconds_since(start);
  EXPECT_EQ(r.ending, Ending::timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_GE(took, 0.29);
  EXPECT_LT(took, 0.3 + 0.5);  // SIGTERM was enough: no grace needed
  EXPECT_EQ(r.describe().rfind("timed out after ", 0), 0u) << r.describe();
  long pgid = value_after(r.tail, "pgid");
  ASSERT_GT(pgid, 0);
  EXPECT_TRUE(group_gone_within(pgid, 2s));
}

TEST(SubprocessDeadline, IgnoredTermGetsKillAfterGrace) {
  RunSpec spec = shell("trap '' TERM; echo \"pgid=$$\"; sleep 30; echo survived");
  spec.timeout = 300ms;
  spec.kill_grace = 400ms;
  auto start = Clock::now();
  Result r = run(spec);
  double took = seconds_since(start);
  EXPECT_EQ(r.ending, Ending::timed_out);
  EXPECT_GE(took, 0.65);
  EXPECT_LT(took, 2.0);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_EQ(r.tail.find("survived"), std::string::npos);
  long pgid = value_after(r.tail, "pgid");
  ASSERT_GT(pgid, 0);
  EXPECT_TRUE(group_gone_within(pgid, 2s));
}

TEST(SubprocessDeadline, TimeoutWithClosedOutput) {
  RunSpec spec = shell("exec >/dev/null 2>&1; sleep 30");
  spec.timeout = 300ms;
  auto start = Clock::now();
  Result r = run(spec);
  EXPECT_EQ(r.ending, Ending::timed_out);
  EXPECT_LT(seconds_since(start), 1.5);
}

TEST(SubprocessDeadline, ClosedOutputThenNormalExit) {
  RunSpec spec = shell("echo bye; exec >/dev/null 2>&1; sleep 0.3; exit 4");
  auto start = Clock::now();
  Result r = run(spec);
  EXPECT_EQ(r.ending, Ending::exited);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.tail, "bye\n");
  double took = seconds_since(start);
  EXPECT_GE(took, 0.29);
  EXPECT_LT(took, 1.0);
}

TEST(SubprocessDeadline, ZeroTimeoutMeansNoDeadline) {
  RunSpec spec = shell("sleep 0.3; echo done");
  spec.timeout = 0ms;
  Result r = run(spec);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.tail, "done\n");
}

TEST(SubprocessLeftovers, BackgroundChildInGroupIsKilled) {
  RunSpec spec = shell("echo \"pgid=$$\"; sleep 30 & echo done");
  spec.drain_after_exit = 2s;
  std::vector<std::string> lines;
  collect_lines(spec, lines);
  auto start = Clock::now();
  Result r = run(spec);
  // The sleep holds the pipe, but it is killed with the group, so EOF comes at once.
  EXPECT_LT(seconds_since(start), 1.0);
  EXPECT_TRUE(r.ok()) << r.describe();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "done");
  long pgid = value_after(r.tail, "pgid");
  ASSERT_GT(pgid, 0);
  EXPECT_TRUE(group_gone_within(pgid, 2s));
}

TEST(SubprocessLeftovers, GrandchildThatLeftTheGroupCannotHangUs) {
  // setsid takes the grandchild out of the group, out of reach of the group kill, and it keeps
  // the pipe open; run() must give up on the pipe after drain_after_exit.
  RunSpec spec = shell(
      "echo \"pgid=$$\"; (setsid sh -c 'echo \"gc=$$\"; exec sleep 30' &); "
      "sleep 0.2; echo done");
  spec.drain_after_exit = 500ms;
  auto start = Clock::now();
  Result r = run(spec);
  double took = seconds_since(start);
  long grandchild = value_after(r.tail, "gc");
  if (grandchild > 0) ::kill(static_cast<pid_t>(grandchild), SIGKILL);
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_GE(took, 0.2 + 0.45);
  EXPECT_LT(took, 0.2 + 0.5 + 1.0);
  EXPECT_NE(r.tail.find("done\n"), std::string::npos) << r.tail;
  ASSERT_GT(grandchild, 0) << r.tail;
  long pgid = value_after(r.tail, "pgid");
  ASSERT_GT(pgid, 0);
  EXPECT_TRUE(group_gone_within(pgid, 2s));
}

TEST(SubprocessInterrupt, PresetFlagStartsNothing) {
  TempDir dir;
  volatile std::sig_atomic_t flag = SIGINT;
  RunSpec spec = shell("touch " + ar::test::shell_quote((dir / "ran").string()));
  spec.interrupt = &flag;
  Result r = run(spec);
  EXPECT_EQ(r.ending, Ending::interrupted);
  EXPECT_EQ(r.describe(), "interrupted");
  EXPECT_FALSE(std::filesystem::exists(dir / "ran"));
}

TEST(SubprocessInterrupt, FlagSetWhileRunningStopsTheGroup) {
  volatile std::sig_atomic_t flag = 0;
  RunSpec spec = shell("echo \"pgid=$$\"; sleep 30 & echo ready; wait");
  spec.interrupt = &flag;
  // Set the flag from inside the read loop, as a signal handler would between two polls.
  spec.on_line = [&flag](std::string_view line) {
    if (line == "ready") flag = SIGINT;
  };
  auto start = Clock::now();
  Result r = run(spec);
  EXPECT_EQ(r.ending, Ending::interrupted);
  EXPECT_LT(seconds_since(start), 1.0);
  long pgid = value_after(r.tail, "pgid");
  ASSERT_GT(pgid, 0);
  EXPECT_TRUE(group_gone_within(pgid, 2s));
}

TEST(SubprocessInterrupt, FlagSetFromAnotherThreadEscalatesToKill) {
  volatile std::sig_atomic_t flag = 0;
  RunSpec spec = shell("trap '' TERM; echo ready; sleep 30");
  spec.interrupt = &flag;
  spec.kill_grace = 300ms;
  std::thread setter([&flag] {
    std::this_thread::sleep_for(200ms);
    flag = SIGTERM;
  });
  auto start = Clock::now();
  Result r = run(spec);
  double took = seconds_since(start);
  setter.join();
  EXPECT_EQ(r.ending, Ending::interrupted);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_GE(took, 0.45);
  EXPECT_LT(took, 1.5);
}

TEST(SubprocessRobustness, ExceptionFromOnLineStillReapsTheGroup) {
  RunSpec spec = shell("echo \"pgid=$$\"; sleep 30");
  long pgid = -1;
  spec.on_line = [&pgid](std::string_view line) {
    pgid = std::stol(std::string(line.substr(5)));
    throw std::runtime_error("callback failed");
  };
  auto start = Clock::now();
  EXPECT_THROW(run(spec), std::runtime_error);
  EXPECT_LT(seconds_since(start), 2.0);
  ASSERT_GT(pgid, 0);
  EXPECT_TRUE(group_gone_within(pgid, 2s));
}

}  // namespace
}  // namespace ar::proc

namespace ar::proc {
namespace {

using namespace std::chrono_literals;

// Executor slots run commands from several threads: the sweep after one command must leave the
// commands other threads are running alone (it used to kill every child but its own).
TEST(SubprocessThreads, ASweepLeavesAnotherThreadsCommandAlone) {
  ASSERT_TRUE(become_subreaper());
  Result other;
  std::thread t([&other] {
    RunSpec spec;
    spec.command = "sleep 1; exit 3";
    other = run(spec);
  });
  std::this_thread::sleep_for(200ms);
  for (int i = 0; i < 5; ++i) {
    RunSpec quick;
    quick.command = "true";
    EXPECT_TRUE(run(quick).ok());
  }
  t.join();
  EXPECT_EQ(other.ending, Ending::exited) << other.describe();
  EXPECT_EQ(other.exit_code, 3);
}

// PauseOthers stops what other threads run (a `sleep 0.5` cannot end while stopped) and the time
// stopped does not count towards their timeout.
TEST(SubprocessThreads, PauseOthersStopsOtherThreadsCommandsAndExtendsTheirDeadlines) {
  Result other;
  std::thread t([&other] {
    RunSpec spec;
    spec.command = "sleep 0.5";
    spec.timeout = 1s;
    other = run(spec);
  });
  std::this_thread::sleep_for(200ms);
  {
    PauseOthers pause;
    std::this_thread::sleep_for(1200ms);
  }
  t.join();
  EXPECT_EQ(other.ending, Ending::exited) << other.describe();
  EXPECT_TRUE(other.ok());
  EXPECT_GE(other.seconds, 1.3) << "it ran on while paused";
}

}  // namespace
}  // namespace ar::proc
