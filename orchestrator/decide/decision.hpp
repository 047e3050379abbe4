#pragma once
// The keep/revert rule of DESIGN §7. Pure functions over samples: no I/O, deterministic, so the
// loop and the decision-quality benchmark (tests/quality, docs/decision-quality.md) call the very
// same code.
//
// Per pair i: d_i = ln(candidate_i / base_i), sign flipped for higher-is-better, so d < 0 is an
// improvement whatever the direction. Pairs run in balanced blocks (schedule.hpp); every estimate,
// p-value and interval is the block-robust one of interval.hpp, pooled with the calibrated noise
// (Prior) when there is one.
//
// An experiment is measured in two blocks of pairs, separated in time:
//
// 1. The first block (evaluate). Looks at the pair counts in Rule::looks, each the end of a
//    balanced block. At a look with n pairs:
//    - pass (outcome keep: "go on to the confirmation block") when the one-sided test for an
//      improvement is significant at the look's share of alpha and the estimate improves by at
//      least min_effect;
//    - stop as not promising when the upper one-sided bound (level k_futility_level) of the
//      improvement is below twice min_effect: the pairs so far rule out the effect the rule is
//      powered for. Then, and at max_pairs, the verdict is the "settled" one below.
//    Alpha is spent across looks by alpha * (n / max_pairs)^k_spending_power.
// 2. The confirmation block (evaluate_confirmation): fresh pairs, a fresh order, after a pause.
//    Its size is planned from the first block alone: enough balanced blocks for 95% power at
//    half the first block's effect (at least min_effect),
//    at most Rule::confirmation_pairs. It is tested once, at its end: it agrees (keep) when its
//    own one-sided test for an improvement is significant at confirmation_alpha. Because its size
//    does not depend on its own data, its estimate and interval are unbiased: the kept effect is
//    the confirmation block's, not the winner's-curse number of the first block.
//
// Settled verdicts (a stop that is not a keep):
//    - discard "regression" on evidence: significantly worse at the look, or the reported
//      interval (a first block's: spread over its looks, below) wholly on the worse side;
//    - discard "no effect" only when the reported interval rules out an improvement of
//      min_effect. A first block reports a 95% interval spread over its looks (Bonferroni:
//      1 - 0.05 / looks), which holds whichever look it stopped at;
//    - otherwise inconclusive: "underpowered" (the pairs can rule out neither), "undecided after
//      N pairs" (promising at max_pairs), "not confirmed" (the confirmation block disagreed).
//    Inconclusive is never a dead end: the idea may be retried.
//
// sprt: Wald's sequential probability ratio test of effect 0 against effect min_effect, on d
//  clipped to median +- sprt_clip robust sigmas, at every pair from the fifth (is_look says so).
//  Kept as a comparison in the decision-quality table; it has no balanced blocks.
// fixed: max_pairs pairs, one test at the end at the full alpha.
// Both go through the same confirmation block when Rule::confirmation_pairs > 0.
//
// Guards are tested like the primary against their tolerance, with the look's alpha split
// evenly across the guards (Bonferroni); a guard regression discards. Confirm metrics (the same
// workload at a second scale, say) must move with the primary before a keep.

#include "decide/interval.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ar::decide {

enum class Direction { lower, higher };

enum class Method { sequential, sprt, fixed };

struct Rule {
  Method method = Method::sequential;
  double min_effect = 0.01;  // a fraction: 0.01 is 1%
  double alpha = 0.05;       // the first block's false-pass budget, in (0, 0.5]
  int max_pairs = 12;        // of the first block; a multiple of k_block_pairs
  std::vector<int> looks{2, 4, 6, 8, 10, 12};  // block ends, strictly increasing, last = max_pairs
  int confirmation_pairs = 12;      // most pairs of the confirmation block; 0: none (a pass keeps)
  double confirmation_alpha = 0.04;  // the confirmation block's false-agree budget
  double beta = 0.10;       // sprt only: accepted miss rate for an effect of exactly min_effect
  double sprt_clip = 3.0;   // sprt only: d is clipped to median +- sprt_clip robust sigmas; > 0
};

struct GuardSpec {
  std::string name;
  Direction direction = Direction::lower;
  double tolerance = 0.05;  // a fraction: the largest accepted worsening
};

// A metric that must improve along with the primary before a keep.
struct ConfirmSpec {
  std::string name;
  Direction direction = Direction::lower;
};

