// The first block's rule and the confirmation block (decision.hpp), on hand-made samples. The
// rule's error rates on simulated benchmarks are in decision_quality_test.cpp.

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
const std::vector<double> k_base = {100.0, 101.0, 99.2, 100.6, 99.5, 100.3, 98.9, 100.9, 99.7, 100.1, 99.4, 100.8};

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
LookRun run_looks(const Paired& samples, Direction direction, const Rule& rule = {}, const Prior& prior = {},
                  const std::map<std::string, Paired>& guard_samples = {}, const std::vector<GuardSpec>& guards = {}) {
  LookRun run;
  for (int look : rule.looks) {
    auto n = static_cast<std::size_t>(look);
    if (n > samples.base.size()) break;
    run.verdict = evaluate(prefix(samples, n), direction, prefix(guard_samples, n), guards, rule, prior);
    run.pairs = look;
    if (run.verdict.outcome != Outcome::undecided) break;
  }
  return run;
}

// The calibrated noise of a quiet 1% machine: 1.4% per pair, from 16 A/A pairs.
const Prior k_prior{0.014, 7};

// 10% lower with about 1% noise on the ratio.
const std::vector<double> k_win = {0.90, 0.91, 0.895, 0.905, 0.90, 0.89, 0.91, 0.90, 0.898, 0.902, 0.90, 0.906};
// 10% higher with the same noise.
const std::vector<double> k_loss = {1.10, 1.11, 1.095, 1.105, 1.10, 1.09, 1.11, 1.10, 1.098, 1.102, 1.10, 1.106};

TEST(DecisionLooks, LooksAreBlockEnds) {
  Rule rule;
  for (int n : {2, 4, 6, 8, 10, 12}) EXPECT_TRUE(is_look(rule, n)) << n;
  for (int n : {0, 1, 3, 5, 7, 9, 11, 13}) EXPECT_FALSE(is_look(rule, n)) << n;
  EXPECT_EQ(rule.max_pairs, rule.looks.back());
  for (int look : rule.looks) EXPECT_EQ(look % k_block_pairs, 0) << look;
}

TEST(DecisionNames, ToString) {
  EXPECT_STREQ(to_string(Outcome::undecided), "undecided");
  EXPECT_STREQ(to_string(Outcome::keep), "keep");
  EXPECT_STREQ(to_string(Outcome::discard), "discard");
  EXPECT_STREQ(to_string(Outcome::inconclusive), "inconclusive");
  EXPECT_STREQ(to_string(Direction::lower), "lower");
  EXPECT_STREQ(to_string(Direction::higher), "higher");
}

TEST(DecisionRule, WithCalibratedNoiseAClearWinPassesAfterOneBlock) {
  LookRun run = run_looks(with_ratios(k_win), Direction::lower, Rule{}, k_prior);
  EXPECT_EQ(run.verdict.outcome, Outcome::keep);
  EXPECT_EQ(run.pairs, 2);
  EXPECT_EQ(run.verdict.reason, "improved");
  EXPECT_TRUE(run.verdict.primary.pooled);
  EXPECT_NEAR(run.verdict.primary.change, -0.10, 0.005);
  // The confirmation block it asks for: one block suffices for so clear a win.
  EXPECT_EQ(run.verdict.confirmation_pairs, 2);
}

TEST(DecisionRule, WithoutCalibrationOneBlockDecidesNothing) {
  // One block has only its two pairs' spread, at one degree of freedom: too little to decide.
  Verdict one = evaluate(prefix(with_ratios(k_win), 2), Direction::lower, {}, {}, Rule{});
  EXPECT_EQ(one.outcome, Outcome::undecided);
  EXPECT_FALSE(one.primary.pooled);
  EXPECT_TRUE(std::isfinite(one.primary.ci_high));
  LookRun run = run_looks(with_ratios(k_win), Direction::lower);
  EXPECT_EQ(run.verdict.outcome, Outcome::keep);
  EXPECT_GT(run.pairs, 2);
  EXPECT_LE(run.pairs, 6);
  EXPECT_FALSE(run.verdict.primary.pooled);
}

