#include "report/report.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ar::report {
namespace {

using ar::test::read_text;
using ar::test::TempDir;
using nlohmann::json;

using ar::test::contains;

::testing::AssertionResult lacks(const std::string& haystack, const std::string& needle) {
  if (haystack.find(needle) == std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << needle << "\" unexpectedly in:\n" << haystack;
}

// The text of the "## <title>" section, up to the next "## " heading; empty when absent.
std::string section(const std::string& md, const std::string& title) {
  size_t begin = md.find("## " + title);
  if (begin == std::string::npos) return {};
  size_t end = md.find("\n## ", begin + 3);
  return md.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

const std::string k_kept_commit = "0123456789abcdef0123456789abcdef01234567";
const std::string k_start_commit = "fedcba9876543210fedcba9876543210fedcba98";

json measured(int id, const std::string& status, const std::string& title, double base_median, double cand_median,
              double effect) {
  return {{"type", "experiment"},
          {"schema", 1},
          {"id", id},
          {"session", "night"},
          {"status", status},
          {"title", title},
          {"pairs", 5},
          {"source", {{"kind", "queue"}, {"file", "experiments/0" + std::to_string(id) + ".patch"}}},
          {"patch_file", ".autoresearch/patches/000" + std::to_string(id) + ".patch"},
          {"metric",
           {{"name", "wall_ms"},
            {"base", {base_median + 1, base_median, base_median - 1}},
            {"candidate", {cand_median + 1, cand_median, cand_median - 1}},
            {"base_median", base_median},
            {"candidate_median", cand_median},
            {"effect", effect},
            {"ci_low", effect - 0.05},
            {"ci_high", effect + 0.05},
            {"p", 0.001}}}};
}

json unmeasured(int id, const std::string& status, const std::string& title, const std::string& reason) {
  return {{"type", "experiment"}, {"schema", 1},    {"id", id},        {"session", "night"},
          {"status", status},     {"title", title}, {"reason", reason}};
}

config::Config make_config() {
  config::Config cfg;
  cfg.session = "night";
  cfg.goal = "make wordfreq faster";
  cfg.benchmark.command = "./bench.sh";
  cfg.metric.name = "wall_ms";
  cfg.metric.unit = "ms";
  cfg.metric.direction = decide::Direction::lower;
  cfg.gates = {{"check_output", "gates/check_output.sh", std::chrono::minutes(1)}};
  cfg.protected_paths = {"bench.sh", "gates/"};
  return cfg;
}

// The view a reader loads from a journal holding `j`'s records (headers first). The report reads
// samples back from the file, so the view needs one.
journal::SessionView view_of(const journal::Journal& j) {
  static TempDir dir("autoresearch-report-test");
  static int n = 0;
  std::filesystem::path file = dir / ("results-" + std::to_string(++n) + ".jsonl");
  for (const json& r : j.headers) journal::append(file, r);
  for (const json& r : j.experiments) journal::append(file, r);
  std::vector<std::string> warnings;
  return journal::load_view(file, "night", warnings);
}

journal::SessionView make_view() {
  json keep = measured(1, "keep", "Hash with FNV-1a", 100, 80, -0.20);
  keep["commit"] = k_kept_commit;
  keep["mechanism"] = "chains get short";
  json discard = measured(2, "discard", "Bigger table", 80, 84, 0.05);
  discard["reason"] = "regression";
  discard["mechanism"] = "the table no longer fits in L2";
  json failed = unmeasured(3, "checks_failed", "Skip tolower", "gate check_output failed (exit 1)");
  failed["mechanism"] = "uppercase words are counted apart";
  failed["files"] = {"examples/wordfreq/wordfreq.c"};
  json inconclusive = measured(4, "inconclusive", "Use getc_unlocked", 80, 79.7, -0.004);
  inconclusive["pairs"] = 12;
  json rejected = unmeasured(5, "rejected", "Edit the benchmark", "touches protected path bench.sh");

  journal::Journal j;
  j.headers = {{{"type", "header"}, {"schema", 1}, {"session", "night"}, {"start_commit", k_start_commit}}};
  j.experiments = {keep, discard, failed, inconclusive, rejected};
  return view_of(j);
}

TEST(ReportHeadline, BaselineFromTheFirstMeasuredBestFromTheLastKeep) {
  Headline h = headline(make_view());
  EXPECT_TRUE(h.measured);
  EXPECT_DOUBLE_EQ(h.baseline, 100);
  EXPECT_DOUBLE_EQ(h.best, 80);
  EXPECT_NEAR(h.chained, -0.20, 1e-12);
  EXPECT_EQ(h.baseline_experiment, 1);
  EXPECT_EQ(h.best_experiment, 1);

  Headline none = headline(journal::SessionView{});
  EXPECT_FALSE(none.measured);
  EXPECT_EQ(none.best_experiment, 0);
}

TEST(ReportRender, HeadlineNumbers) {
  std::string md = render_report(make_view(), make_config());
  EXPECT_TRUE(contains(md, "# autoresearch report: session night"));
  EXPECT_TRUE(contains(md, "make wordfreq faster"));
  std::string head = section(md, "Headline");
  EXPECT_TRUE(contains(head, "`wall_ms` (lower is better)"));
  EXPECT_TRUE(contains(head, "| 100 ms |"));
  EXPECT_TRUE(contains(head, "| 80 ms |"));
  EXPECT_TRUE(contains(head, "-20.0%"));
  EXPECT_TRUE(contains(md, "Experiments: 5 (1 keep, 1 discard, 1 inconclusive, 1 checks_failed, 1 rejected)."));
  // Where the branch started and where it got to.
  EXPECT_TRUE(contains(md, "started at `fedcba987654`, best `0123456789ab`"));
}

TEST(ReportRender, KeptCommitWithShortHashAndTitle) {
  std::string kept = section(render_report(make_view(), make_config()), "Kept commits");
  ASSERT_FALSE(kept.empty());
  EXPECT_TRUE(contains(kept, "| 1 | `0123456789ab` | Hash with FNV-1a |"));
  EXPECT_TRUE(lacks(kept, k_kept_commit));  // the short form only
  EXPECT_TRUE(contains(kept, "-20.0% (-25.0% to -15.0%)"));
  EXPECT_TRUE(contains(kept, "chains get short"));
  EXPECT_TRUE(lacks(kept, "Bigger table"));
}

TEST(ReportRender, DeadEndsInconclusiveAndNotMeasuredEachInTheirSection) {
  std::string md = render_report(make_view(), make_config());
  std::string dead = section(md, "Dead ends");
  EXPECT_TRUE(contains(dead, "| 2 | Bigger table | discard | +5.0% (+0.0% to +10.0%) |"));
  EXPECT_TRUE(contains(dead, "the table no longer fits in L2 — regression"));
  EXPECT_TRUE(contains(dead, "| 3 | Skip tolower | checks_failed | — |"));
  EXPECT_TRUE(contains(dead, "uppercase words are counted apart"));
  EXPECT_TRUE(lacks(dead, "getc_unlocked"));
  EXPECT_TRUE(lacks(dead, "Edit the benchmark"));
  EXPECT_TRUE(lacks(dead, "FNV"));

  std::string inconclusive = section(md, "Inconclusive");
  EXPECT_TRUE(contains(inconclusive, "| 4 | Use getc_unlocked | -0.4% (-5.4% to +4.6%) | 12 |"));
  EXPECT_TRUE(lacks(inconclusive, "Bigger table"));

  std::string unmeasured = section(md, "Not measured");
  EXPECT_TRUE(contains(unmeasured, "| 5 | Edit the benchmark | rejected | touches protected path bench.sh |"));
  EXPECT_TRUE(lacks(unmeasured, "Skip tolower"));

  std::string method = section(md, "Methodology");
  EXPECT_TRUE(contains(method, "`./bench.sh`"));
  EXPECT_TRUE(contains(method, "check_output"));
  EXPECT_TRUE(contains(method, "`bench.sh`, `gates/`"));

  std::string raw = section(md, "Raw numbers");
  EXPECT_TRUE(contains(raw, "experiment 1 (keep): base [101, 100, 99]; candidate [81, 80, 79]"));
  EXPECT_TRUE(lacks(raw, "experiment 3"));
}

TEST(ReportDeadEnds, ListsExactlyTheDiscardsAndFailedChecks) {
  std::string md = render_dead_ends(make_view(), make_config());
  EXPECT_TRUE(contains(md, "# Dead ends: session night"));
  EXPECT_TRUE(contains(md, "`wall_ms` (lower is better)"));
  // Neither record names an idea or a sweep: one group, two entries.
  EXPECT_EQ(count(md, "\n## "), 1u) << md;
  EXPECT_TRUE(contains(md, "\n## Other changes\n"));
  EXPECT_EQ(count(md, "\n### "), 2u) << md;

  EXPECT_TRUE(contains(md, "### Bigger table (experiment 2)"));
  EXPECT_TRUE(contains(md, "- outcome: discard — regression"));
  EXPECT_TRUE(contains(md, "- effect: +5.0% (+0.0% to +10.0%) over 5 pairs"));
  EXPECT_TRUE(contains(md, "- mechanism: the table no longer fits in L2"));
  EXPECT_TRUE(contains(md, "- source: experiments/02.patch; diff: .autoresearch/patches/0002.patch"));

  EXPECT_TRUE(contains(md, "### Skip tolower (experiment 3)"));
  EXPECT_TRUE(contains(md, "- outcome: checks_failed — gate check_output failed (exit 1)"));
  EXPECT_TRUE(contains(md, "- mechanism: uppercase words are counted apart"));
  EXPECT_TRUE(contains(md, "- files: examples/wordfreq/wordfreq.c"));

  EXPECT_TRUE(lacks(md, "FNV"));
  EXPECT_TRUE(lacks(md, "getc_unlocked"));
  EXPECT_TRUE(lacks(md, "Edit the benchmark"));
  // In file order: experiment 2 before 3.
  EXPECT_LT(md.find("(experiment 2)"), md.find("(experiment 3)"));
}

TEST(ReportRender, EmptySession) {
  journal::SessionView v;
  v.session = "night";
  v.start_commit = k_start_commit;
  std::string md = render_report(v, make_config());
  EXPECT_TRUE(contains(md, "Nothing has been measured yet."));
  EXPECT_TRUE(contains(section(md, "Kept commits"), "_None._"));
  EXPECT_TRUE(contains(section(md, "Dead ends"), "_None._"));
  EXPECT_TRUE(contains(md, "best `fedcba987654`"));
  EXPECT_TRUE(contains(render_dead_ends(v, make_config()), "_None yet._"));
}

TEST(ReportRender, HigherIsBetterHeadline) {
  config::Config cfg = make_config();
  cfg.metric.name = "ops_per_s";
  cfg.metric.unit = "";
  cfg.metric.direction = decide::Direction::higher;
  journal::Journal j;
  j.headers = {{{"type", "header"}, {"schema", 1}, {"session", "night"}, {"start_commit", k_start_commit}}};
  json keep = measured(1, "keep", "Batch writes", 1000, 1250, 0.25);
  keep["commit"] = k_kept_commit;
  j.experiments = {keep};
  std::string head = section(render_report(view_of(j), cfg), "Headline");
  EXPECT_TRUE(contains(head, "`ops_per_s` (higher is better) | primary | 1000 | 1250 | **+25.0%** (—) |"));
}

TEST(ReportRender, TableCellsStayOnOneLine) {
  journal::Journal j;
  j.headers = {{{"type", "header"}, {"schema", 1}, {"session", "night"}, {"start_commit", k_start_commit}}};
  json keep = measured(1, "keep", "Use a|b\nswitch", 100, 90, -0.10);
  keep["commit"] = k_kept_commit;
  keep["mechanism"] = "two\nlines | and a pipe";
  j.experiments = {keep};
  std::string kept = section(render_report(view_of(j), make_config()), "Kept commits");
  EXPECT_TRUE(contains(kept, "| Use a b switch |"));
  EXPECT_TRUE(contains(kept, "| two lines   and a pipe |"));
}

TEST(ReportRender, SafetyCountsGatesAndReadsTheGuardsOfKeptChanges) {
  config::Config cfg = make_config();
  decide::GuardSpec rss;
  rss.name = "rss_kb";
  rss.direction = decide::Direction::lower;
  rss.tolerance = 0.05;
  cfg.guards = {rss};
  journal::Journal j;
  j.headers = {{{"type", "header"}, {"schema", 1}, {"session", "night"}, {"start_commit", k_start_commit}}};
  json keep = measured(1, "keep", "Hash with FNV-1a", 100, 80, -0.20);
  keep["commit"] = k_kept_commit;
  keep["guards"] = {{"rss_kb", {{"effect", 0.012}, {"ci_low", -0.01}, {"ci_high", 0.03}, {"tolerance", 0.05}}}};
  json keep2 = measured(2, "keep", "Smaller buckets", 80, 76, -0.05);
  keep2["commit"] = k_kept_commit;
  keep2["guards"] = {{"rss_kb", {{"effect", -0.02}, {"ci_low", -0.03}, {"ci_high", -0.01}, {"tolerance", 0.05}}}};
  j.experiments = {keep, measured(3, "discard", "Bigger table", 76, 80, 0.05), keep2};
  std::string safety = section(render_report(view_of(j), cfg), "Safety");
  EXPECT_TRUE(contains(safety, "- Gates: all 3 measured experiments passed every gate"));
  EXPECT_TRUE(contains(safety,
                       "- Guard `rss_kb` (tolerance 5%): every kept change within it; the largest move was "
                       "experiment 1: +1.2% (-1.0% to +3.0%)."));
}

TEST(ReportRender, RawNumbersOfTheLatestMeasuredOnly) {
  journal::Journal j;
  j.headers = {{{"type", "header"}, {"schema", 1}, {"session", "night"}, {"start_commit", k_start_commit}}};
  for (int id = 1; id <= 205; ++id) j.experiments.push_back(measured(id, "discard", "Try", 100, 101, 0.01));
  std::string raw = section(render_report(view_of(j), make_config()), "Raw numbers");
  EXPECT_EQ(count(raw, "- experiment "), 200u);
  EXPECT_TRUE(lacks(raw, "- experiment 5 (discard)"));
  EXPECT_TRUE(contains(raw, "- experiment 6 (discard): base [101, 100, 99]"));
  EXPECT_TRUE(contains(raw, "those of the 5 before them are in the journal"));
}

TEST(ReportWrite, WritesBothFiles) {
  TempDir dir;
  write_report(make_view(), make_config(), dir / "reports");
  EXPECT_EQ(read_text(dir / "reports" / "report.md"), render_report(make_view(), make_config()));
  EXPECT_EQ(read_text(dir / "reports" / "dead-ends.md"), render_dead_ends(make_view(), make_config()));
}

}  // namespace
}  // namespace ar::report
