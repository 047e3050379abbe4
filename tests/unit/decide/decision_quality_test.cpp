// The decision-quality benchmark in reduced form: the same simulation code as the program
// autoresearch_decision_quality (tests/quality), only the cells the targets are stated for, with
// fewer trials and a seed of its own. A target missed by more than three standard errors fails.

#include "quality/mann_whitney.hpp"
#include "quality/simulation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ar::quality {
namespace {

// 4000 trials per cell take about half a second in a Debug build, and keep the allowance (three
// binomial standard errors at the bound) narrow: 0.7 points for the 2% target, 1.7 for 85%.
constexpr int k_trials = 4000;
constexpr std::uint64_t k_seed = 7340033;

struct TargetCell {
  Target target;
  Cell cell;
};

std::vector<TargetCell> run_targets(const RuleSpec& rule, int trials, std::uint64_t seed) {
  const std::vector<NoiseModel> noises = standard_noise_models();
  const std::vector<double> effects = standard_effects();
  std::vector<TargetCell> out;
  for (const Target& target : standard_targets()) {
    std::size_t e = 0;
    while (e < effects.size() && effects[e] != target.effect) ++e;
    EXPECT_LT(e, effects.size()) << target.what;
    if (e == effects.size()) continue;
    out.push_back({target, simulate(noises.at(k_target_noise), k_target_noise, effects[e],
                                    static_cast<int>(e), rule, trials, seed)});
  }
  return out;
}

TEST(DecisionQuality, OurRuleMeetsEveryTargetWithinSamplingError) {
  const RuleSpec ours = standard_rules().at(0);
  ASSERT_EQ(ours.kind, RuleKind::decide);
  ASSERT_EQ(ours.rule.method, decide::Method::sequential) << "the default rule is ours";
  for (const TargetCell& tc : run_targets(ours, k_trials, k_seed)) {
    const TargetCheck c = check_target(tc.target, tc.cell);
    RecordProperty(tc.target.what, std::to_string(c.observed));
    EXPECT_TRUE(c.within_error) << tc.target.what << ": observed " << c.observed
                                << ", allowance " << c.allowance << " over " << tc.cell.trials
                                << " trials";
  }
}

TEST(DecisionQuality, TheCheckCatchesARuleThatMissesTheTargets) {
  // One run per side keeps half of all no-ops: the same check must fail it.
  const std::vector<RuleSpec> rules = standard_rules();
  const RuleSpec* single = nullptr;
  for (const RuleSpec& r : rules)
    if (r.kind == RuleKind::single_run) single = &r;
  ASSERT_NE(single, nullptr);
  // It keeps a no-op half the time and a 2% regression about one time in eight.
  for (const TargetCell& tc : run_targets(*single, 400, k_seed)) {
    const TargetCheck c = check_target(tc.target, tc.cell);
    if (tc.target.kind != Target::Kind::keep_at_most) continue;
    EXPECT_FALSE(c.within_error) << tc.target.what << ": " << c.observed;
    if (tc.target.effect == 0) {
      EXPECT_NEAR(c.observed, 0.5, 0.1);
    }
  }
}

TEST(DecisionQuality, RulesShareTheirRunsWithinACell) {
  // Every rule of one cell reads the same simulated runs: the Mann-Whitney rule's 18 runs start
  // with the single-run rule's two.
  const NoiseModel noise = standard_noise_models().at(k_target_noise);
  RunSequence a(noise, -0.02, 99, true);
  RunSequence b(noise, -0.02, 99, true);
  for (int i = 0; i < 24; ++i) EXPECT_DOUBLE_EQ(a.value(i, i % 2 == 1), b.value(i, i % 2 == 1));
  // Asking in another order, or for the other side, does not shift later runs.
  RunSequence c(noise, -0.02, 99, true);
  EXPECT_NEAR(c.value(23, false) * 0.98, a.value(23, true), 1e-12 * a.value(23, true));
  EXPECT_DOUBLE_EQ(c.value(0, true), a.value(0, true));
}

TEST(DecisionQuality, NoiseModelHasTheStatedShape) {
  NoiseModel quiet;
  quiet.cv = 0;
  quiet.drift = 0.002;
  RunSequence up(quiet, 0.05, 1, true);
  RunSequence down(quiet, 0.05, 1, false);
  EXPECT_DOUBLE_EQ(up.value(0, false), 100);
  EXPECT_NEAR(up.value(10, false), 102, 1e-9);
  EXPECT_NEAR(down.value(10, false), 98, 1e-9);
  EXPECT_NEAR(up.value(10, true), 102 * 1.05, 1e-9);

  // Outliers alone: 5% of runs slowed by 5-30%, uniformly.
  NoiseModel hiccups;
  hiccups.cv = 0;
  hiccups.outlier_rate = 0.05;
  RunSequence slow(hiccups, 0, 12345, true);
  const int n = 40000;
  int slowed = 0;
  double slowdown_sum = 0;
  for (int i = 0; i < n; ++i) {
    const double v = slow.value(i, false) / 100;
    if (v == 1) continue;
    ++slowed;
    slowdown_sum += v - 1;
    EXPECT_GE(v, 1.05);
    EXPECT_LE(v, 1.30);
  }
  EXPECT_NEAR(static_cast<double>(slowed) / n, 0.05, 0.004);
  EXPECT_NEAR(slowdown_sum / slowed, 0.175, 0.01);

  // Lognormal noise alone: mean 1, the given coefficient of variation.
  NoiseModel spread;
  spread.cv = 0.03;
  RunSequence noisy(spread, 0, 54321, true);
  double sum = 0;
  double sum_sq = 0;
  for (int i = 0; i < n; ++i) {
    const double v = noisy.value(i, false) / 100;
    sum += v;
    sum_sq += v * v;
  }
  const double mean = sum / n;
  EXPECT_NEAR(mean, 1, 0.001);
  EXPECT_NEAR(std::sqrt(sum_sq / n - mean * mean), 0.03, 0.001);
}

TEST(DecisionQuality, MannWhitneyExactSmallSamples) {
  // Complete separation of 3 vs 3: 1 ordering in C(6,3) = 20.
  MannWhitney mw = mann_whitney({1, 2, 3}, {4, 5, 6});
  EXPECT_TRUE(mw.exact);
  EXPECT_DOUBLE_EQ(mw.u, 9);
  EXPECT_NEAR(mw.p_less, 1.0 / 20, 1e-12);
  EXPECT_NEAR(mw.p_greater, 1.0, 1e-12);
  // One inversion: U = 8, P(U >= 8) = 2 / 20.
  mw = mann_whitney({1, 2, 4}, {3, 5, 6});
  EXPECT_DOUBLE_EQ(mw.u, 8);
  EXPECT_NEAR(mw.p_less, 2.0 / 20, 1e-12);
  // 9 vs 9 separated: 1 / C(18, 9) = 1 / 48620.
  std::vector<double> x;
  std::vector<double> y;
  for (int i = 0; i < 9; ++i) {
    x.push_back(i);
    y.push_back(100 + i);
  }
  mw = mann_whitney(x, y);
  EXPECT_NEAR(mw.p_less, 1.0 / 48620, 1e-15);
  EXPECT_NEAR(mann_whitney(y, x).p_greater, 1.0 / 48620, 1e-15);
}

TEST(DecisionQuality, MannWhitneyTiesUseTheCorrectedNormalApproximation) {
  const MannWhitney mw = mann_whitney({1, 2, 2, 3}, {2, 3, 4, 5});
  EXPECT_FALSE(mw.exact);
  // U: 1 is below all 4; each 2 is below 3 of them and ties one; 3 is below 2 and ties one.
  EXPECT_DOUBLE_EQ(mw.u, 4 + 3.5 + 3.5 + 2.5);
  // Mean 8, tie groups of 3 (the 2s) and 2 (the 3s): var = 16/12 * (9 - 30/56).
  const double sd = std::sqrt(16.0 / 12 * (9 - 30.0 / 56));
  const double z = (13.5 - 8 - 0.5) / sd;
  EXPECT_NEAR(mw.p_less, 0.5 * std::erfc(z / std::sqrt(2.0)), 1e-12);
  EXPECT_EQ(mann_whitney({1, 1}, {1, 1}).p_less, 1);
  EXPECT_THROW(mann_whitney({}, {1}), std::invalid_argument);
}

TEST(DecisionQuality, MarkdownTableHasEveryRuleAndEffect) {
  Table t;
  t.noises = {standard_noise_models().at(0)};
  t.rules = standard_rules();
  t.effects = {0.0, -0.05};
  t.cells.assign(1, std::vector<std::vector<Cell>>(t.rules.size()));
  for (std::size_t r = 0; r < t.rules.size(); ++r) {
    for (std::size_t e = 0; e < t.effects.size(); ++e) {
      t.cells[0][r].push_back(simulate(t.noises[0], 0, t.effects[e], static_cast<int>(e),
                                       t.rules[r], 20, 1));
    }
  }
  const std::string md = markdown_table(t);
  EXPECT_NE(md.find("| noise | rule | 0 | -5% |"), std::string::npos) << md;
  for (const RuleSpec& r : t.rules) EXPECT_NE(md.find("| " + r.name + " |"), std::string::npos);
  EXPECT_EQ(format_effect(0.05), "+5%");
  EXPECT_EQ(format_effect(-0.10), "-10%");
  EXPECT_EQ(format_effect(0), "0");
}

} // namespace
} // namespace ar::quality
