// Every descendant dies with its command (issue 10, item 2): daemons that leave the process group
// (setsid), double-fork, and drop the run token (`env -i`) are still found and killed, because the
// loop is a child subreaper. Through the built binary on a real repository.

#include "e2e/e2e_support.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

namespace ar::test {
namespace {

namespace fs = std::filesystem;

TEST(ReaperE2E, DaemonsThatScrubTheirEnvironmentDieWithTheirCommand) {
  TempDir tmp("autoresearch-reaper");
  FixtureRepo repo(tmp.path());
  // A marker no other process on the machine has.
  std::string marker = "300." + std::to_string(::getpid());
  std::string bench = read_text(repo.root / "bench.sh");
  std::string daemons = "env -i setsid sh -c 'exec sleep " + marker + "' </dev/null >/dev/null 2>&1 &\n" +
                        "( ( env -i sleep " + marker + " </dev/null >/dev/null 2>&1 & ) & )\n";
  write_text(repo.root / "bench.sh", "#!/bin/sh\n" + daemons + bench.substr(bench.find('\n') + 1));
  git(repo.root, "commit -qam daemons");
  repo.queue_change("01-faster.patch", "Title: Faster", "speed.txt", "0.9\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -qm queue");

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_EQ(repo.records().size(), 1u);
  std::string left;
  shell("pgrep -f 'slee[p] " + marker + "' || true", &left);  // [p]: not the shell itself
  EXPECT_EQ(left, "") << "daemons outlived their benchmark runs";
  shell("pkill -f 'slee[p] " + marker + "' || true");
}

}  // namespace
}  // namespace ar::test
