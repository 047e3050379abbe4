// Trustworthy verdicts end to end: known true effects through the real loop, the A/A calibration,
// and verify.

#include "e2e/e2e_support.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>

namespace ar::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<json> lines_of_type(const fs::path& journal, const std::string& type) {
  std::vector<json> out;
  std::string text = read_text(journal);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    json j = json::parse(text.substr(pos, end - pos));
    if (j.value("type", "") == type) out.push_back(j);
    pos = end + 1;
  }
  return out;
}

TEST(VerdictE2E, NoOpsWinsAndRegressionsQueuedTogether) {
  TempDir tmp("autoresearch-verdict");
  FixtureRepo repo(tmp.path());
  // Calibrated, as a session starts by default: the rule pools that noise into its intervals.
  std::string cfg = read_text(repo.root / "autoresearch.config.yaml");
  cfg.replace(cfg.find("calibration:\n  on_start: false\n"), std::string("calibration:\n  on_start: false\n").size(),
              "calibration:\n  on_start: true\n");
  write_text(repo.root / "autoresearch.config.yaml", cfg);
  // The score multiplies in one factor per knob file; each patch sets its own knob.
  std::string bench = read_text(repo.root / "bench.sh");
  bench.replace(bench.find("-v a="), 5, "-v k=\"$(cat knobs/* | awk 'BEGIN{p=1}{p*=$1}END{print p}')\" -v a=");
  bench.replace(bench.find("100*a*b"), 7, "100*a*b*k");
  write_text(repo.root / "bench.sh", bench);
  for (int i = 0; i < 16; ++i) write_text(repo.root / fmt::format("knobs/k{:02d}", i), "1.0\n");
  for (int i = 0; i < 10; ++i) write_text(repo.root / fmt::format("notes/n{:02d}.txt", i), "note\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m knobs");
  // Interleaved so that no kind runs only early or only late.
  std::map<std::string, std::string> expected_kind;
  int noop = 0, win = 0, regression = 0;
  for (int i = 0; i < 16; ++i) {
    std::string name = fmt::format("{:02d}", i);
    if (i % 5 == 1 && win < 3) {
      repo.queue_change(name + "-win.patch", "Title: win " + name, fmt::format("knobs/k{:02d}", i), "0.95\n");
      expected_kind[name] = "win";
      ++win;
    } else if (i % 5 == 3 && regression < 3) {
      repo.queue_change(name + "-regression.patch", "Title: regression " + name, fmt::format("knobs/k{:02d}", i), "1.02\n");
      expected_kind[name] = "regression";
      ++regression;
    } else {
      repo.queue_change(name + "-noop.patch", "Title: no-op " + name, fmt::format("notes/n{:02d}.txt", noop), "changed\n");
      expected_kind[name] = "noop";
      ++noop;
    }
  }
  ASSERT_EQ(noop, 10);
  ASSERT_EQ(win, 3);
  ASSERT_EQ(regression, 3);
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m queue");

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::map<std::string, int> kept;
  int runs = 0, measured = 0;
  for (const json& r : repo.records()) {
    std::string kind = expected_kind.at(r["source"]["file"].get<std::string>().substr(12, 2));
    if (r["status"] == "keep") ++kept[kind];
    // A regression is never kept; it is a dead end only on evidence, else inconclusive.
    if (kind == "regression" && r["status"] != "discard") {
      EXPECT_EQ(r["status"], "inconclusive") << r.dump();
      EXPECT_EQ(r["reason"], "underpowered") << r.dump();
    }
    // A "no effect" dead end has an interval that rules out an improvement of min_effect (1%).
    if (r["status"] == "discard" && r["reason"] == "no effect") {
      EXPECT_GT(r["metric"]["ci_low"].get<double>(), -0.01) << r.dump();
    }
    if (r.contains("pairs")) {
      runs += 2 * r["pairs"].get<int>();
      ++measured;
    }
  }
  std::cout << fmt::format("kept: {} no-ops, {} wins, {} regressions; {} benchmark runs over {} decisions\n", kept["noop"],
                           kept["win"], kept["regression"], runs, measured);
  EXPECT_LE(kept["noop"], 1);
  EXPECT_EQ(kept["regression"], 0);
  EXPECT_GE(kept["win"], 2);
}

