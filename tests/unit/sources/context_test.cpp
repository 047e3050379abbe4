// sources::proposer_context and context_markdown: everything a proposer needs, in JSON and Markdown.

#include "sources/context.hpp"

#include "ideas/ideas.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ar::sources {
namespace {

using nlohmann::json;

config::Config make_config() {
  config::Config cfg;
  cfg.session = "ctx";
  cfg.goal = "make wordfreq fast on big inputs";
  cfg.metric.name = "wall_ms";
  cfg.metric.direction = decide::Direction::lower;
  cfg.metric.unit = "ms";
  cfg.protected_paths = {"bench.sh", "gates/**"};
  cfg.scope = {"src/**"};
  cfg.decision.min_effect = 0.02;
  cfg.sources.proposer.recent = 20;
  return cfg;
}

json measured(int id, const std::string& title, const std::string& status, double effect, double lo, double hi,
              double base_median, double cand_median, const std::string& mechanism) {
  return {{"type", "experiment"},
          {"id", id},
          {"title", title},
          {"status", status},
          {"reason", status == "discard" ? "regression" : ""},
          {"mechanism", mechanism},
          {"files", json::array({"src/a.c"})},
          {"metric",
           {{"effect", effect},
            {"ci_low", lo},
            {"ci_high", hi},
            {"base_median", base_median},
            {"candidate_median", cand_median},
            {"improvement", -effect}}}};
}

// Three experiments: a keep, a regression (dead end) and a failed gate (dead end, unmeasured).
journal::SessionView make_view() {
  journal::SessionView v;
  v.session = "ctx";
  v.add(journal::summarize(
      measured(1, "Hoist the strlen", "keep", -0.125, -0.15, -0.10, 200.0, 175.0, "strlen ran once per byte"), 0, 0));
  v.add(journal::summarize(
      measured(2, "Bigger hash table", "discard", 0.07, 0.05, 0.09, 175.0, 187.0, "the table no longer fits in L2"), 0,
      0));
  v.add(journal::summarize({{"type", "experiment"},
                            {"id", 3},
                            {"title", "Drop the bounds check"},
                            {"status", "checks_failed"},
                            {"reason", "gate tests failed: exit 1"},
                            {"mechanism", "out-of-range reads"}},
                           0, 0));
  return v;
}

const json* find_by_id(const json& list, int id) {
  for (const json& item : list) {
    if (item.value("id", 0) == id) return &item;
  }
  return nullptr;
}

TEST(LoopContext, JsonHasGoalMetricDirectionProtectedScopeAndNotes) {
  json c = proposer_context(make_config(), make_view(), {}, "", "perf: 40% in hash()");
  EXPECT_EQ(c["session"], "ctx");
  EXPECT_EQ(c["goal"], "make wordfreq fast on big inputs");
  EXPECT_EQ(c["metric"]["name"], "wall_ms");
  EXPECT_EQ(c["metric"]["direction"], "lower");
  EXPECT_EQ(c["metric"]["unit"], "ms");
  EXPECT_EQ(c["protected"], json::array({"bench.sh", "gates/**"}));
  EXPECT_EQ(c["scope"], json::array({"src/**"}));
  EXPECT_DOUBLE_EQ(c["min_effect"].get<double>(), 0.02);
  EXPECT_EQ(c["notes"], "perf: 40% in hash()");
}

TEST(LoopContext, BaselineAndBestWithTheLastKeepsCi) {
  json c = proposer_context(make_config(), make_view(), {}, "", "");
  ASSERT_TRUE(c.contains("baseline")) << c.dump(2);
  EXPECT_DOUBLE_EQ(c["baseline"]["value"].get<double>(), 200.0);
  EXPECT_EQ(c["baseline"]["experiment"], 1);
  EXPECT_DOUBLE_EQ(c["best"]["value"].get<double>(), 175.0);
  EXPECT_EQ(c["best"]["experiment"], 1);
  EXPECT_NEAR(c["best"]["change_vs_baseline"].get<double>(), -0.125, 1e-12);
  EXPECT_DOUBLE_EQ(c["best"]["last_keep"]["ci_low"].get<double>(), -0.15);
  EXPECT_DOUBLE_EQ(c["best"]["last_keep"]["ci_high"].get<double>(), -0.10);
}

TEST(LoopContext, NoBaselineBeforeAnythingWasMeasured) {
  journal::SessionView empty;
  empty.session = "ctx";
  json c = proposer_context(make_config(), empty, {}, "", "");
  EXPECT_FALSE(c.contains("baseline"));
  EXPECT_FALSE(c.contains("best"));
  EXPECT_TRUE(c["recent_experiments"].empty());
  EXPECT_TRUE(c["dead_ends"].empty());
  std::string md = context_markdown(c);
  EXPECT_NE(md.find("_None yet._"), std::string::npos) << md;
}

TEST(LoopContext, RecentExperimentsWithStatusEffectCiAndMechanism) {
  json c = proposer_context(make_config(), make_view(), {}, "", "");
  ASSERT_EQ(c["recent_experiments"].size(), 3u);
  const json* keep = find_by_id(c["recent_experiments"], 1);
  ASSERT_NE(keep, nullptr);
  EXPECT_EQ((*keep)["title"], "Hoist the strlen");
  EXPECT_EQ((*keep)["status"], "keep");
  EXPECT_DOUBLE_EQ((*keep)["effect"].get<double>(), -0.125);
  EXPECT_DOUBLE_EQ((*keep)["ci_low"].get<double>(), -0.15);
  EXPECT_DOUBLE_EQ((*keep)["ci_high"].get<double>(), -0.10);
  EXPECT_EQ((*keep)["mechanism"], "strlen ran once per byte");
  const json* gate = find_by_id(c["recent_experiments"], 3);
  ASSERT_NE(gate, nullptr);
  EXPECT_FALSE(gate->contains("effect")) << "an unmeasured experiment has no effect";
  EXPECT_EQ((*gate)["reason"], "gate tests failed: exit 1");
}

TEST(LoopContext, RecentIsTheLastNOnly) {
  config::Config cfg = make_config();
  cfg.sources.proposer.recent = 2;
  json c = proposer_context(cfg, make_view(), {}, "", "");
  ASSERT_EQ(c["recent_experiments"].size(), 2u);
  EXPECT_EQ(c["recent_experiments"][0]["id"], 2);
  EXPECT_EQ(c["recent_experiments"][1]["id"], 3);
  // The dead ends are not only the recent ones.
  cfg.sources.proposer.recent = 0;
  c = proposer_context(cfg, make_view(), {}, "", "");
  EXPECT_TRUE(c["recent_experiments"].empty());
  EXPECT_EQ(c["dead_ends"].size(), 2u);
}

TEST(LoopContext, DeadEndsAreDiscardsAndFailedChecksWithMechanism) {
  json c = proposer_context(make_config(), make_view(), {}, "", "");
  ASSERT_EQ(c["dead_ends"].size(), 2u) << c["dead_ends"].dump(2);
  const json* d = find_by_id(c["dead_ends"], 2);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ((*d)["title"], "Bigger hash table");
  EXPECT_EQ((*d)["mechanism"], "the table no longer fits in L2");
  EXPECT_DOUBLE_EQ((*d)["effect"].get<double>(), 0.07);
  EXPECT_NE(find_by_id(c["dead_ends"], 3), nullptr);
  EXPECT_EQ(find_by_id(c["dead_ends"], 1), nullptr) << "a keep is no dead end";
}

TEST(LoopContext, OpenIdeasWithIdsAndMarksDoneOnesLeftOut) {
  std::vector<ideas::Idea> list = ideas::parse_ideas(
      "- use a trie [#i1]\n"
      "  - autoresearch: dead end in experiment 2: +7.0%\n"
      "- [x] already done [#i2]\n"
      "- prefetch the next block [#i3]\n");
  json c = proposer_context(make_config(), make_view(), list, "", "");
  ASSERT_EQ(c["ideas"].size(), 2u) << c["ideas"].dump(2);
  EXPECT_EQ(c["ideas"][0]["id"], "i1");
  EXPECT_EQ(c["ideas"][0]["text"], "use a trie");
  EXPECT_EQ(c["ideas"][0]["marks"], json::array({"dead end in experiment 2: +7.0%"}));
  EXPECT_EQ(c["ideas"][1]["id"], "i3");
}

TEST(LoopContext, MarkdownCarriesEverything) {
  const std::string dead_md =
      "# Dead ends: session ctx\n\nPreamble that the context leaves out.\n\n"
      "## idea i7\n\n### Bigger hash table (experiment 2)\n\n- mechanism: the table no longer fits in L2\n";
  std::vector<ideas::Idea> list = ideas::parse_ideas("- use a trie [#i1]\n  - autoresearch: tried once\n");
  json c = proposer_context(make_config(), make_view(), list, dead_md, "perf: 40% in hash()");
  std::string md = context_markdown(c);
  auto has = [&](const std::string& s) { return md.find(s) != std::string::npos; };
  EXPECT_TRUE(has("make wordfreq fast on big inputs")) << md;
  EXPECT_TRUE(has("`wall_ms`")) << md;
  EXPECT_TRUE(has("lower is better")) << md;
  EXPECT_TRUE(has("2.0%")) << "min_effect\n" << md;
  EXPECT_TRUE(has("Baseline 200, best so far 175 (-12.5% vs baseline)")) << md;
  // Recent experiments: title, status, effect with its CI, mechanism.
  EXPECT_TRUE(has("#1 Hoist the strlen")) << md;
  EXPECT_TRUE(has("keep, -12.5% (95% CI -15.0% to -10.0%)")) << md;
  EXPECT_TRUE(has("mechanism: strlen ran once per byte")) << md;
  EXPECT_TRUE(has("#3 Drop the bounds check")) << md;
  // Open ideas with ids and their marks.
  EXPECT_TRUE(has("- [i1] use a trie")) << md;
  EXPECT_TRUE(has("  - tried once")) << md;
  // The dead-ends catalogue from its first section on.
  EXPECT_TRUE(has("## idea i7")) << md;
  EXPECT_TRUE(has("the table no longer fits in L2")) << md;
  EXPECT_FALSE(has("Preamble that the context leaves out")) << md;
  // Protected paths, scope and notes.
  EXPECT_TRUE(has("`bench.sh`, `gates/**`")) << md;
  EXPECT_TRUE(has("Only change: `src/**`")) << md;
  EXPECT_TRUE(has("## Notes")) << md;
  EXPECT_TRUE(has("perf: 40% in hash()")) << md;
  // How to answer: the proposal file and its fields.
  EXPECT_TRUE(has("$AUTORESEARCH_PROPOSAL")) << md;
  EXPECT_TRUE(has("\"mechanism\"")) << md;
}

TEST(LoopContext, MarkdownWithoutScopeNotesOrDeadEnds) {
  config::Config cfg = make_config();
  cfg.scope.clear();
  cfg.protected_paths.clear();
  json c = proposer_context(cfg, journal::SessionView{}, {}, "# Dead ends: session ctx\n\n_None yet._\n", "");
  std::string md = context_markdown(c);
  EXPECT_EQ(md.find("Only change:"), std::string::npos) << md;
  EXPECT_EQ(md.find("## Notes"), std::string::npos) << md;
  EXPECT_NE(md.find("Never touch: (nothing listed)"), std::string::npos) << md;
  size_t dead = md.find("## Dead ends: do not retry");
  ASSERT_NE(dead, std::string::npos) << md;
  EXPECT_NE(md.find("_None._", dead), std::string::npos) << md;
  EXPECT_NE(md.find("## Open ideas\n\n_None._"), std::string::npos) << md;
}

TEST(LoopContext, StaysBoundedOnALongSession) {
  // Built before every experiment: its size must not grow with the journal.
  journal::SessionView v = make_view();
  for (int id = 4; id <= 5000; ++id) {
    v.add(journal::summarize(measured(id, "Try " + std::to_string(id), id % 3 == 0 ? "inconclusive" : "discard", 0.01,
                                      0.0, 0.02, 175.0, 176.0, "noise"),
                             0, 0));
  }
  json c = proposer_context(make_config(), v, {}, "", "");
  EXPECT_EQ(c["recent_experiments"].size(), 20u);
  EXPECT_EQ(c["recent_experiments"].back()["id"], 5000);
  ASSERT_EQ(c["dead_ends"].size(), k_context_dead_ends);
  EXPECT_EQ(c["dead_ends"].back()["id"], 5000);  // the latest ones, oldest first
  EXPECT_LT(c["dead_ends"].front()["id"].get<int>(), c["dead_ends"].back()["id"].get<int>());
  EXPECT_DOUBLE_EQ(c["baseline"]["value"].get<double>(), 200.0);
}

TEST(LoopContext, HigherIsBetterIsSaid) {
  config::Config cfg = make_config();
  cfg.metric.direction = decide::Direction::higher;
  cfg.metric.unit.clear();
  json c = proposer_context(cfg, make_view(), {}, "", "");
  EXPECT_EQ(c["metric"]["direction"], "higher");
  EXPECT_NE(context_markdown(c).find("higher is better)"), std::string::npos);
}

// History brought in by `autoresearch import`: listed as imported, its discard a dead end, and no
// baseline or best taken from it.
TEST(ProposerContext, ImportedHistoryIsListedAsImported) {
  journal::SessionView v;
  v.session = "ctx";
  auto imported = [](int id, const std::string& title, const std::string& status) {
    return json{{"type", "experiment"},
                {"id", id},
                {"title", title},
                {"status", status},
                {"reason", "imported: pi-autoresearch run " + std::to_string(id) + "; pi logged wall_ms=9 ms"},
                {"source", {{"kind", "import"}, {"file", ".auto/log.jsonl"}}}};
  };
  v.add(journal::summarize(imported(1, "Baseline", "keep"), 0, 0));
  v.add(journal::summarize(imported(2, "Unroll the loop", "discard"), 0, 0));
  json ctx = proposer_context(make_config(), v, {}, "", "");
  EXPECT_FALSE(ctx.contains("baseline"));
  ASSERT_TRUE(ctx.contains("imported"));
  EXPECT_EQ(ctx["imported"]["experiments"], 2);
  EXPECT_EQ(ctx["imported"]["file"], ".auto/log.jsonl");
  EXPECT_EQ(ctx["imported"]["counts"]["discard"], 1);
  ASSERT_EQ(ctx["dead_ends"].size(), 1u);
  EXPECT_EQ(ctx["dead_ends"][0]["imported"], true);
  std::string md = context_markdown(ctx);
  EXPECT_NE(md.find("## Imported history (2 runs of a pi-autoresearch session, .auto/log.jsonl"), std::string::npos)
      << md;
  EXPECT_NE(md.find("- #2 Unroll the loop — discard; imported: pi-autoresearch run 2; pi logged wall_ms=9 ms"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("- #2 Unroll the loop — discard (imported)"), std::string::npos) << md;  // in recent
}

}  // namespace
}  // namespace ar::sources
