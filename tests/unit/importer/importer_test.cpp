#include "importer/ideas_merge.hpp"
#include "importer/pi_session.hpp"
#include "importer/plan.hpp"
#include "journal/journal.hpp"

#include "ideas/ideas.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

namespace ar::importer {
namespace {

namespace fs = std::filesystem;
using ar::test::TempDir;
using ar::test::write_text;
using nlohmann::json;

using ar::test::contains;

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST(PiSession, DotAutoWinsOverTheFlatNames) {
  TempDir dir;
  write_text(dir / "autoresearch.sh", "echo flat\n");
  write_text(dir / "autoresearch.md", "flat notes\n");
  write_text(dir / ".auto/measure.sh", "echo auto\n");
  write_text(dir / ".auto/lib.sh", "x=1\n");
  write_text(dir / ".auto/hooks/after.sh", "cat\n");
  PiFiles f = find_session(dir.path());
  EXPECT_TRUE(f.dot_auto);
  EXPECT_EQ(f.benchmark, ".auto/measure.sh");
  EXPECT_EQ(f.prompt, "");  // the flat autoresearch.md is ignored in the .auto layout
  EXPECT_EQ(f.hooks, std::vector<std::string>{".auto/hooks/after.sh"});
  EXPECT_EQ(f.all.size(), 3u);
}

TEST(PiSession, NoSessionIsAnErrorNamingTheFolder) {
  TempDir dir;
  write_text(dir / "README.md", "x\n");
  try {
    find_session(dir.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), dir.path().string()));
  }
}

TEST(PiSession, LogSegmentsFollowConfigLinesAndBadLinesAreListed) {
  TempDir dir;
  write_text(dir / "log.jsonl",
             "{\"type\":\"config\",\"name\":\"a\",\"metricName\":\"x_ms\",\"metricUnit\":\"ms\",\"bestDirection\":\"lower\"}\n"
             "{\"type\":\"config\",\"name\":\"a2\",\"metricName\":\"y_ms\",\"metricUnit\":\"ms\",\"bestDirection\":\"higher\"}\n"
             "{\"run\":1,\"metric\":10,\"status\":\"keep\",\"description\":\"base\",\"segment\":7}\n"
             "not json\n"
             "{\"type\":\"hook\",\"event\":\"after\"}\n"
             "{\"type\":\"config\",\"name\":\"b\",\"metricName\":\"z_µs\",\"metricUnit\":\"µs\",\"bestDirection\":\"lower\"}\n"
             "{\"run\":2,\"metric\":\"oops\",\"status\":\"discard\"}\n");
  PiLog log = read_log(dir / "log.jsonl", "log.jsonl");
  ASSERT_EQ(log.segments.size(), 2u);
  // Two config lines before any run: the later one is the segment's.
  EXPECT_EQ(log.segments[0].metric_name, "y_ms");
  EXPECT_EQ(log.segments[0].direction, "higher");
  EXPECT_EQ(log.segments[1].metric_name, "z_µs");
  ASSERT_EQ(log.runs.size(), 2u);
  EXPECT_EQ(log.runs[0].segment, 0);  // recomputed, not the stored 7
  EXPECT_EQ(log.runs[1].segment, 1);
  EXPECT_FALSE(log.runs[1].metric.has_value());
  EXPECT_EQ(log.hook_lines, 1);
  ASSERT_EQ(log.skipped.size(), 1u);
  EXPECT_TRUE(contains(log.skipped[0], "log.jsonl:4"));
}

TEST(Plan, ClosestMetricPrefersThePrintedSpelling) {
  EXPECT_EQ(closest_metric("combined_µs", {"combined_us", "parse_us"}), std::optional<std::string>("combined_us"));
  EXPECT_EQ(closest_metric("combined_us", {"combined_us"}), std::nullopt);           // same: nothing to change
  EXPECT_EQ(closest_metric("total_ms", {"totl_ms"}), std::optional<std::string>("totl_ms"));
  EXPECT_EQ(closest_metric("total_ms", {"rss_kb"}), std::nullopt);                  // nothing close
  EXPECT_EQ(closest_metric("total_ms", {}), std::nullopt);
}

TEST(Plan, SessionSlugAndYamlQuote) {
  EXPECT_EQ(session_slug("Faster analyzer (µs)!"), "faster-analyzer-us");
  EXPECT_EQ(session_slug("  "), "pi");
  EXPECT_EQ(yaml_quote("a \"b\" \\ c\n"), "\"a \\\"b\\\" \\\\ c\\n\"");
}

