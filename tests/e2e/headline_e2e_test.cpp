// The headline at every scale (issue 13, item 2): the primary, each confirm metric and each guard
// as rows of baseline, final, change and CI, and the reference column measured by `verify`,
// through the built binary on a repository whose metrics are computed from file contents.

#include "e2e/e2e_support.hpp"

#include <gtest/gtest.h>

namespace ar::test {
namespace {

// score = a + b, big = 10 * (a + b) (the same workload at a larger scale), rss = 100 (a guard),
// each times a jitter of at most +-0.2% from the run number. The reference ("the old engine")
// is a command printing twice the start's values.
TEST(HeadlineE2E, RowsPerScaleGuardsAndTheReferenceRatio) {
  TempDir tmp("autoresearch-headline");
  const std::string counter = (tmp.path() / "counter").string();
  FixtureRepo repo(tmp.path(),
                   "confirm:\n  - name: big\n"
                   "guards:\n  - name: rss\n    tolerance: 5%\n"
                   "reference:\n  command: COUNTER=" +
                       shell_quote(counter) +
                       " ./old.sh\n"
                       "verify:\n  pairs: 8\n");
  const std::string jitter = "(1+0.002*(n%3-1))";
  write_text(repo.root / "a.txt", "40\n");
  write_text(repo.root / "b.txt", "60\n");
  write_text(
      repo.root / "bench.sh",
      "#!/bin/sh\nn=$(cat \"$COUNTER\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$COUNTER\"\n"
      "awk -v a=\"$(cat a.txt)\" -v b=\"$(cat b.txt)\" -v n=\"$n\" 'BEGIN{j=" +
          jitter +
          "; printf \"METRIC score=%.6f\\nMETRIC big=%.6f\\nMETRIC rss=%.6f\\n\", (a+b)*j, 10*(a+b)*j, 100*j}'\n");
  write_text(repo.root / "old.sh",
             "#!/bin/sh\nn=$(cat \"$COUNTER\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$COUNTER\"\n"
             "awk -v n=\"$n\" 'BEGIN{j=" +
                 jitter +
                 "; printf \"METRIC score=%.6f\\nMETRIC big=%.6f\\nMETRIC rss=%.6f\\n\", 200*j, 2000*j, 100*j}'\n");
  shell("chmod +x " + shell_quote((repo.root / "old.sh").string()));
  repo.queue_raw("01-a.patch",
                 "Title: Smaller a\n\ndiff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-40\n+20\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -qm 'metrics from files'");
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_EQ(repo.records().size(), 1u);
  ASSERT_EQ(repo.records()[0]["status"], "keep") << repo.records()[0].dump(2);

  // Before verify: the journal's medians, no interval, no reference column.
  CliResult before = run_cli(repo.root, "report --json 2>/dev/null");
  ASSERT_EQ(before.exit_code, 0) << before.output;
  nlohmann::json h = nlohmann::json::parse(before.output)["headline"];
  ASSERT_EQ(h["rows"].size(), 3u) << h.dump(2);
  EXPECT_EQ(h["verified"], false);
  EXPECT_EQ(h["rows"][0]["name"], "score");
  EXPECT_EQ(h["rows"][1]["name"], "big");
  EXPECT_EQ(h["rows"][1]["role"], "confirm");
  EXPECT_EQ(h["rows"][2]["role"], "guard (tolerance 5%)");
  EXPECT_NEAR(h["rows"][1]["change"].get<double>(), -0.2, 0.005) << h.dump(2);
  EXPECT_FALSE(h["rows"][0].contains("ci"));
  EXPECT_FALSE(h["rows"][0].contains("reference"));

  CliResult verify = run_cli(repo.root, "verify");
  ASSERT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("pairs of the reference"), std::string::npos) << verify.output;
  CliResult after = run_cli(repo.root, "report --json 2>/dev/null");
  ASSERT_EQ(after.exit_code, 0) << after.output;
  h = nlohmann::json::parse(after.output)["headline"];
  EXPECT_EQ(h["verified"], true);
  ASSERT_EQ(h["rows"].size(), 3u) << h.dump(2);
  for (int i = 0; i < 2; ++i) {
    const nlohmann::json& r = h["rows"][i];
    EXPECT_NEAR(r["change"].get<double>(), -0.2, 0.005) << r.dump(2);
    ASSERT_TRUE(r.contains("ci")) << r.dump(2);
    EXPECT_LE(r["ci"][0].get<double>(), r["change"].get<double>());
    EXPECT_GE(r["ci"][1].get<double>(), r["change"].get<double>());
    // 200 (reference) against 80 (final): 2.5 times better.
    EXPECT_NEAR(r["times_better_than_reference"].get<double>(), 2.5, 0.02) << r.dump(2);
  }
  EXPECT_NEAR(h["rows"][2]["change"].get<double>(), 0.0, 0.005);
  EXPECT_NEAR(h["rows"][2]["times_better_than_reference"].get<double>(), 1.0, 0.01);

