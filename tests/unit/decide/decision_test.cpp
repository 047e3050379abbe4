#include "decide/decision.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace ar::decide {
namespace {

// Base runs with about 1% spread around 100 (the same list for every fixture, so only the
// candidate side differs between them).
const std::vector<double> k_base = {100.0, 101.0, 99.2, 100.6, 99.5, 100.3,
                                    98.9,  100.9, 99.7, 100.1, 99.4, 100.8};

// Candidate = base * ratio[i] for the first ratio.size() pairs.
Paired with_ratios(const std::vector<double>& ratios) {
  Paired p;
  for (std::size_t i = 0; i < ratios.size(); ++i) {
    double base = k_base[i % k_base.size()];
    p.base.push_back(base);
    p.candidate.push_back(base * ratios[i]);
  }
  return p;
}

Paired prefix(const Paired& p, std::size_t n) {
  return Paired{{p.base.begin(), p.base.begin() + static_cast<std::ptrdiff_t>(n)},
                {p.candidate.begin(), p.candidate.begin() + static_cast<std::ptrdiff_t>(n)}};
}

std::map<std::string, Paired> prefix(const std::map<std::string, Paired>& guards, std::size_t n) {
  std::map<std::string, Paired> out;
  for (const auto& [name, p] : guards) out[name] = prefix(p, n);
  return out;
}

struct LookRun {
  Verdict verdict;
  int pairs = 0;  // the look that decided, or the last look
};

// Walks the rule's looks like the loop does, stopping at the first decision.
LookRun run_looks(const Paired& samples, Direction direction, const Rule& rule = {},
              const std::map<std::string, Paired>& guard_samples = {},
              const std::vector<GuardSpec>& guards = {}) {
  LookRun run;
  for (int look : rule.looks) {
    auto n = static_cast<std::size_t>(look);
    if (n > samples.base.size()) break;
    run.verdict =
        evaluate(prefix(samples, n), direction, prefix(guard_samples, n), guards, rule);
    run.pairs = look;
    if (run.verdict.outcome != Outcome::undecided) break;
  }
  return run;
}

// 10% lower with about 1% noise on the ratio.
const std::vector<double> k_win = {0.90, 0.91, 0.895, 0.905, 0.90, 0.89,
                                   0.91, 0.90, 0.898, 0.902, 0.90, 0.906};
// 10% higher with the same noise.
const std::vector<double> k_loss = {1.10, 1.11, 1.095, 1.105, 1.10, 1.09,
                                    1.11, 1.10, 1.098, 1.102, 1.10, 1.106};

TEST(DecisionLooks, IsLookFollowsTheRule) {
  Rule rule;
  for (int n : {3, 5, 7, 9, 12}) EXPECT_TRUE(is_look(rule, n)) << n;
  for (int n : {0, 1, 2, 4, 6, 8, 10, 11, 13}) EXPECT_FALSE(is_look(rule, n)) << n;
}

TEST(DecisionNames, ToString) {
  EXPECT_STREQ(to_string(Outcome::undecided), "undecided");
  EXPECT_STREQ(to_string(Outcome::keep), "keep");
  EXPECT_STREQ(to_string(Outcome::discard), "discard");
  EXPECT_STREQ(to_string(Outcome::inconclusive), "inconclusive");
  EXPECT_STREQ(to_string(Direction::lower), "lower");
  EXPECT_STREQ(to_string(Direction::higher), "higher");
}

TEST(DecisionRule, ClearWinKeepsAtLookFiveNotBefore) {
  Paired win = with_ratios(k_win);
  Verdict first = evaluate(prefix(win, 3), Direction::lower, {}, {}, Rule{});
  EXPECT_EQ(first.outcome, Outcome::undecided) << "the first look never keeps";

  LookRun run = run_looks(win, Direction::lower);
  EXPECT_EQ(run.verdict.outcome, Outcome::keep);
  EXPECT_EQ(run.pairs, 5);
  EXPECT_EQ(run.verdict.reason, "improved");
  EXPECT_NEAR(run.verdict.primary.change, -0.10, 0.005);
  EXPECT_GT(run.verdict.primary.improvement, 0.10);
  EXPECT_LT(run.verdict.primary.p_better, 0.0125);
  EXPECT_EQ(run.verdict.primary.pairs, 5);
}

TEST(DecisionRule, ClearLossDiscardsAtLookThreeAsRegression) {
  LookRun run = run_looks(with_ratios(k_loss), Direction::lower);
  EXPECT_EQ(run.verdict.outcome, Outcome::discard);
  EXPECT_EQ(run.pairs, 3);
  EXPECT_EQ(run.verdict.reason, "regression");
  EXPECT_LT(run.verdict.primary.improvement, 0);
}

TEST(DecisionRule, ANoisyNoOpWithAWorseMedianIsNoEffectNotARegression) {
  // Median 3% worse, but the pairs scatter from -3% to +19%: nothing shows the change is worse.
  Paired p{{100, 100, 100}, {103, 119, 97}};
  Verdict v = evaluate(p, Direction::lower, {}, {}, Rule{});
  ASSERT_EQ(v.outcome, Outcome::discard);
  EXPECT_GT(v.primary.change, 0.01);
  EXPECT_LT(v.primary.ci_low, 0);
  EXPECT_EQ(v.reason, "no effect");
  // The same median with a tight spread is a regression.
  Paired q{{100, 100, 100}, {103, 103.2, 102.9}};
  Verdict w = evaluate(q, Direction::lower, {}, {}, Rule{});
  ASSERT_EQ(w.outcome, Outcome::discard);
  EXPECT_EQ(w.reason, "regression");
}

TEST(DecisionRule, NoOpDiscardsAsNoEffectByLookFive) {
  std::vector<double> ratios;
  for (int i = 0; i < 12; ++i) ratios.push_back(i % 2 == 0 ? 1.003 : 0.997);
  LookRun run = run_looks(with_ratios(ratios), Direction::lower);
  EXPECT_EQ(run.verdict.outcome, Outcome::discard);
  EXPECT_LE(run.pairs, 5);
  EXPECT_EQ(run.verdict.reason, "no effect");
}

TEST(DecisionRule, SmallNoisyEffectIsUndecidedThenInconclusive) {
  // About 1.2% better in the median, with several percent of noise.
  const std::vector<double> d = {-0.045, 0.025, -0.012, 0.020,  -0.040, -0.012,
                                 0.030,  -0.013, -0.035, 0.028, -0.012, -0.045};
  std::vector<double> ratios;
  for (double x : d) ratios.push_back(std::exp(x));
  Paired samples = with_ratios(ratios);
  Rule rule;
  for (int look : {3, 5, 7, 9}) {
    Verdict v = evaluate(prefix(samples, static_cast<std::size_t>(look)), Direction::lower, {}, {},
                         rule);
    EXPECT_EQ(v.outcome, Outcome::undecided) << "at " << look << ": " << v.reason;
  }
  Verdict last = evaluate(samples, Direction::lower, {}, {}, rule);
  EXPECT_EQ(last.outcome, Outcome::inconclusive);
  EXPECT_EQ(last.reason, "undecided after 12 pairs");
  EXPECT_NEAR(last.primary.change, -0.012, 0.001);
  EXPECT_GT(last.primary.p_better, 0.0125);
  EXPECT_LT(last.primary.p_better, 0.5);
}

TEST(DecisionRule, HigherIsBetterMirrors) {
  // Throughput 10% up is a win, 10% down a regression.
  LookRun win = run_looks(with_ratios(k_loss), Direction::higher);
  EXPECT_EQ(win.verdict.outcome, Outcome::keep);
  EXPECT_EQ(win.pairs, 5);
  EXPECT_NEAR(win.verdict.primary.change, 0.10, 0.005);
  EXPECT_GT(win.verdict.primary.improvement, 0.09);

  LookRun loss = run_looks(with_ratios(k_win), Direction::higher);
  EXPECT_EQ(loss.verdict.outcome, Outcome::discard);
  EXPECT_EQ(loss.pairs, 3);
  EXPECT_EQ(loss.verdict.reason, "regression");
  EXPECT_NEAR(loss.verdict.primary.change, -0.10, 0.005);
}

TEST(DecisionRule, AtMaxPairsNeverUndecided) {
  Rule rule;
  rule.looks = {3, 5};
  rule.max_pairs = 5;
  // A median improvement of 0.8%: below min_effect, above half of it, so no look decides it.
  Paired samples = with_ratios({0.992, 0.97, 1.01, 0.992, 0.99});
  EXPECT_EQ(evaluate(prefix(samples, 3), Direction::lower, {}, {}, rule).outcome,
            Outcome::undecided);
  Verdict v = evaluate(samples, Direction::lower, {}, {}, rule);
  EXPECT_EQ(v.outcome, Outcome::inconclusive);
  EXPECT_EQ(v.reason, "undecided after 5 pairs");
}

TEST(DecisionGuards, SignificantGuardRegressionDiscardsAClearWin) {
  Paired win = with_ratios(k_win);
  std::map<std::string, Paired> guard_samples = {
      {"rss_kb", Paired{{1000, 1000, 1000, 1000, 1000}, {1120, 1118, 1122, 1121, 1119}}}};
  std::vector<GuardSpec> guards = {{"rss_kb", Direction::lower, 0.05}};
  Verdict v = evaluate(prefix(win, 5), Direction::lower, guard_samples, guards, Rule{});
  EXPECT_EQ(v.outcome, Outcome::discard);
  EXPECT_EQ(v.reason, "guard rss_kb worse by 12.0% (tolerance 5%)");
  ASSERT_EQ(v.guards.count("rss_kb"), 1u);
  EXPECT_NEAR(v.guards.at("rss_kb").change, 0.12, 1e-9);
  EXPECT_LT(v.guards.at("rss_kb").p_worse, 0.0125);
  EXPECT_EQ(v.primary.pairs, 5);

  // So consistent a regression is significant already at the first look.
  Verdict early = evaluate(prefix(win, 3), Direction::lower, prefix(guard_samples, 3), guards,
                           Rule{});
  EXPECT_EQ(early.outcome, Outcome::discard);
  EXPECT_EQ(early.reason.rfind("guard rss_kb worse by", 0), 0u) << early.reason;
}

TEST(DecisionGuards, NoisyGuardMedianBeyondToleranceBlocksAKeep) {
  Paired win = with_ratios(k_win);
  // Median 8% worse but far too noisy to be significant.
  std::map<std::string, Paired> guard_samples = {
      {"rss_kb", Paired{{100, 100, 100, 100, 100}, {130, 95, 108, 125, 90}}}};
  std::vector<GuardSpec> guards = {{"rss_kb", Direction::lower, 0.05}};
  Verdict early = evaluate(prefix(win, 3), Direction::lower, prefix(guard_samples, 3), guards,
                           Rule{});
  EXPECT_EQ(early.outcome, Outcome::undecided) << early.reason;

  Verdict v = evaluate(prefix(win, 5), Direction::lower, guard_samples, guards, Rule{});
  EXPECT_GT(v.guards.at("rss_kb").p_worse, 0.0125);
  EXPECT_EQ(v.outcome, Outcome::discard);
  EXPECT_EQ(v.reason, "guard rss_kb worse by 8.0% (tolerance 5%)");
}

TEST(DecisionGuards, GuardWithinToleranceDoesNotBlock) {
  Paired win = with_ratios(k_win);
  // A higher-is-better guard 2% down, tolerance 5%; and a guard nobody measured.
  std::map<std::string, Paired> guard_samples = {
      {"ops", Paired{{50, 50, 50, 50, 50}, {49, 49.1, 48.9, 49, 49.05}}}};
  std::vector<GuardSpec> guards = {{"ops", Direction::higher, 0.05},
                                   {"missing", Direction::lower, 0.01}};
  Verdict v = evaluate(prefix(win, 5), Direction::lower, guard_samples, guards, Rule{});
  EXPECT_EQ(v.outcome, Outcome::keep) << v.reason;
  ASSERT_EQ(v.guards.size(), 1u);
  EXPECT_NEAR(v.guards.at("ops").change, -0.02, 1e-9);
  EXPECT_LT(v.guards.at("ops").improvement, 0);
  EXPECT_LT(v.guards.at("ops").p_worse, 0.01);
}

TEST(DecisionGuards, PrimaryRegressionKeepsItsReasonNoEffectYieldsToTheGuard) {
  std::map<std::string, Paired> guard_samples = {
      {"rss_kb", Paired{{1000, 1000, 1000}, {1200, 1201, 1199}}}};
  std::vector<GuardSpec> guards = {{"rss_kb", Direction::lower, 0.05}};
  Verdict loss = evaluate(prefix(with_ratios(k_loss), 3), Direction::lower, guard_samples, guards,
                          Rule{});
  EXPECT_EQ(loss.outcome, Outcome::discard);
  EXPECT_EQ(loss.reason, "regression");
  EXPECT_EQ(loss.guards.count("rss_kb"), 1u);

  Verdict noop = evaluate(with_ratios({1.003, 0.997, 1.003}), Direction::lower, guard_samples,
                          guards, Rule{});
  EXPECT_EQ(noop.outcome, Outcome::discard);
  EXPECT_EQ(noop.reason, "guard rss_kb worse by 20.0% (tolerance 5%)");
}

TEST(DecisionGuards, SignificanceIsCorrectedForTheNumberOfGuards) {
  // One guard 8% worse with a one-sided p between half the look's alpha and the look's alpha:
  // significant alone, not when a second guard shares the error budget. The primary is
  // undecided, so only significance can discard.
  Paired primary = with_ratios({0.96, 1.01, 0.985, 0.99, 0.975});
  Paired worse{{100, 100, 100, 100, 100}, {106.9, 108.55, 109.1, 107.67, 108.11}};
  Paired fine{{100, 100, 100, 100, 100}, {100, 100, 100, 100, 100}};
  std::vector<GuardSpec> one = {{"a", Direction::lower, 0.05}};
  std::vector<GuardSpec> two = {{"a", Direction::lower, 0.05}, {"b", Direction::lower, 0.05}};
  const double alpha = look_alpha(Rule{}, 5);
  ASSERT_EQ(evaluate(primary, Direction::lower, {}, {}, Rule{}).outcome, Outcome::undecided);
  Verdict alone = evaluate(primary, Direction::lower, {{"a", worse}}, one, Rule{});
  const double p = alone.guards.at("a").p_worse;
  ASSERT_GT(p, alpha / 2);
  ASSERT_LT(p, alpha);
  EXPECT_EQ(alone.outcome, Outcome::discard);
  Verdict shared = evaluate(primary, Direction::lower, {{"a", worse}, {"b", fine}}, two, Rule{});
  EXPECT_EQ(shared.outcome, Outcome::undecided) << shared.reason;
  EXPECT_EQ(shared.guards.size(), 2u);
}

TEST(DecisionEstimate, ConfidenceIntervalContainsTheTrueEffect) {
  // 5% lower, with +-0.6% symmetric noise on the ratio.
  const std::vector<double> noise = {0.004, -0.006, 0.002, -0.001, 0.006, -0.004,
                                     0.001, -0.003, 0.005, -0.002, 0.0,   0.003};
  std::vector<double> ratios;
  for (double x : noise) ratios.push_back(0.95 * std::exp(x));
  Effect e = estimate(with_ratios(ratios), Direction::lower);
  EXPECT_EQ(e.pairs, 12);
  EXPECT_LT(e.ci_low, -0.05);
  EXPECT_GT(e.ci_high, -0.05);
  EXPECT_LT(e.ci_low, e.change);
  EXPECT_GT(e.ci_high, e.change);
  EXPECT_GT(e.ci_high - e.ci_low, 0.001);
  EXPECT_LT(e.ci_high - e.ci_low, 0.02);
  EXPECT_NEAR(e.change, -0.05, 0.002);
  EXPECT_NEAR(e.improvement, 1 / 0.95 - 1, 0.002);
  EXPECT_LT(e.p_better, 1e-6);
  EXPECT_GT(e.p_worse, 1 - 1e-6);
  EXPECT_NEAR(e.p_better + e.p_worse, 1, 1e-12);

  // The same samples read as higher-is-better: the same change, the opposite verdict.
  Effect h = estimate(with_ratios(ratios), Direction::higher);
  EXPECT_DOUBLE_EQ(h.change, e.change);
  EXPECT_DOUBLE_EQ(h.ci_low, e.ci_low);
  EXPECT_LT(h.improvement, 0);
  EXPECT_NEAR(h.p_worse, e.p_better, 1e-15);
}

TEST(DecisionEstimate, IdenticalSamplesGiveNoChange) {
  Paired same = with_ratios(std::vector<double>(7, 1.0));
  Effect e = estimate(same, Direction::lower);
  EXPECT_EQ(e.change, 0);
  EXPECT_EQ(e.improvement, 0);
  EXPECT_EQ(e.p_better, 1);
  EXPECT_EQ(e.p_worse, 1);
  EXPECT_EQ(e.ci_low, 0);
  EXPECT_EQ(e.ci_high, 0);
}

TEST(DecisionEstimate, DegenerateSamples) {
  // Every pair exactly 10% lower: no variance, certain direction.
  Effect sure = estimate(with_ratios(std::vector<double>(5, 0.9)), Direction::lower);
  EXPECT_EQ(sure.p_better, 0);
  EXPECT_EQ(sure.p_worse, 1);
  EXPECT_NEAR(sure.change, -0.1, 1e-12);
  EXPECT_NEAR(sure.ci_low, -0.1, 1e-12);

  // One pair: no variance estimate, so no evidence either way.
  Effect one = estimate(with_ratios({0.5}), Direction::lower);
  EXPECT_EQ(one.pairs, 1);
  EXPECT_NEAR(one.change, -0.5, 1e-12);
  EXPECT_EQ(one.p_better, 1);
  EXPECT_EQ(one.p_worse, 1);

  EXPECT_THROW(estimate(Paired{{1, 2}, {1}}, Direction::lower), std::invalid_argument);
  EXPECT_THROW(estimate(Paired{{1}, {0}}, Direction::lower), std::invalid_argument);
  EXPECT_THROW(estimate(Paired{}, Direction::lower), std::invalid_argument);
}

TEST(DecisionEstimate, TrimmingResistsOneWildPair) {
  // One pair hit by a hiccup (3x slower) must not hide a steady 5% win once trimming kicks in.
  std::vector<double> ratios(7, 0.95);
  ratios[1] = 0.948;
  ratios[2] = 0.953;
  ratios[3] = 3.0;
  ratios[5] = 0.951;
  Effect e = estimate(with_ratios(ratios), Direction::lower);
  EXPECT_LT(e.p_better, 0.001);
  EXPECT_LT(e.ci_high, 0);
}

// The rule as the loop runs it, on simulated benchmarks with lognormal noise of 1% CV per run.
double kept_fraction(double true_ratio, unsigned seed) {
  const int trials = 300;
  const double sigma = std::sqrt(std::log1p(0.01 * 0.01));
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, sigma);
  Rule rule;
  int kept = 0;
  for (int t = 0; t < trials; ++t) {
    Paired samples;
    for (int i = 0; i < rule.max_pairs; ++i) {
      samples.base.push_back(100.0 * std::exp(noise(rng)));
      samples.candidate.push_back(100.0 * true_ratio * std::exp(noise(rng)));
    }
    LookRun run = run_looks(samples, Direction::lower, rule);
    EXPECT_NE(run.verdict.outcome, Outcome::undecided);
    if (run.verdict.outcome == Outcome::keep) ++kept;
  }
  return static_cast<double>(kept) / trials;
}

TEST(DecisionSimulation, NoOpIsRarelyKept) {
  double kept = kept_fraction(1.0, 20240601);
  RecordProperty("kept_fraction", std::to_string(kept));
  EXPECT_LE(kept, 0.05);
}

TEST(DecisionSimulation, FivePercentImprovementIsUsuallyKept) {
  double kept = kept_fraction(0.95, 20240602);
  RecordProperty("kept_fraction", std::to_string(kept));
  EXPECT_GE(kept, 0.90);
}

} // namespace
} // namespace ar::decide