TEST(DecisionRule, AClearWinWithAHiccupInItsFirstBlockStillPassesAtTwoPairs) {
  // The second pair's base run was slowed by a 20% hiccup: the block is far noisier than
  // calibrated, so it is not pooled, but both pairs alone show the 10% win.
  const Paired hiccup = with_ratios({0.90, 0.75});
  const Verdict v = evaluate(hiccup, Direction::lower, {}, {}, Rule{}, k_prior);
  EXPECT_EQ(v.outcome, Outcome::keep);
  EXPECT_FALSE(v.primary.pooled);
  // The interval is the hull of the two pairs' own intervals: it holds the clean pair's -10%.
  EXPECT_LT(v.primary.ci_low, -0.25);
  EXPECT_GT(v.primary.ci_high, -0.10);
  EXPECT_LT(v.primary.ci_high, 0);
  // A no-op with the same hiccup: its clean pair shows nothing, so nothing is decided yet.
  const Verdict noop = evaluate(with_ratios({1.0, 0.80}), Direction::lower, {}, {}, Rule{}, k_prior);
  EXPECT_EQ(noop.outcome, Outcome::undecided);
  // Mirrored for a higher-is-better metric: the hiccup slows the candidate's throughput.
  const Verdict up = evaluate(with_ratios({1.10, 1.30}), Direction::higher, {}, {}, Rule{}, k_prior);
  EXPECT_EQ(up.outcome, Outcome::keep);
}

TEST(DecisionRule, ClearRegressionIsDiscardedAfterTwoPairs) {
  LookRun run = run_looks(with_ratios(k_loss), Direction::lower, Rule{}, k_prior);
  EXPECT_EQ(run.verdict.outcome, Outcome::discard);
  EXPECT_EQ(run.pairs, 2);
  EXPECT_EQ(run.verdict.reason, "regression");
  EXPECT_LT(run.verdict.primary.improvement, 0);
}

TEST(DecisionRule, ANoOpIsADeadEndOnlyWhenItsIntervalRulesOutMinEffect) {
  // Quiet pairs (+-0.3%): the interval soon excludes a 1% improvement.
  std::vector<double> quiet;
  for (int i = 0; i < 12; ++i) quiet.push_back(i % 2 == 0 ? 1.003 : 0.997);
  const Prior calm{0.004, 7};
  LookRun dead = run_looks(with_ratios(quiet), Direction::lower, Rule{}, calm);
  EXPECT_GT(dead.pairs, 2) << "one block cannot rule it out yet; a quiet machine reaches it soon";
  EXPECT_EQ(dead.verdict.outcome, Outcome::discard);
  EXPECT_EQ(dead.verdict.reason, "no effect");
  EXPECT_GT(dead.verdict.primary.ci_low, -0.01) << "the interval excludes a 1% improvement";

  // The same no-op on a noisy machine (5% per pair): not promising, but the interval still
  // holds a 1% improvement, so it is underpowered, not a dead end.
  const Prior noisy{0.05, 7};
  LookRun weak = run_looks(with_ratios(quiet), Direction::lower, Rule{}, noisy);
  EXPECT_EQ(weak.verdict.outcome, Outcome::inconclusive);
  EXPECT_EQ(weak.verdict.reason, "underpowered");
  EXPECT_LT(weak.verdict.primary.ci_low, -0.01);
}

TEST(DecisionRule, ANoisyWorseEstimateIsNotARegressionWithoutEvidence) {
  // 3% worse on average, but the pairs scatter from -3% to +19%.
  Paired p{{100, 100, 100, 100}, {103, 119, 97, 100}};
  Verdict v = evaluate(p, Direction::lower, {}, {}, Rule{}, k_prior);
  ASSERT_NE(v.outcome, Outcome::keep);
  EXPECT_NE(v.reason, "regression");
  // A tight 3% loss is one.
  Paired q{{100, 100, 100, 100}, {103, 103.2, 102.9, 103.1}};
  Verdict w = evaluate(q, Direction::lower, {}, {}, Rule{}, Prior{0.003, 7});
  ASSERT_EQ(w.outcome, Outcome::discard);
  EXPECT_EQ(w.reason, "regression");
}

