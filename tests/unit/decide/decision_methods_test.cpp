// The tuned sequential rule's details, the sprt and fixed methods, alpha spending and confirm
// metrics. The rule's error rates on simulated benchmarks are in decision_quality_test.cpp.

#include "decide/decision.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace ar::decide {
namespace {

// Base runs around 100 with about 1% spread; candidate = base * ratio.
Paired with_ratios(const std::vector<double>& ratios) {
  static const std::vector<double> base = {100.0, 101.0, 99.2, 100.6, 99.5, 100.3,
                                           98.9,  100.9, 99.7, 100.1, 99.4, 100.8};
  Paired p;
  for (std::size_t i = 0; i < ratios.size(); ++i) {
    p.base.push_back(base[i % base.size()]);
    p.candidate.push_back(base[i % base.size()] * ratios[i]);
  }
  return p;
}

// `n` ratios of `effect` times a small alternating wobble (+-`wobble`, varying in size).
std::vector<double> steady(double effect, std::size_t n, double wobble) {
  std::vector<double> out;
  for (std::size_t i = 0; i < n; ++i) {
    const double size = wobble * (0.5 + static_cast<double>(i % 3) * 0.5);
    out.push_back((1 + effect) * std::exp(i % 2 == 0 ? size : -size));
  }
  return out;
}

// The same, with the wobble's sign alternating per balanced block instead of per pair, so the
// blocks do not cancel it.
std::vector<double> blocky(double effect, std::size_t n, double wobble) {
  std::vector<double> out;
  for (std::size_t i = 0; i < n; ++i) {
    const double size = wobble * (0.5 + static_cast<double>(i % 3) * 0.5);
    out.push_back((1 + effect) * std::exp((i / 2) % 2 == 0 ? size : -size));
  }
  return out;
}

Paired prefix(const Paired& p, std::size_t n) {
  return Paired{{p.base.begin(), p.base.begin() + static_cast<std::ptrdiff_t>(n)},
                {p.candidate.begin(), p.candidate.begin() + static_cast<std::ptrdiff_t>(n)}};
}

struct Walk {
  Verdict verdict;
  int pairs = 0;
};

// Drives the rule as the loop does: evaluate where is_look says so or at max_pairs, stop at the
// first verdict.
Walk walk(const Paired& samples, const Rule& rule, Direction direction = Direction::lower,
          const std::map<std::string, Paired>& confirm_samples = {},
          const std::vector<ConfirmSpec>& confirms = {}) {
  Walk w;
  for (int k = 1; k <= rule.max_pairs && static_cast<std::size_t>(k) <= samples.base.size();
       ++k) {
    if (!is_look(rule, k) && k < rule.max_pairs) continue;
    std::map<std::string, Paired> confirm_prefix;
    for (const auto& [name, p] : confirm_samples)
      confirm_prefix[name] = prefix(p, static_cast<std::size_t>(k));
    w.verdict = evaluate(prefix(samples, static_cast<std::size_t>(k)), direction, {}, {}, rule,
                         confirm_prefix, confirms);
    w.pairs = k;
    if (w.verdict.outcome != Outcome::undecided) break;
  }
  return w;
}

Rule with_method(Method method) {
  Rule rule;
  rule.method = method;
  return rule;
}

TEST(DecisionSpending, SharesSumToAlphaAndGrowTowardsTheEnd) {
  const Rule rule;
  double total = 0;
  double previous_share = 0;
  for (int look : rule.looks) {
    const double share = look_alpha(rule, look);
    EXPECT_GT(share, previous_share) << look;
    previous_share = share;
    total += share;
  }
  EXPECT_NEAR(total, rule.alpha, 1e-12);
  // Spending grows as (n/12)^2: the share of look 4 is what was spent by 4 pairs less what was
  // spent by the look before it (2 pairs).
  EXPECT_NEAR(look_alpha(rule, 4), 0.05 * (std::pow(4 / 12.0, 2) - std::pow(2 / 12.0, 2)), 1e-15);
  // The last look has the largest share: 1 - (10/12)^2 of alpha.
  EXPECT_GT(look_alpha(rule, 12), rule.alpha * 0.3);

  const Rule fixed = with_method(Method::fixed);
  EXPECT_DOUBLE_EQ(look_alpha(fixed, 12), 0.05);

  const Rule sprt = with_method(Method::sprt);
  double sprt_total = 0;
  for (int k = 1; k <= sprt.max_pairs; ++k)
    if (is_look(sprt, k)) sprt_total += look_alpha(sprt, k);
  EXPECT_NEAR(sprt_total, 0.05, 1e-12);
}

TEST(DecisionMethods, IsLookPerMethod) {
  const Rule sprt = with_method(Method::sprt);
  for (int k = 1; k <= 4; ++k) EXPECT_FALSE(is_look(sprt, k)) << k;
  for (int k = 5; k <= 12; ++k) EXPECT_TRUE(is_look(sprt, k)) << k;
  EXPECT_FALSE(is_look(sprt, 13));
  Rule short_sprt = sprt;
  short_sprt.max_pairs = 3;
  EXPECT_TRUE(is_look(short_sprt, 3));
  EXPECT_FALSE(is_look(short_sprt, 2));

  const Rule fixed = with_method(Method::fixed);
  for (int k = 1; k <= 13; ++k) EXPECT_EQ(is_look(fixed, k), k == 12) << k;
}

TEST(DecisionMethods, Names) {
  for (Method m : {Method::sequential, Method::sprt, Method::fixed}) {
    auto parsed = method_from_string(to_string(m));
    ASSERT_TRUE(parsed.has_value()) << to_string(m);
    EXPECT_EQ(*parsed, m);
  }
  EXPECT_STREQ(to_string(Method::sprt), "sprt");
  EXPECT_FALSE(method_from_string("SPRT").has_value());
  EXPECT_FALSE(method_from_string("").has_value());
}

TEST(DecisionRule, AHiccupInTheFirstBlockHoldsTheDecision) {
  // A steady 3% win whose second pair hit a hiccup (25% slower): with the calibrated noise
  // known, the block is far noisier than calibrated, so nothing is decided on it...
  const Prior prior{0.014, 7};
  Verdict v = evaluate(with_ratios({0.97, 1.25}), Direction::lower, {}, {}, Rule{}, prior);
  EXPECT_EQ(v.outcome, Outcome::undecided);
  EXPECT_FALSE(v.primary.pooled);
  // ...and the next block decides with the hiccup clipped.
  Verdict w = evaluate(with_ratios({0.97, 1.25, 0.972, 0.968}), Direction::lower, {}, {}, Rule{}, prior);
  EXPECT_NE(w.outcome, Outcome::discard) << w.reason;
}

TEST(DecisionEstimate, ClippingHoldsABurstOfHiccups) {
  // Twelve pairs of a steady 3% win, three of them hit by hiccups on the candidate.
  std::vector<double> ratios = steady(-0.03, 12, 0.004);
  ratios[2] = 1.20;
  ratios[6] = 1.15;
  ratios[9] = 1.28;
  Effect e = estimate(with_ratios(ratios), Direction::lower);
  EXPECT_LT(e.p_better, 0.001);
  EXPECT_LT(e.ci_high, -0.01);
  EXPECT_GT(e.ci_low, -0.045);
  Walk w = walk(with_ratios(ratios), Rule{});
  EXPECT_EQ(w.verdict.outcome, Outcome::keep) << w.verdict.reason;
}

TEST(DecisionSprt, QuietClearWinKeepsAtTheFirstLook) {
  Walk w = walk(with_ratios(steady(-0.05, 12, 0.002)), with_method(Method::sprt));
  EXPECT_EQ(w.verdict.outcome, Outcome::keep);
  EXPECT_EQ(w.verdict.reason, "improved");
  EXPECT_EQ(w.pairs, 5);
  // Before its first look it never decides.
  EXPECT_EQ(evaluate(with_ratios(steady(-0.05, 4, 0.002)), Direction::lower, {}, {},
                     with_method(Method::sprt))
                .outcome,
            Outcome::undecided);
}

TEST(DecisionSprt, QuietNoOpAndRegressionDiscard) {
  Walk noop = walk(with_ratios(steady(0, 12, 0.002)), with_method(Method::sprt));
  EXPECT_EQ(noop.verdict.outcome, Outcome::discard);
  EXPECT_EQ(noop.verdict.reason, "no effect");
  EXPECT_EQ(noop.pairs, 5);

  Walk loss = walk(with_ratios(steady(0.03, 12, 0.002)), with_method(Method::sprt));
  EXPECT_EQ(loss.verdict.outcome, Outcome::discard);
  EXPECT_EQ(loss.verdict.reason, "regression");

  // Higher-is-better mirrors.
  Walk win = walk(with_ratios(steady(0.05, 12, 0.002)), with_method(Method::sprt),
                  Direction::higher);
  EXPECT_EQ(win.verdict.outcome, Outcome::keep);
}

TEST(DecisionSprt, NoisyEffectNearMinEffectIsSettledAtMaxPairs) {
  // Around 1.2% better with several percent of noise: too noisy for the ratio to cross either
  // boundary, so the last pair decides between discard and inconclusive by the median.
  const std::vector<double> d = {-0.045, 0.025, -0.012, 0.020,  -0.040, -0.012,
                                 0.030,  -0.013, -0.035, 0.028, -0.012, -0.045};
  std::vector<double> ratios;
  for (double x : d) ratios.push_back(std::exp(x));
  Walk w = walk(with_ratios(ratios), with_method(Method::sprt));
  EXPECT_EQ(w.pairs, 12);
  EXPECT_EQ(w.verdict.outcome, Outcome::inconclusive) << w.verdict.reason;

  // A wobbling no-op reaches max_pairs undecided by the ratio, and the median discards it.
  std::vector<double> flat;
  for (int i = 0; i < 12; ++i) flat.push_back(std::exp(i % 2 == 0 ? 0.03 : -0.03));
  Walk f = walk(with_ratios(flat), with_method(Method::sprt));
  EXPECT_NE(f.verdict.outcome, Outcome::undecided);
  EXPECT_NE(f.verdict.outcome, Outcome::keep);
}

TEST(DecisionFixed, DecidesOnlyAtMaxPairs) {
  const Rule fixed = with_method(Method::fixed);
  Paired win = with_ratios(steady(-0.05, 12, 0.004));
  EXPECT_EQ(evaluate(prefix(win, 11), Direction::lower, {}, {}, fixed).outcome,
            Outcome::undecided);
  Verdict v = evaluate(win, Direction::lower, {}, {}, fixed);
  EXPECT_EQ(v.outcome, Outcome::keep);
  EXPECT_EQ(v.primary.pairs, 12);

  Verdict noop = evaluate(with_ratios(steady(0, 12, 0.004)), Direction::lower, {}, {}, fixed);
  EXPECT_EQ(noop.outcome, Outcome::discard);
  EXPECT_EQ(noop.reason, "no effect");

  // 0.8% better, measured tightly: the interval rules out min_effect, so this is a dead end too.
  Verdict small = evaluate(with_ratios(steady(-0.008, 12, 0.004)), Direction::lower, {}, {},
                           fixed);
  EXPECT_EQ(small.outcome, Outcome::discard);
  EXPECT_EQ(small.reason, "no effect");
  EXPECT_GT(small.primary.ci_low, -0.01);
  // 1.5% better in a wobble of +-3%: promising, not significant: inconclusive, not dead.
  Verdict open = evaluate(with_ratios(blocky(-0.015, 12, 0.03)), Direction::lower, {}, {}, fixed);
  EXPECT_EQ(open.outcome, Outcome::inconclusive);
  EXPECT_EQ(open.reason, "undecided after 12 pairs");
}

TEST(DecisionFixed, GuardsStillApply) {
  const Rule fixed = with_method(Method::fixed);
  Paired win = with_ratios(steady(-0.05, 12, 0.004));
  Paired rss{std::vector<double>(12, 1000.0), std::vector<double>(12, 1100.0)};
  Verdict v = evaluate(win, Direction::lower, {{"rss_kb", rss}},
                       {{"rss_kb", Direction::lower, 0.05}}, fixed);
  EXPECT_EQ(v.outcome, Outcome::discard);
  EXPECT_EQ(v.reason, "guard rss_kb worse by 10.0% (tolerance 5%)");
}

TEST(DecisionConfirm, ConfirmThatMovesTooAllowsTheKeep) {
  Paired win = with_ratios(steady(-0.05, 12, 0.004));
  std::map<std::string, Paired> confirm = {{"big", with_ratios(steady(-0.03, 12, 0.01))},
                                           {"unmeasured_elsewhere", win}};
  std::vector<ConfirmSpec> specs = {{"big", Direction::lower}, {"absent", Direction::lower}};
  Walk w = walk(win, Rule{}, Direction::lower, confirm, specs);
  EXPECT_EQ(w.verdict.outcome, Outcome::keep) << w.verdict.reason;
  ASSERT_EQ(w.verdict.confirms.size(), 1u);
  EXPECT_GT(w.verdict.confirms.at("big").improvement, 0.02);

  // The signature without confirms is the same rule.
  Verdict plain = evaluate(prefix(win, static_cast<std::size_t>(w.pairs)), Direction::lower, {}, {}, Rule{});
  EXPECT_EQ(plain.outcome, Outcome::keep);
  EXPECT_TRUE(plain.confirms.empty());
}

TEST(DecisionConfirm, FlatConfirmHoldsTheKeepThenEndsInconclusive) {
  Paired win = with_ratios(steady(-0.05, 12, 0.004));
  // A higher-is-better confirm 0.6% down in a wobble of +-1.5%: not better, not significantly
  // worse either.
  std::map<std::string, Paired> confirm = {{"ops_big", with_ratios(blocky(-0.006, 12, 0.01))}};
  std::vector<ConfirmSpec> specs = {{"ops_big", Direction::higher}};

  Verdict at6 = evaluate(prefix(win, 6), Direction::lower, {}, {}, Rule{},
                         {{"ops_big", prefix(confirm.at("ops_big"), 6)}}, specs);
  EXPECT_EQ(at6.outcome, Outcome::undecided);
  EXPECT_EQ(at6.reason.rfind("confirm ops_big did not move with the primary (median "
                             "improvement ",
                             0),
            0u)
      << at6.reason;

  Walk w = walk(win, Rule{}, Direction::lower, confirm, specs);
  EXPECT_EQ(w.pairs, 12);
  EXPECT_EQ(w.verdict.outcome, Outcome::inconclusive);
  EXPECT_NE(w.verdict.reason.find("confirm ops_big did not move with the primary"),
            std::string::npos);
  EXPECT_EQ(w.verdict.confirms.count("ops_big"), 1u);
}

TEST(DecisionConfirm, ConfirmSignificantlyWorseDiscards) {
  Paired win = with_ratios(steady(-0.05, 12, 0.004));
  std::map<std::string, Paired> confirm = {{"big", with_ratios(steady(0.04, 12, 0.002))}};
  Verdict v = evaluate(prefix(win, 6), Direction::lower, {}, {}, Rule{},
                       {{"big", prefix(confirm.at("big"), 6)}}, {{"big", Direction::lower}});
  EXPECT_EQ(v.outcome, Outcome::discard);
  EXPECT_EQ(v.reason.rfind("confirm big did not move with the primary (median improvement -3.", 0),
            0u)
      << v.reason;
  EXPECT_LT(v.confirms.at("big").p_worse, look_alpha(Rule{}, 6));

  // Confirms are not consulted unless the primary keeps.
  Verdict noop = evaluate(with_ratios(steady(0, 6, 0.004)), Direction::lower, {}, {}, Rule{},
                          {{"big", prefix(confirm.at("big"), 6)}}, {{"big", Direction::lower}});
  EXPECT_NE(noop.outcome, Outcome::keep);
  EXPECT_TRUE(noop.confirms.empty());
}

} // namespace
} // namespace ar::decide