PlanInput flat_input() {
  PlanInput in;
  in.files.dir = "/x";
  in.files.benchmark = "autoresearch.sh";
  in.files.checks = "autoresearch.checks.sh";
  in.files.prompt = "autoresearch.md";
  in.files.log = "autoresearch.jsonl";
  in.files.all = {"autoresearch.jsonl", "autoresearch.md", "autoresearch.sh", "autoresearch.checks.sh"};
  PiSegment s0{"old", "total_ms", "ms", "lower", 1};
  PiSegment s1{"Faster analyzer", "combined_µs", "µs", "lower", 3};
  in.log.segments = {s0, s1};
  PiRun r1;
  r1.line = 2;
  r1.run = 1;
  r1.segment = 0;
  r1.status = "keep";
  r1.metric = 120;
  r1.description = "Baseline";
  PiRun r2 = r1;
  r2.line = 4;
  r2.run = 2;
  r2.segment = 1;
  r2.metric = 100;
  PiRun r3 = r2;
  r3.line = 5;
  r3.run = 3;
  r3.status = "checks_failed";
  r3.metric = 60;
  r3.description = "Skip the uniq pass";
  r3.asi = {{"rollback_reason", "ties"}};
  PiRun r4 = r2;
  r4.line = 6;
  r4.run = 4;
  r4.status = "thinking";
  in.log.runs = {r1, r2, r3, r4};
  in.untracked = {"autoresearch.sh"};
  in.imported_at = "2026-11-30T20:00:00Z";
  in.tool_version = "test";
  return in;
}

TEST(Plan, ConfigMapsEveryPiPieceAndLoadsAsYaml) {
  PlanInput in = flat_input();
  in.printed = std::vector<std::string>{"combined_us", "parse_us"};
  Plan p = make_plan(in);
  YAML::Node y = YAML::Load(p.config_yaml);
  EXPECT_EQ(y["session"].as<std::string>(), "faster-analyzer");
  EXPECT_EQ(y["shell"].as<std::string>(), "bash");
  EXPECT_EQ(y["benchmark"]["command"].as<std::string>(), "bash autoresearch.sh");
  EXPECT_EQ(y["metric"]["name"].as<std::string>(), "combined_us");  // the printed name
  EXPECT_EQ(y["metric"]["unit"].as<std::string>(), "µs");
  EXPECT_EQ(y["metric"]["repeat"].as<std::string>(), "last");
  EXPECT_EQ(y["gates"][0]["command"].as<std::string>(), "bash autoresearch.checks.sh");
  EXPECT_EQ(y["gates"][0]["after"].as<std::string>(), "benchmark");
  EXPECT_EQ(y["protected"].size(), 4u);
  ASSERT_EQ(y["harness"].size(), 1u);  // only the untracked script
  EXPECT_EQ(y["harness"][0].as<std::string>(), "autoresearch.sh");
  EXPECT_EQ(y["sources"]["proposer"]["notes"].as<std::string>(), "autoresearch.md");
  // The rename is said, naming both spellings.
  EXPECT_TRUE(contains(joined(p.notes), "\"combined_µs\""));
  EXPECT_TRUE(contains(joined(p.notes), "\"combined_us\""));
}