TEST(DecisionRule, ARegressionIsNamedOnlyWhenTheReportedIntervalIsWhollyWorse) {
  // Two pairs 4% worse at 2% calibrated noise per pair: a plain 95% interval excludes no change
  // (t = 2.8 at 7 df), but the first block's reported interval, spread over its six looks, does
  // not. Naming that a regression made 7-10% of no-ops on noisy machines regression dead ends.
  const Prior noisy{0.02, 7};
  Verdict v = evaluate(Paired{{100, 100}, {104, 104}}, Direction::lower, {}, {}, Rule{}, noisy);
  EXPECT_NE(v.reason, "regression");
  EXPECT_LT(v.primary.ci_low, 0);
  // Twice as far, the reported interval is wholly worse: a regression after two pairs.
  Verdict w = evaluate(Paired{{100, 100}, {108, 108}}, Direction::lower, {}, {}, Rule{}, noisy);
  EXPECT_EQ(w.outcome, Outcome::discard);
  EXPECT_EQ(w.reason, "regression");
  EXPECT_GT(w.primary.ci_low, 0);
}

TEST(DecisionRule, SmallPromisingEffectIsUndecidedThenInconclusive) {
  // About 1.6% better, with several percent of noise per pair.
  const std::vector<double> d = {-0.050, 0.020,  -0.017, 0.015, -0.045, -0.017,
                                 0.025,  -0.018, -0.040, 0.007, -0.017, -0.050};
  std::vector<double> ratios;
  for (double x : d) ratios.push_back(std::exp(x));
  Paired samples = with_ratios(ratios);
  Rule rule;
  LookRun run = run_looks(samples, Direction::lower, rule);
  EXPECT_EQ(run.pairs, 12);
  EXPECT_EQ(run.verdict.outcome, Outcome::inconclusive);
  EXPECT_EQ(run.verdict.reason, "undecided after 12 pairs");
  EXPECT_LT(run.verdict.primary.change, -0.01);
  EXPECT_GT(run.verdict.primary.p_better, look_alpha(rule, 12));
}

TEST(DecisionRule, HigherIsBetterMirrors) {
  LookRun win = run_looks(with_ratios(k_loss), Direction::higher, Rule{}, k_prior);
  EXPECT_EQ(win.verdict.outcome, Outcome::keep);
  EXPECT_NEAR(win.verdict.primary.change, 0.10, 0.005);
  EXPECT_GT(win.verdict.primary.improvement, 0.09);

  LookRun loss = run_looks(with_ratios(k_win), Direction::higher, Rule{}, k_prior);
  EXPECT_EQ(loss.verdict.outcome, Outcome::discard);
  EXPECT_EQ(loss.verdict.reason, "regression");
  EXPECT_NEAR(loss.verdict.primary.change, -0.10, 0.005);
}

TEST(DecisionRule, AtMaxPairsNeverUndecided) {
  Rule rule;
  rule.looks = {2, 4};
  rule.max_pairs = 4;
  // 0.8% better in a wobble of +-2%: no look settles it early.
  Paired samples = with_ratios({0.972, 1.012, 0.988, 0.996});
  EXPECT_EQ(evaluate(prefix(samples, 2), Direction::lower, {}, {}, rule).outcome, Outcome::undecided);
  Verdict v = evaluate(samples, Direction::lower, {}, {}, rule);
  EXPECT_NE(v.outcome, Outcome::undecided);
  EXPECT_NE(v.outcome, Outcome::keep);
}

TEST(DecisionRule, FirstBlockIntervalsAreWidenedForTheLooks) {
  // The first block reports an interval that holds whichever look it stopped at (1 - 0.05 /
  // looks), wider than a plain 95% one on the same pairs.
  Paired p = with_ratios({0.97, 0.99, 0.975, 0.985, 0.96, 0.99});
  const Effect plain = estimate(p, Direction::lower, k_prior);
  const Verdict v = evaluate(p, Direction::lower, {}, {}, Rule{}, k_prior);
  EXPECT_DOUBLE_EQ(v.primary.change, plain.change);
  EXPECT_LT(v.primary.ci_low, plain.ci_low);
  EXPECT_GT(v.primary.ci_high, plain.ci_high);
}

TEST(DecisionConfirmation, AgreeingBlockKeepsAndReportsItsOwnEffect) {
  const Verdict pass = evaluate(prefix(with_ratios(k_win), 2), Direction::lower, {}, {}, Rule{}, k_prior);
  ASSERT_EQ(pass.outcome, Outcome::keep);
  // The fresh block sees 8% rather than the first block's 10%.
  const Paired block = with_ratios({0.92, 0.925, 0.915, 0.92});
  const std::map<std::string, Paired> none;
  const Verdict v = evaluate_confirmation(pass, {block, none, none}, Direction::lower, {}, {}, Rule{}, k_prior);
  EXPECT_EQ(v.outcome, Outcome::keep);
  EXPECT_EQ(v.reason, "improved");
  EXPECT_NEAR(v.primary.change, -0.08, 0.003) << "the reported effect is the confirmation block's";
  ASSERT_TRUE(v.first_block.has_value());
  EXPECT_NEAR(v.first_block->change, -0.10, 0.005);
}