  ASSERT_EQ(run_cli(repo.root, "report").exit_code, 0);
  std::string md = read_text(repo.root / "reports/report.md");
  EXPECT_NE(md.find("| metric | role | reference | baseline | final | change (95% CI) | × better than the reference"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| `big` (lower is better) | confirm | "), std::string::npos) << md;
  EXPECT_NE(md.find("| `rss` (lower is better) | guard (tolerance 5%) |"), std::string::npos) << md;
  EXPECT_NE(md.find("×** (2."), std::string::npos) << md;  // 2.5 within the jitter
  std::string html = read_text(repo.root / "reports/report.html");
  EXPECT_NE(html.find("<table id=\"headline\">"), std::string::npos);
  EXPECT_NE(html.find("× better than the reference"), std::string::npos);
}

// An old engine is another program: a reference command that prints only the primary metric is
// compared on it, and the guard row has no reference ratio (before, verify stopped at the guard).
TEST(HeadlineE2E, ReferenceCommandOwesOnlyThePrimaryMetric) {
  TempDir tmp("autoresearch-headline-primary");
  FixtureRepo repo(tmp.path(),
                   "guards:\n  - name: rss\n    tolerance: 5%\n"
                   "reference:\n  command: ./old.sh\n"
                   "verify:\n  pairs: 4\n");
  write_text(repo.root / "a.txt", "40\n");
  write_text(repo.root / "bench.sh", "#!/bin/sh\necho \"METRIC score=$(cat a.txt)\"\necho 'METRIC rss=100'\n");
  write_text(repo.root / "old.sh", "#!/bin/sh\necho 'METRIC score=80'\n");
  shell("chmod +x " + shell_quote((repo.root / "old.sh").string()));
  repo.queue_raw("01-a.patch",
                 "Title: Smaller a\n\ndiff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-40\n+20\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -qm 'a reference without the guard'");
  ASSERT_EQ(run_cli(repo.root, "run").exit_code, 0);
  ASSERT_EQ(repo.records().size(), 1u);
  ASSERT_EQ(repo.records()[0]["status"], "keep") << repo.records()[0].dump(2);
  CliResult verify = run_cli(repo.root, "verify");
  ASSERT_EQ(verify.exit_code, 0) << verify.output;
  CliResult after = run_cli(repo.root, "report --json 2>/dev/null");
  ASSERT_EQ(after.exit_code, 0) << after.output;
  nlohmann::json h = nlohmann::json::parse(after.output)["headline"];
  ASSERT_EQ(h["rows"].size(), 2u) << h.dump(2);
  EXPECT_NEAR(h["rows"][0]["times_better_than_reference"].get<double>(), 4.0, 0.001) << h.dump(2);
  EXPECT_FALSE(h["rows"][1].contains("times_better_than_reference")) << h.dump(2);
  ASSERT_EQ(run_cli(repo.root, "report").exit_code, 0);
}

}  // namespace
}  // namespace ar::test