TEST(Plan, HistoryRecordsAreValidImportedExperiments) {
  Plan p = make_plan(flat_input());
  ASSERT_EQ(p.records.size(), 3u);  // the run with status "thinking" is not imported...
  EXPECT_TRUE(contains(joined(p.not_mapped), "autoresearch.jsonl:6"));  // ...and says so
  const json& cf = p.records[2];
  EXPECT_EQ(cf["id"], 3);
  EXPECT_EQ(cf["status"], "checks_failed");
  EXPECT_EQ(cf["source"]["kind"], "import");
  EXPECT_EQ(cf["source"]["file"], "autoresearch.jsonl");
  EXPECT_EQ(cf["mechanism"], "ties");
  EXPECT_EQ(cf["asi"]["pi"]["run"], 3);
  EXPECT_TRUE(contains(cf["reason"].get<std::string>(), "-40.0% against its segment's baseline 100 µs"));
  EXPECT_FALSE(cf.contains("metric"));  // measured by pi, not here: no metric block
  EXPECT_TRUE(p.header.contains("imported"));
  EXPECT_FALSE(p.header.contains("start_commit"));
  // The earlier segment is named as history that does not compare.
  EXPECT_TRUE(contains(joined(p.notes), "segment 1 (1 runs, metric \"total_ms\")"));

  // The journal reads them back as imported: no keep, no count, a dead end.
  TempDir dir;
  std::string lines = journal::line_of(p.header);
  for (const json& r : p.records) lines += journal::line_of(r);
  write_text(dir / "results.jsonl", lines);
  std::vector<std::string> warnings;
  journal::SessionView v = journal::load_view(dir / "results.jsonl", p.session, warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(v.experiments.size(), 3u);
  EXPECT_EQ(v.imported.size(), 3u);
  EXPECT_EQ(v.own(), 0u);
  EXPECT_TRUE(v.kept.empty());
  EXPECT_TRUE(v.counts.empty());
  EXPECT_EQ(v.imported_counts["keep"], 2);
  ASSERT_EQ(v.dead_ends.size(), 1u);
  EXPECT_EQ(v.experiments[v.dead_ends[0]].id, 3);
  EXPECT_EQ(v.first_measured, -1);
  EXPECT_EQ(v.next_id, 4);
  EXPECT_EQ(v.start_commit, "");
}

TEST(Plan, NoBenchmarkScriptIsAnError) {
  PlanInput in = flat_input();
  in.files.benchmark.clear();
  EXPECT_THROW(make_plan(in), Error);
}

TEST(Plan, DotAutoProtectsTheFolderAndHarnessesItsUntrackedScripts) {
  PlanInput in;
  in.files.dir = "/x";
  in.files.dot_auto = true;
  in.files.benchmark = ".auto/measure.sh";
  in.files.log = ".auto/log.jsonl";
  in.files.prompt = ".auto/prompt.md";
  in.files.hooks = {".auto/hooks/before.sh"};
  in.files.all = {".auto/hooks/before.sh", ".auto/lib.sh", ".auto/log.jsonl", ".auto/measure.sh", ".auto/prompt.md"};
  in.untracked = {".auto/hooks/before.sh", ".auto/lib.sh", ".auto/log.jsonl", ".auto/measure.sh", ".auto/prompt.md"};
  in.log.segments = {PiSegment{"g", "t_ms", "ms", "higher", 1}};
  in.config = PiConfig{50, std::string("sub"), {"color"}};
  in.rel_dir = "bench";  // the session sits in a folder of the repository
  Plan p = make_plan(in);
  YAML::Node y = YAML::Load(p.config_yaml);
  // Globs and harness paths are the repository's; commands run in the config's folder.
  EXPECT_EQ(y["protected"][0].as<std::string>(), "bench/.auto");
  EXPECT_EQ(y["harness"][1].as<std::string>(), "bench/.auto/lib.sh");
  // The log and the notes are not copied into the worktrees; scripts and what they source are.
  EXPECT_EQ(p.harness, (std::vector<std::string>{".auto/hooks/before.sh", ".auto/lib.sh", ".auto/measure.sh"}));
  EXPECT_EQ(y["metric"]["direction"].as<std::string>(), "higher");
  EXPECT_EQ(y["benchmark"]["command"].as<std::string>(), "cd sub && bash ../.auto/measure.sh");
  EXPECT_EQ(y["limits"]["max_experiments"].as<int>(), 50);
  EXPECT_FALSE(y["gates"]);
  std::string nm = joined(p.not_mapped);
  EXPECT_TRUE(contains(nm, ".auto/hooks/before.sh"));
  EXPECT_TRUE(contains(nm, "\"color\""));
}

TEST(IdeasMerge, PiIdeasBecomeItemsAndTriedOnesAreMarked) {
  std::vector<json> records = {
      {{"id", 1}, {"title", "Skip the uniq pass by counting in awk"}, {"status", "checks_failed"},
       {"asi", {{"pi", {{"run", 4}}}}}},
      {{"id", 2}, {"title", "Something else entirely"}, {"status", "discard"}, {"asi", {{"pi", {{"run", 5}}}}}},
  };
  std::string mine = "# My ideas\n- Use LC_ALL=C for every sort [#i1]\n";
  IdeasMerge m = merge_ideas(mine, "- Use LC_ALL=C for every sort\n- Skip the uniq pass by counting in awk\n", records);
  EXPECT_EQ(m.added, 1);  // the LC_ALL idea is there already
  EXPECT_EQ(m.marked, 1);
  auto items = ideas::parse_ideas(m.text);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].id, "i2");
  ASSERT_EQ(items[1].marks.size(), 1u);
  EXPECT_TRUE(contains(items[1].marks[0], "pi-autoresearch run 4 (imported experiment 1): checks_failed"));
  EXPECT_EQ(records[0]["idea"], "i2");
  EXPECT_FALSE(records[1].contains("idea"));
  EXPECT_TRUE(contains(m.text, "# My ideas\n- Use LC_ALL=C for every sort [#i1]\n"));  // the person's text stays
}

TEST(IdeasMerge, TriedIdeaNeedsRealOverlap) {
  EXPECT_TRUE(tried_idea("Read the input once", "Read the input once"));
  EXPECT_TRUE(tried_idea("Cache compiled regex", "cache the compiled regex objects"));
  EXPECT_FALSE(tried_idea("Cache compiled regex", "Parallel sort with xargs"));
  EXPECT_FALSE(tried_idea("Use a faster sort", "Use a bigger buffer"));
}

}  // namespace
}  // namespace ar::importer