TEST(DecisionConfirmation, DisagreeingBlockIsNotConfirmedNotADeadEnd) {
  const Verdict pass = evaluate(prefix(with_ratios(k_win), 2), Direction::lower, {}, {}, Rule{}, k_prior);
  const std::map<std::string, Paired> none;
  // The fresh block shows nothing: the first block's pass was a streak.
  const Paired flat = with_ratios({1.01, 0.995, 1.0, 1.005});
  const Verdict v = evaluate_confirmation(pass, {flat, none, none}, Direction::lower, {}, {}, Rule{}, k_prior);
  EXPECT_EQ(v.outcome, Outcome::inconclusive);
  EXPECT_EQ(v.reason, "not confirmed");
  // With a quiet machine the same block rules a 1% improvement out: then it is a dead end.
  const Verdict dead =
      evaluate_confirmation(pass, {flat, none, none}, Direction::lower, {}, {}, Rule{}, Prior{0.003, 7});
  EXPECT_EQ(dead.outcome, Outcome::discard);
  EXPECT_EQ(dead.reason, "no effect");
}

TEST(DecisionConfirmation, AnUntestableBlockGrowsByOneBlock) {
  const Verdict pass = evaluate(prefix(with_ratios(k_win), 2), Direction::lower, {}, {}, Rule{}, k_prior);
  const std::map<std::string, Paired> none;
  // One pair hit by a 30% hiccup: far noisier than calibrated, so nothing can be tested yet.
  const Paired hiccup = with_ratios({0.9, 1.2});
  const Verdict v = evaluate_confirmation(pass, {hiccup, none, none}, Direction::lower, {}, {}, Rule{}, k_prior);
  EXPECT_EQ(v.outcome, Outcome::undecided);
  EXPECT_EQ(v.confirmation_pairs, 4);
}

TEST(DecisionConfirmation, AHiccupOnTheBaseSideDoesNotHideAClearWin) {
  const Verdict pass = evaluate(prefix(with_ratios(k_win), 2), Direction::lower, {}, {}, Rule{}, k_prior);
  const std::map<std::string, Paired> none;
  // The base run of one pair slowed by 25%: both pairs still show the win on their own.
  const Paired hiccup = with_ratios({0.9, 0.72});
  const Verdict v = evaluate_confirmation(pass, {hiccup, none, none}, Direction::lower, {}, {}, Rule{}, k_prior);
  EXPECT_EQ(v.outcome, Outcome::keep);
  EXPECT_LT(v.primary.ci_low, -0.28);
  EXPECT_GT(v.primary.ci_high, -0.10);
}

TEST(DecisionConfirmation, TheCalibratedNoiseCountsAtItsUpperBound) {
  const Verdict pass = evaluate(prefix(with_ratios(k_win), 2), Direction::lower, {}, {}, Rule{}, k_prior);
  const std::map<std::string, Paired> none;
  const Paired block = with_ratios({0.985, 0.98, 0.99, 0.98});
  const Effect plain = estimate(block, Direction::lower, k_prior);
  const Verdict v = evaluate_confirmation(pass, {block, none, none}, Direction::lower, {}, {}, Rule{}, k_prior);
  // Same estimate, a wider interval: a calibration may be 1.44 times too quiet at its upper 95%
  // bound (computed at 15 df, the default calibration's, when it has fewer).
  EXPECT_NEAR(v.primary.change, plain.change, 1e-12);
  const double plain_width = plain.ci_high - plain.ci_low;
  const double width = v.primary.ci_high - v.primary.ci_low;
  EXPECT_GT(width, 1.3 * plain_width);
  EXPECT_GT(v.primary.p_better, plain.p_better);
}