// Samples in pair order: base[i] and candidate[i] form pair i.
struct Paired {
  std::vector<double> base;
  std::vector<double> candidate;
};

// An effect as a relative change of the metric's value, candidate vs base: -0.10 means the
// candidate's value is 10% lower (whatever the direction). `improvement` is the same effect
// signed so that positive is better. p is the one-sided p-value for "candidate is better".
struct Effect {
  double change = 0;       // exp(block estimate of d_raw) - 1
  double ci_low = 0;       // 95% confidence interval of the change (same scale); +-inf: none yet
  double ci_high = 0;
  double improvement = 0;  // signed so that > 0 is better, as a fraction
  double p_better = 1;     // one-sided p-value, candidate better
  double p_worse = 1;      // one-sided p-value, candidate worse
  int pairs = 0;
  bool pooled = false;     // the calibrated noise was pooled into the interval
};

enum class Outcome { undecided, keep, discard, inconclusive };

struct Verdict {
  Outcome outcome = Outcome::undecided;
  std::string reason;                      // "improved", "no effect", "regression",
                                           // "underpowered", "not confirmed",
                                           // "guard rss_kb worse by 12.0% (tolerance 5%)",
                                           // "confirm big did not move with the primary (...)"
  Effect primary;                          // the reported effect (the confirmation block's
                                           // when one ran)
  std::optional<Effect> first_block;       // set by evaluate_confirmation: the first block's
  int confirmation_pairs = 0;              // set by evaluate on a pass: the planned block size
  std::map<std::string, Effect> guards;    // by guard name
  std::map<std::string, Effect> confirms;  // by confirm name; filled when the primary keeps
};

// True when the loop should call evaluate after `pairs` pairs of the first block: one of the
// rule's looks (sequential), every pair from the fifth (sprt), or max_pairs (fixed).
bool is_look(const Rule& rule, int pairs);

// The share of rule.alpha the look at `pairs` pairs may spend; the whole alpha for the fixed
// method at max_pairs.
double look_alpha(const Rule& rule, int pairs);

// The paired estimate for one metric. Precondition: same non-zero sizes, all values > 0
// (std::invalid_argument otherwise).
Effect estimate(const Paired& samples, Direction direction, const Prior& prior = {});

// The first block's verdict after samples.base.size() pairs; keep means "passed: measure the
// confirmation block" when rule.confirmation_pairs > 0. Call it when is_look says so; at
// max_pairs it never returns `undecided`. Guards missing from `guard_samples` are ignored.
Verdict evaluate(const Paired& primary, Direction direction,
                 const std::map<std::string, Paired>& guard_samples,
                 const std::vector<GuardSpec>& guards, const Rule& rule, const Prior& prior = {});

// The same, with confirm metrics. When the primary (and the guards) would keep, every confirm
// present in `confirm_samples` must show an improvement > 0 and not be significantly worse
// (one-sided, at the look's alpha split across the confirms). A significantly worse confirm
// discards; a confirm that merely did not improve leaves the verdict undecided before max_pairs
// and inconclusive at it. Either way the reason is
// "confirm <name> did not move with the primary (median improvement -0.3%, p_worse 0.04)".
Verdict evaluate(const Paired& primary, Direction direction,
                 const std::map<std::string, Paired>& guard_samples,
                 const std::vector<GuardSpec>& guards, const Rule& rule,
                 const std::map<std::string, Paired>& confirm_samples,
                 const std::vector<ConfirmSpec>& confirms, const Prior& prior = {});

// The confirmation block's samples only, in their own pair order.
struct Block {
  const Paired& primary;
  const std::map<std::string, Paired>& guards;
  const std::map<std::string, Paired>& confirms;
};

// The verdict of the confirmation block once it ran first.confirmation_pairs pairs, given the
// first block's passing verdict `first`. The result carries first.primary in first_block. It is
// `undecided` only when the block was too noisy to test at all (one block, not poolable with
// the prior) and may grow: then its confirmation_pairs says how many pairs to reach.
Verdict evaluate_confirmation(const Verdict& first, const Block& block, Direction direction,
                              const std::vector<GuardSpec>& guards,
                              const std::vector<ConfirmSpec>& confirms, const Rule& rule,
                              const Prior& prior = {});

const char* to_string(Outcome outcome);
const char* to_string(Direction direction);
const char* to_string(Method method);  // "sequential", "sprt", "fixed"
std::optional<Method> method_from_string(std::string_view text);

} // namespace ar::decide