TEST(VerdictE2E, CalibrationRefusesABenchmarkThatDependsOnTheWorktreePath) {
  TempDir tmp("autoresearch-verdict");
  FixtureRepo repo(tmp.path(), "calibration:\n  on_start: true\n  pairs: 8\n");
  // Remove the fixture's on_start: false (the later key would be a duplicate).
  std::string cfg = read_text(repo.root / "autoresearch.config.yaml");
  cfg.replace(cfg.find("calibration:\n  on_start: false\n"), std::string("calibration:\n  on_start: false\n").size(), "");
  write_text(repo.root / "autoresearch.config.yaml", cfg);
  // A harness bug: the candidate's worktree path makes it 5% slower.
  std::string bench = read_text(repo.root / "bench.sh");
  bench.replace(bench.find("-v a="), 5, "-v w=\"$(case $PWD in */cand*) echo 1.05;; *) echo 1;; esac)\" -v a=");
  bench.replace(bench.find("100*a*b"), 7, "100*a*b*w");
  write_text(repo.root / "bench.sh", bench);
  repo.queue_change("01-noop.patch", "Title: no-op", "notes.txt", "x\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m harness");

  CliResult run = run_cli(repo.root, "run");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("the harness is broken"), std::string::npos) << run.output;
  EXPECT_TRUE(repo.records().empty()) << "no experiment may run on a broken harness";
  std::vector<json> cal = lines_of_type(repo.root / "results.jsonl", "calibration");
  ASSERT_EQ(cal.size(), 1u);
  EXPECT_TRUE(cal[0]["broken"].get<bool>());
  EXPECT_NEAR(cal[0]["metrics"]["score"]["effect"].get<double>(), 0.05, 0.02);
  // The refusal holds: the next run calibrates again and refuses again.
  CliResult again = run_cli(repo.root, "run");
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_TRUE(repo.records().empty());
  EXPECT_EQ(lines_of_type(repo.root / "results.jsonl", "calibration").size(), 2u);
}

TEST(VerdictE2E, CalibrationRecordsNoiseAndVerifyMeasuresTheCumulativeGain) {
  TempDir tmp("autoresearch-verdict");
  FixtureRepo repo(tmp.path());
  repo.queue_change("01-faster.patch", "Title: ten percent faster", "speed.txt", "0.9\n");
  repo.queue_change("02-faster.patch", "Title: ten percent faster again", "slow.txt", "0.9\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m queue");

  CliResult cal = run_cli(repo.root, "calibrate");
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  EXPECT_NE(cal.output.find("smallest effect detectable at 12 pairs"), std::string::npos) << cal.output;
  std::vector<json> cals = lines_of_type(repo.root / "results.jsonl", "calibration");
  ASSERT_EQ(cals.size(), 1u);
  // The fixture's noise is 1% per run.
  EXPECT_NEAR(cals[0]["metrics"]["score"]["cv"].get<double>(), 0.01, 0.006);
  EXPECT_FALSE(cals[0]["broken"].get<bool>());

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  CliResult verify = run_cli(repo.root, "verify --pairs 8");
  ASSERT_EQ(verify.exit_code, 0) << verify.output;
  std::vector<json> v = lines_of_type(repo.root / "results.jsonl", "verify");
  ASSERT_EQ(v.size(), 1u);
  // Two 10% wins: 0.81 of the start.
  EXPECT_NEAR(v[0]["metric"]["effect"].get<double>(), -0.19, 0.02);
  EXPECT_LT(v[0]["metric"]["ci_low"].get<double>(), -0.17);
  EXPECT_GT(v[0]["metric"]["ci_high"].get<double>(), -0.21);
  EXPECT_EQ(v[0]["pairs"], 8);
  // verify leaves the worktrees at the best commit, clean.
  for (const char* wt : {".autoresearch/wt/base", ".autoresearch/wt/cand"}) {
    EXPECT_EQ(git(repo.root / wt, "rev-parse HEAD"), git(repo.root, "rev-parse autoresearch/e2e")) << wt;
    EXPECT_EQ(git(repo.root / wt, "status --porcelain"), "") << wt;
  }
  ASSERT_EQ(run_cli(repo.root, "report").exit_code, 0);
  std::string md = read_text(repo.root / "reports/report.md");
  EXPECT_NE(md.find("**Verified cumulative gain: -"), std::string::npos) << md.substr(0, 1500);
  EXPECT_NE(md.find("Noise (A/A calibration"), std::string::npos);
}

