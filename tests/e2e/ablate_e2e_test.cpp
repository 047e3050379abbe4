// `autoresearch ablate` (issue 13, item 7): each keep reverted from the final best and measured
// against it with the loop's rule, through the built binary on a real repository whose benchmark
// computes its metric from file contents, so every verdict is known in advance.

#include "e2e/e2e_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <chrono>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ar::test {
namespace {

namespace fs = std::filesystem;

// score = (mode.txt is "fast" ? 10 : a.txt) + b.txt + c.txt, times a jitter of at most +-0.2%
// drawn from the run number: no run-to-run noise beyond it, so effects are exact to 0.4%.
struct AblateFixture {
  TempDir tmp{"autoresearch-ablate"};
  FixtureRepo repo{tmp.path()};

  AblateFixture() {
    write_text(repo.root / "a.txt", "40\n");
    write_text(repo.root / "b.txt", "30\n");
    write_text(repo.root / "c.txt", "30\n");
    write_text(repo.root / "mode.txt", "slow\n");
    write_text(repo.root / "bench.sh",
               "#!/bin/sh\n"
               "n=$(cat \"$COUNTER\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$COUNTER\"\n"
               "[ -f \"$COUNTER.slow\" ] && sleep 0.2\n"
               "a=$(cat a.txt); [ \"$(cat mode.txt)\" = fast ] && a=10\n"
               "awk -v a=\"$a\" -v b=\"$(cat b.txt)\" -v c=\"$(cat c.txt)\" -v n=\"$n\" "
               "'BEGIN{printf \"METRIC score=%.6f\\n\", (a+b+c)*(1+0.002*(n%3-1))}'\n");
    git(repo.root, "add -A");
    git(repo.root, "commit -qm 'deterministic benchmark'");
    // Each patch is written against the best commit of its time (all are kept, in this order).
    queue("01-a.patch", "Smaller a", "a only counts in slow mode", "a.txt", "40", "30");
    queue("02-b.patch", "Smaller b", "b always counts", "b.txt", "30", "20");
    queue("03-c.patch", "Smaller c", "c always counts", "c.txt", "30", "25");
    queue("04-fast.patch", "Fast mode", "fast mode ignores a", "mode.txt", "slow", "fast");
    queue("05-c-again.patch", "Smaller c again", "the same line as experiment 3", "c.txt", "25", "15");
    git(repo.root, "add -A");
    git(repo.root, "commit -qm queue");
  }

  void queue(const std::string& name, const std::string& title, const std::string& mechanism, const std::string& file,
             const std::string& from, const std::string& to) {
    repo.queue_raw(name, "Title: " + title + "\nMechanism: " + mechanism + "\n\ndiff --git a/" + file + " b/" + file +
                             "\n--- a/" + file + "\n+++ b/" + file + "\n@@ -1 +1 @@\n-" + from + "\n+" + to + "\n");
  }

