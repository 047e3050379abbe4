// The summary index reads experiment lines with parse_for_summary; what it gives summarize() must
// equal what a full parse gives, and a line it cannot vouch for must fall back to the full parser.

#include "journal/light_parse.hpp"
#include "journal/journal.hpp"

#include <gtest/gtest.h>

namespace ar::journal {
namespace {

using nlohmann::json;

json record() {
  return {{"type", "experiment"},
          {"schema", 1},
          {"id", 42},
          {"session", "s"},
          {"status", "keep"},
          {"reason", "improved, with \"quotes\", a } and a ] and \\ back"},
          {"title", "Unicode ✓ and tabs\tand newlines\n"},
          {"hypothesis", "{not an object}"},
          {"mechanism", ""},
          {"idea", "i3"},
          {"source", {{"kind", "sweep"}, {"file", "sweep:buckets"}}},
          {"key", "sweep:buckets=64"},
          {"patch_sha256", "ab"},
          {"diff_sha256", "cd"},
          {"commit", "0123"},
          {"base_commit", "4567"},
          {"patch_file", ".autoresearch/patches/0042.patch"},
          {"files", {"a.c", "b [1].c"}},
          {"asi", {{"sweep", "buckets"}, {"value", "64"}, {"from", "32"}, {"tokens", {1, 2, {{"x", "]}"}}}}}},
          {"metric",
           {{"name", "t"},
            {"base", {1.5, 2.5e3, -0.25}},
            {"candidate", {1, 2, 3}},
            {"effect", -0.125},
            {"ci_low", -0.2},
            {"ci_high", -1e-3},
            {"p", 0.001},
            {"base_median", 100},
            {"candidate_median", 87.5},
            {"improvement", 0.125}}},
          {"metrics", {{"rss", {{"base_samples", {1, 2}}}}}},
          {"guards", json::object()},
          {"gates", {{{"name", "build"}, {"exit", 0}}}},
          {"durations", {{"total", 3.5}}},
          {"decision", {{"looks", {3, 5}}}},
          {"warnings", {"w"}},
          {"pairs", 5}};
}

void expect_same(const Summary& a, const Summary& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.hypothesis, b.hypothesis);
  EXPECT_EQ(a.idea, b.idea);
  EXPECT_EQ(a.source_kind, b.source_kind);
  EXPECT_EQ(a.source_file, b.source_file);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.diff_sha256, b.diff_sha256);
  EXPECT_EQ(a.commit, b.commit);
  EXPECT_EQ(a.patch_file, b.patch_file);
  EXPECT_EQ(a.sweep, b.sweep);
  EXPECT_EQ(a.sweep_value, b.sweep_value);
  EXPECT_EQ(a.sweep_from, b.sweep_from);
  EXPECT_EQ(a.files, b.files);
  EXPECT_EQ(a.has_metric, b.has_metric);
  EXPECT_EQ(a.effect, b.effect);
  EXPECT_EQ(a.ci_low, b.ci_low);
  EXPECT_EQ(a.ci_high, b.ci_high);
  EXPECT_EQ(a.p, b.p);
  EXPECT_EQ(a.base_median, b.base_median);
  EXPECT_EQ(a.candidate_median, b.candidate_median);
  EXPECT_EQ(a.pairs, b.pairs);
}

TEST(LightParse, GivesTheSameSummaryAsAFullParse) {
  std::string line = record().dump();
  std::optional<json> light = parse_for_summary(line);
  ASSERT_TRUE(light.has_value());
  expect_same(summarize(*light, 0, line.size()), summarize(json::parse(line), 0, line.size()));
  // Integers keep the type the full parser gives them (validation requires integers).
  EXPECT_TRUE((*light)["id"].is_number_unsigned());
  EXPECT_TRUE((*light)["metrics"].is_object());
  EXPECT_FALSE((*light)["metric"].contains("base")) << "samples are skipped";
}

TEST(LightParse, WhitespaceAndEscapedValuesAreReadToo) {
  std::string line = record().dump(1);
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  std::optional<json> light = parse_for_summary(line);
  ASSERT_TRUE(light.has_value());
  expect_same(summarize(*light, 0, 0), summarize(json::parse(line), 0, 0));
}

TEST(LightParse, LinesItCannotVouchForAreLeftToTheFullParser) {
  std::string good = record().dump();
  for (const std::string& bad : std::vector<std::string>{
           good.substr(0, good.size() - 1), good + "x", std::string("[1,2]"), std::string("{\"a\":\"open}"),
           std::string("{\"a\" 1}"), std::string("{\"k\\u0041\":1}"), std::string("")}) {
    EXPECT_FALSE(parse_for_summary(bad).has_value()) << bad.substr(0, 60);
  }
  EXPECT_TRUE(parse_for_summary("{}").has_value());
}

}  // namespace
}  // namespace ar::journal