TEST(DecisionConfirmation, AShortCalibrationStillConfirmsAPlainWin) {
  // calibration.pairs 4 gives 1 df: its chi-square upper bound alone would be 16 times sigma,
  // and at t with 1 df a 50% win measured at 0.3% noise went unconfirmed (LoopTest saw it).
  const Prior short_calibration{0.0085, 1};
  const Verdict pass = evaluate(prefix(with_ratios(k_win), 2), Direction::lower, {}, {}, Rule{}, short_calibration);
  const std::map<std::string, Paired> none;
  const Paired block = with_ratios({0.501, 0.499});
  const Verdict v =
      evaluate_confirmation(pass, {block, none, none}, Direction::lower, {}, {}, Rule{}, short_calibration);
  EXPECT_EQ(v.outcome, Outcome::keep) << v.reason << " p " << v.primary.p_better;
}

TEST(DecisionConfirmation, WithoutACalibrationTheBlockHasThreeBlocks) {
  // A clear 10% win at 0.5% noise and no calibration (SoakE2E's harness): a 2-pair confirmation
  // has 1 df of its own and went unconfirmed at p 0.041; the plan now asks for three blocks.
  const Paired first = with_ratios({0.905, 0.899, 0.902, 0.906});
  const Verdict pass = evaluate(first, Direction::lower, {}, {}, Rule{}, Prior{});
  ASSERT_EQ(pass.outcome, Outcome::keep) << pass.reason;
  EXPECT_EQ(pass.confirmation_pairs, 6);
  const Verdict calibrated = evaluate(first, Direction::lower, {}, {}, Rule{}, k_prior);
  ASSERT_EQ(calibrated.outcome, Outcome::keep);
  EXPECT_EQ(calibrated.confirmation_pairs, 2) << "a calibrated block still starts at one block";
  const std::map<std::string, Paired> none;
  const Paired block = with_ratios({0.897, 0.904, 0.901, 0.899, 0.903, 0.898});
  const Verdict v = evaluate_confirmation(pass, {block, none, none}, Direction::lower, {}, {}, Rule{}, Prior{});
  EXPECT_EQ(v.outcome, Outcome::keep) << v.reason << " p " << v.primary.p_better;
}

TEST(DecisionGuards, SignificantGuardRegressionDiscardsAClearWin) {
  Paired win = with_ratios(k_win);
  std::map<std::string, Paired> guard_samples = {
      {"rss_kb", Paired{{1000, 1000, 1000, 1000}, {1120, 1118, 1122, 1121}}}};
  std::vector<GuardSpec> guards = {{"rss_kb", Direction::lower, 0.05}};
  Verdict v = evaluate(prefix(win, 4), Direction::lower, guard_samples, guards, Rule{}, k_prior);
  EXPECT_EQ(v.outcome, Outcome::discard);
  EXPECT_EQ(v.reason, "guard rss_kb worse by 12.0% (tolerance 5%)");
  ASSERT_EQ(v.guards.count("rss_kb"), 1u);
  EXPECT_NEAR(v.guards.at("rss_kb").change, 0.12, 1e-3);
}

TEST(DecisionGuards, NoisyGuardBeyondToleranceBlocksAKeep) {
  Paired win = with_ratios(k_win);
  // 8% worse on average but far too noisy to be significant: a keep still may not carry it.
  std::map<std::string, Paired> guard_samples = {{"rss_kb", Paired{{100, 100, 100, 100}, {130, 95, 108, 100}}}};
  std::vector<GuardSpec> guards = {{"rss_kb", Direction::lower, 0.05}};
  Verdict v = evaluate(prefix(win, 4), Direction::lower, guard_samples, guards, Rule{}, k_prior);
  EXPECT_GT(v.guards.at("rss_kb").p_worse, 0.01);
  EXPECT_EQ(v.outcome, Outcome::discard);
  EXPECT_EQ(v.reason.rfind("guard rss_kb worse by", 0), 0u) << v.reason;
}