TEST(VerdictE2E, AConfirmMetricThatDoesNotMoveBlocksAKeep) {
  TempDir tmp("autoresearch-verdict");
  // The benchmark also runs the workload at a second scale, which big.txt slows down.
  FixtureRepo repo(tmp.path(), "confirm:\n  - name: score_big\n    direction: lower\n");
  write_text(repo.root / "big.txt", "1.0\n");
  std::string bench = read_text(repo.root / "bench.sh");
  bench += "awk -v a=\"$(cat speed.txt)\" -v c=\"$(cat big.txt)\" -v s=\"$(cat \"$COUNTER\")\" 'BEGIN{srand(s+7); "
           "printf \"METRIC score_big=%.5f\\n\", 1000*a*c*(1+0.01*(rand()-0.5))}'\n";
  write_text(repo.root / "bench.sh", bench);
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m confirm");
  // Faster at the small scale only: the big scale gets 12.5% slower (0.9 x 1.25).
  repo.queue_raw("01-small-only.patch",
                 "Title: faster at small scale only\n\ndiff --git a/speed.txt b/speed.txt\n--- a/speed.txt\n+++ b/speed.txt\n"
                 "@@ -1 +1 @@\n-1.0\n+0.9\ndiff --git a/big.txt b/big.txt\n--- a/big.txt\n+++ b/big.txt\n"
                 "@@ -1 +1 @@\n-1.0\n+1.25\n");
  repo.queue_raw("02-both.patch",
                 "Title: faster at both scales\n\ndiff --git a/speed.txt b/speed.txt\n--- a/speed.txt\n+++ b/speed.txt\n"
                 "@@ -1 +1 @@\n-1.0\n+0.9\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m queue");
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_NE(r[0]["status"], "keep") << r[0].dump();
  EXPECT_NE(r[0]["reason"].get<std::string>().find("confirm score_big"), std::string::npos) << r[0]["reason"];
  EXPECT_EQ(r[1]["status"], "keep") << r[1].dump();
  EXPECT_TRUE(r[1]["confirms"].contains("score_big")) << r[1].dump();
}

} // namespace
} // namespace ar::test

namespace ar::test {
namespace {

TEST(SweepRetryE2E, AnInterruptedSweepPointCountsAgainstRetryInterrupted) {
  TempDir tmp("autoresearch-verdict");
  FixtureRepo repo(tmp.path(), "sources:\n  sweeps:\n    - {name: speed, file: speed.txt, pattern: '^(\\S+)', values: ['0.9']}\n"
                               "limits:\n  retry_interrupted: 0\n");
  // Killed in the middle of the sweep point's measurement...
  std::string out;
  int rc = shell("cd " + shell_quote(repo.root.string()) + " && " + shell_quote(AUTORESEARCH_BINARY) +
                     " run --fault=pair",
                 &out);
  ASSERT_NE(rc, 0) << out;
  // ...the next run records it as interrupted once and, with no retries allowed, does not run it again.
  CliResult again = run_cli(repo.root, "run");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 1u) << again.output;
  EXPECT_EQ(r[0]["status"], "interrupted");
  EXPECT_EQ(r[0]["key"], "sweep:speed=0.9");
}

} // namespace
} // namespace ar::test