  std::vector<nlohmann::json> ablations() const {
    std::vector<nlohmann::json> out;
    std::string text = read_text(repo.root / "results.jsonl");
    for (std::size_t pos = 0; pos < text.size();) {
      std::size_t end = text.find('\n', pos);
      nlohmann::json j = nlohmann::json::parse(text.substr(pos, end - pos));
      if (j.value("type", "") == "ablation") out.push_back(j);
      pos = end + 1;
    }
    return out;
  }
};

// Five keeps: #1 made moot by #4 (fast mode ignores a), #3 entangled with #5 (the same line), the
// rest still help.
TEST(AblateE2E, VerdictsFlagsOnlyAndMaxPairs) {
  AblateFixture f;
  const fs::path& root = f.repo.root;
  CliResult run = run_cli(root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<nlohmann::json> records = f.repo.records();
  ASSERT_EQ(records.size(), 5u) << run.output;
  for (const auto& r : records) ASSERT_EQ(r["status"], "keep") << r.dump(2);
  const std::string best = git(root, "rev-parse autoresearch/e2e");

  // The plan and the estimate; nothing measured or recorded.
  CliResult plan = run_cli(root, "ablate --dry-run");
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_NE(plan.output.find("#3 Smaller c: entangled"), std::string::npos) << plan.output;
  EXPECT_NE(plan.output.find("#1 Smaller a: its revert applies"), std::string::npos) << plan.output;
  EXPECT_NE(plan.output.find("4 keep(s) to measure (1 entangled)"), std::string::npos) << plan.output;
  EXPECT_NE(plan.output.find("at most"), std::string::npos) << plan.output;
  EXPECT_TRUE(f.ablations().empty());

  // Bad input: a clear one-line error, exit 2.
  CliResult bad = run_cli(root, "ablate --only 2,99");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("ablate --only: session e2e has no experiment 99"), std::string::npos) << bad.output;
  CliResult odd = run_cli(root, "ablate --max-pairs 3");
  EXPECT_EQ(odd.exit_code, 2) << odd.output;

  // --only and --max-pairs: one keep, at most 4 pairs a block.
  CliResult one = run_cli(root, "ablate --only 2 --max-pairs 4 --json 2>/dev/null");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  // stdout only: the JSON array is the output from its opening line on.
  std::size_t json_at = one.output.rfind("\n[\n");
  ASSERT_NE(json_at, std::string::npos) << one.output;
  nlohmann::json printed = nlohmann::json::parse(one.output.substr(json_at + 1));
  ASSERT_EQ(printed.size(), 1u) << one.output;
  EXPECT_EQ(printed[0]["experiment"], 2);
  EXPECT_EQ(printed[0]["verdict"], "still_helps") << printed[0].dump(2);
  EXPECT_EQ(printed[0]["decision"]["max_pairs"], 4);
  EXPECT_LE(printed[0]["pairs"].get<int>(), 8);
  ASSERT_EQ(f.ablations().size(), 1u);

  CliResult all = run_cli(root, "ablate");
  ASSERT_EQ(all.exit_code, 0) << all.output;
  std::vector<nlohmann::json> lines = f.ablations();
  ASSERT_EQ(lines.size(), 6u) << all.output;
  std::map<int, nlohmann::json> by_id;
  for (std::size_t i = 1; i < lines.size(); ++i) by_id[lines[i]["experiment"].get<int>()] = lines[i];
  ASSERT_EQ(by_id.size(), 5u);
  for (auto& [id, a] : by_id) EXPECT_EQ(a["best_commit"], best) << id;
  // Without #1 the best (fast mode) is unchanged: 45 against 45.
  EXPECT_EQ(by_id[1]["verdict"], "no_longer_helps") << by_id[1].dump(2);
  EXPECT_LT(std::abs(by_id[1]["metric"]["effect"].get<double>()), 0.005) << by_id[1].dump(2);
  // Without #2: 55 against 45; without #4: 65; without #5: 55.
  for (auto [id, without] : std::vector<std::pair<int, double>>{{2, 55}, {4, 65}, {5, 55}}) {
    EXPECT_EQ(by_id[id]["verdict"], "still_helps") << by_id[id].dump(2);
    EXPECT_NEAR(by_id[id]["metric"]["effect"].get<double>(), 45.0 / without - 1, 0.005) << id;
    EXPECT_LE(by_id[id]["metric"]["ci_low"].get<double>(), by_id[id]["metric"]["effect"].get<double>());
  }
  EXPECT_EQ(by_id[3]["verdict"], "entangled") << by_id[3].dump(2);
  EXPECT_FALSE(by_id[3].contains("metric"));
  EXPECT_NE(all.output.find("3 still help, 1 no longer help, 1 entangled, 0 not measured"), std::string::npos)
      << all.output;

  // Nothing left behind: the session branch where it was, both worktrees clean at the best.
  EXPECT_EQ(git(root, "rev-parse autoresearch/e2e"), best);
  for (const char* side : {"base", "cand"}) {
    EXPECT_EQ(git(root / ".autoresearch/wt" / side, "rev-parse HEAD"), best) << side;
    EXPECT_EQ(git(root / ".autoresearch/wt" / side, "status --porcelain"), "") << side;
  }

  // The flag in both reports and in finalize's plan.
  ASSERT_EQ(run_cli(root, "report").exit_code, 0);
  std::string md = read_text(root / "reports/report.md");
  EXPECT_NE(md.find("**Experiment 1 (Smaller a) no longer helps**"), std::string::npos) << md;
  EXPECT_NE(md.find("**⚠ no longer helps: "), std::string::npos) << md;
  EXPECT_NE(md.find("| entangled |"), std::string::npos) << md;
  std::string html = read_text(root / "reports/report.html");
  EXPECT_NE(html.find("⚠ No longer helps at the best commit"), std::string::npos);
  EXPECT_NE(html.find("id=\"ablation\""), std::string::npos);
  CliResult fin = run_cli(root, "finalize --dry-run");
  ASSERT_EQ(fin.exit_code, 0) << fin.output;
  EXPECT_NE(fin.output.find("warning: #1 Smaller a no longer helps at the best commit"), std::string::npos)
      << fin.output;
  EXPECT_EQ(fin.output.find("#2 Smaller b no longer helps"), std::string::npos) << fin.output;
}

// Ctrl-C in the middle: exit 130, the keeps already measured stay recorded, the worktrees are back
// at the best commit and clean, the session branch did not move.
TEST(AblateE2E, InterruptKeepsWhatFinishedAndLeavesNothingDirty) {
  AblateFixture f;
  const fs::path& root = f.repo.root;
  ASSERT_EQ(run_cli(root, "run").exit_code, 0);
  const std::string best = git(root, "rev-parse autoresearch/e2e");
  write_text(f.repo.counter.string() + ".slow", "");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (chdir(root.c_str()) != 0) _exit(97);
    int devnull = ::open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    execl(AUTORESEARCH_BINARY, AUTORESEARCH_BINARY, "ablate", static_cast<char*>(nullptr));
    _exit(98);
  }
  // Wait for the first keep's line, then stop it while the second keep is being measured.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (f.ablations().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(f.ablations().size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  ::kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::vector<nlohmann::json> lines = f.ablations();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["experiment"], 1);
  EXPECT_EQ(git(root, "rev-parse autoresearch/e2e"), best);
  for (const char* side : {"base", "cand"}) {
    EXPECT_EQ(git(root / ".autoresearch/wt" / side, "rev-parse HEAD"), best) << side;
    EXPECT_EQ(git(root / ".autoresearch/wt" / side, "status --porcelain"), "") << side;
  }
  // The lock is free again: a report reads the recorded line.
  std::remove((f.repo.counter.string() + ".slow").c_str());
  ASSERT_EQ(run_cli(root, "report").exit_code, 0);
  EXPECT_NE(read_text(root / "reports/report.md").find("no longer helps"), std::string::npos);
}

}  // namespace
}  // namespace ar::test