TEST(DecisionGuards, GuardWithinToleranceDoesNotBlock) {
  Paired win = with_ratios(k_win);
  // A higher-is-better guard 2% down, tolerance 5%; and a guard nobody measured.
  std::map<std::string, Paired> guard_samples = {{"ops", Paired{{50, 50, 50, 50}, {49, 49.1, 48.9, 49}}}};
  std::vector<GuardSpec> guards = {{"ops", Direction::higher, 0.05}, {"missing", Direction::lower, 0.01}};
  Verdict v = evaluate(prefix(win, 4), Direction::lower, guard_samples, guards, Rule{}, k_prior);
  EXPECT_EQ(v.outcome, Outcome::keep) << v.reason;
  ASSERT_EQ(v.guards.size(), 1u);
  EXPECT_NEAR(v.guards.at("ops").change, -0.02, 1e-3);
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
  EXPECT_LT(e.ci_high - e.ci_low, 0.02);
  EXPECT_NEAR(e.change, -0.05, 0.002);
  EXPECT_LT(e.p_better, 1e-6);
  EXPECT_NEAR(e.p_better + e.p_worse, 1, 1e-12);

  // The same samples read as higher-is-better: the same change, the opposite verdict.
  Effect h = estimate(with_ratios(ratios), Direction::higher);
  EXPECT_DOUBLE_EQ(h.change, e.change);
  EXPECT_DOUBLE_EQ(h.ci_low, e.ci_low);
  EXPECT_LT(h.improvement, 0);
  EXPECT_NEAR(h.p_worse, e.p_better, 1e-15);
}

TEST(DecisionEstimate, DegenerateSamples) {
  Effect same = estimate(with_ratios(std::vector<double>(6, 1.0)), Direction::lower);
  EXPECT_EQ(same.change, 0);
  EXPECT_EQ(same.p_better, 1);
  EXPECT_EQ(same.p_worse, 1);
  // Every pair exactly 10% lower: no variance, certain direction.
  Effect sure = estimate(with_ratios(std::vector<double>(6, 0.9)), Direction::lower);
  EXPECT_EQ(sure.p_better, 0);
  EXPECT_NEAR(sure.change, -0.1, 1e-12);
  // One pair and no calibration: no interval, no evidence either way.
  Effect one = estimate(with_ratios({0.5}), Direction::lower);
  EXPECT_EQ(one.pairs, 1);
  EXPECT_EQ(one.p_better, 1);
  EXPECT_TRUE(std::isinf(one.ci_high));

  EXPECT_THROW(estimate(Paired{{1, 2}, {1}}, Direction::lower), std::invalid_argument);
  EXPECT_THROW(estimate(Paired{{1}, {0}}, Direction::lower), std::invalid_argument);
  EXPECT_THROW(estimate(Paired{}, Direction::lower), std::invalid_argument);
}

// The two blocks as the loop runs them, on lognormal noise of 1% CV per run, with the
// calibrated noise known.
double kept_fraction(double true_ratio, unsigned seed) {
  const int trials = 300;
  const double sigma = std::sqrt(std::log1p(0.01 * 0.01));
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, sigma);
  auto pairs = [&](int n) {
    Paired p;
    for (int i = 0; i < n; ++i) {
      p.base.push_back(100.0 * std::exp(noise(rng)));
      p.candidate.push_back(100.0 * true_ratio * std::exp(noise(rng)));
    }
    return p;
  };
  const Rule rule;
  const Prior prior{std::sqrt(2.0) * sigma, 7};
  const std::map<std::string, Paired> none;
  int kept = 0;
  for (int t = 0; t < trials; ++t) {
    LookRun run = run_looks(pairs(rule.max_pairs), Direction::lower, rule, prior);
    EXPECT_NE(run.verdict.outcome, Outcome::undecided);
    if (run.verdict.outcome != Outcome::keep) continue;
    Verdict v = evaluate_confirmation(run.verdict, {pairs(run.verdict.confirmation_pairs), none, none},
                                      Direction::lower, {}, {}, rule, prior);
    if (v.outcome == Outcome::undecided)
      v = evaluate_confirmation(run.verdict, {pairs(v.confirmation_pairs), none, none}, Direction::lower, {}, {}, rule,
                                prior);
    if (v.outcome == Outcome::keep) ++kept;
  }
  return static_cast<double>(kept) / trials;
}

TEST(DecisionSimulation, NoOpIsRarelyKept) {
  double kept = kept_fraction(1.0, 20240601);
  RecordProperty("kept_fraction", std::to_string(kept));
  EXPECT_LE(kept, 0.01);
}

TEST(DecisionSimulation, FivePercentImprovementIsUsuallyKept) {
  double kept = kept_fraction(0.95, 20240602);
  RecordProperty("kept_fraction", std::to_string(kept));
  EXPECT_GE(kept, 0.95);
}

}  // namespace
}  // namespace ar::decide
