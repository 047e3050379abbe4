#pragma once
// The keep/revert rule of DESIGN §7. Pure functions over samples: no I/O, deterministic, so the
// loop and the decision-quality benchmark (tests/quality, docs/decision-quality.md) call the very
// same code.
//
// Per pair i: d_i = ln(candidate_i / base_i), sign flipped for higher-is-better, so d < 0 is an
// improvement whatever the direction. Three methods (Rule::method):
//
// sequential (the default; it wins the benchmark table). Looks at the pair counts in Rule::looks:
//  - at the first look only discard: when the pairs other than the single worst one do not
//    improve by min_effect on average (one hiccup on the candidate cannot discard a real win);
//  - from the second look on: a one-sided test on outlier-trimmed d (below); keep when it is
//    significant at the look's share of alpha and the median improvement is at least min_effect;
//    discard when the median improvement is below half of min_effect (reason "regression" when
//    the candidate is worse, "no effect" otherwise);
//  - undecided at max_pairs: inconclusive.
//  Alpha is spent across looks by the power function alpha * (n / max_pairs)^4: the look at n
//  pairs may spend alpha * ((n / max_pairs)^4 - (previous look / max_pairs)^4). The shares sum to
//  alpha (a Bonferroni bound over looks, so no distributional assumption about the looks'
//  correlation), and most of it is kept for the later looks where a small-sample test is both
//  more accurate and more powerful.
//
// sprt: Wald's sequential probability ratio test of effect 0 against effect min_effect, on d
//  clipped to median +- sprt_clip robust sigmas, evaluated at every pair from the fifth on
//  (is_look says so). Sigma is the larger of 1.4826 * MAD of d and the standard deviation of the
//  clipped d, raised to its upper 75% confidence bound: a plug-in sigma from few pairs is often
//  far too small, which makes the test overconfident. Keep when the likelihood ratio crosses
//  (1 - beta) / alpha, discard when it crosses beta / (1 - alpha); at max_pairs the median
//  decides between discard (below half of min_effect) and inconclusive. Meant for quiet rigs,
//  where min_effect is several sigmas of one pair.
//
// fixed: max_pairs pairs, one test at the end (is_look is true at max_pairs only): keep when the
//  one-sided test is significant at alpha and the median improvement is at least min_effect,
//  discard below half of min_effect, else inconclusive.
//
// The test (every method's p-values and confidence interval): Yuen's trimmed t on d. From 5
// pairs on one pair is trimmed from each end; more when one side has more pairs than that
// beyond 3.5 robust sigmas (1.4826 * MAD) of the median; at least two pairs are always kept. The
// trimmed mean's standard error comes from the winsorized variance, df = pairs kept - 1.
//
// Guards are tested the same way against their tolerance, with the look's alpha split evenly
// across the guards (Bonferroni: any one guard regressing discards, so Holm's step-down would
// decide exactly the same); a guard regression discards. Confirm metrics (the same workload at a
// second scale, say) must move with the primary before a keep.

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
  double alpha = 0.05;       // false-keep budget of one experiment, in (0, 0.5]
  int max_pairs = 12;
  std::vector<int> looks{3, 5, 7, 9, 12};  // strictly increasing; the last is max_pairs
  double beta = 0.10;       // sprt only: accepted miss rate for an effect of exactly min_effect,
                            // in (0, 0.5]
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
  double change = 0;       // exp(median d_raw) - 1
  double ci_low = 0;       // 95% confidence interval of the change (same scale)
  double ci_high = 0;
  double improvement = 0;  // signed so that > 0 is better, as a fraction
  double p_better = 1;     // one-sided p-value, candidate better
  double p_worse = 1;      // one-sided p-value, candidate worse
  int pairs = 0;
};

enum class Outcome { undecided, keep, discard, inconclusive };

struct Verdict {
  Outcome outcome = Outcome::undecided;
  std::string reason;                      // "improved", "no effect", "regression",
                                           // "guard rss_kb worse by 12.0% (tolerance 5%)",
                                           // "confirm big did not move with the primary (...)"
  Effect primary;
  std::map<std::string, Effect> guards;    // by guard name
  std::map<std::string, Effect> confirms;  // by confirm name; filled when the primary keeps
};

// True when the loop should call evaluate after `pairs` pairs: one of the rule's looks
// (sequential), every pair from the fifth (sprt; from max_pairs if that is smaller), or
// max_pairs (fixed).
bool is_look(const Rule& rule, int pairs);

// The share of rule.alpha the look at `pairs` pairs may spend (see the header comment); the
// whole alpha for the fixed method at max_pairs.
double look_alpha(const Rule& rule, int pairs);

// The paired estimate for one metric. Precondition: same non-zero sizes, all values > 0
// (std::invalid_argument otherwise).
Effect estimate(const Paired& samples, Direction direction);

// The verdict after samples.base.size() pairs. Call it when is_look says so; at max_pairs it
// never returns `undecided`. Guards missing from `guard_samples` are ignored.
Verdict evaluate(const Paired& primary, Direction direction,
                 const std::map<std::string, Paired>& guard_samples,
                 const std::vector<GuardSpec>& guards, const Rule& rule);

// The same, with confirm metrics. When the primary (and the guards) would keep, every confirm
// present in `confirm_samples` must show a median improvement > 0 and not be significantly worse
// (one-sided, at the look's alpha split across the confirms). A significantly worse confirm
// discards; a confirm that merely did not improve leaves the verdict undecided before max_pairs
// and inconclusive at it. Either way the reason is
// "confirm <name> did not move with the primary (median improvement -0.3%, p_worse 0.04)".
Verdict evaluate(const Paired& primary, Direction direction,
                 const std::map<std::string, Paired>& guard_samples,
                 const std::vector<GuardSpec>& guards, const Rule& rule,
                 const std::map<std::string, Paired>& confirm_samples,
                 const std::vector<ConfirmSpec>& confirms);

const char* to_string(Outcome outcome);
const char* to_string(Direction direction);
const char* to_string(Method method);  // "sequential", "sprt", "fixed"
std::optional<Method> method_from_string(std::string_view text);

} // namespace ar::decide
