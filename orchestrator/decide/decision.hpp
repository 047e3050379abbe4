#pragma once
// The keep/revert rule of DESIGN §7. Pure functions over samples: no I/O, deterministic, so the
// loop and the decision-quality benchmark call the very same code.
//
// Per pair i: d_i = ln(candidate_i / base_i), sign flipped for higher-is-better, so d < 0 is an
// improvement whatever the direction. Looks happen at the pair counts in Rule::looks:
//  - at the first look (3) only discard, when the candidate is clearly not better;
//  - from the second look on: a one-sided test on outlier-trimmed d at alpha / 4; keep when it is
//    significant and the median improvement beats min_effect; discard when the median
//    improvement is below half of min_effect (reason "regression" when the candidate is worse,
//    "no effect" otherwise);
//  - undecided at max_pairs: inconclusive.
// Guards are tested the same way against their tolerance; a guard regression discards.

#include <map>
#include <string>
#include <vector>

namespace ar::decide {

enum class Direction { lower, higher };

enum class Method { sequential, sprt, fixed };

struct Rule {
  Method method = Method::sequential;
  double min_effect = 0.01;  // a fraction: 0.01 is 1%
  double alpha = 0.05;
  int max_pairs = 12;
  std::vector<int> looks{3, 5, 7, 9, 12};  // strictly increasing; the last is max_pairs
};

struct GuardSpec {
  std::string name;
  Direction direction = Direction::lower;
  double tolerance = 0.05;  // a fraction: the largest accepted worsening
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
  std::string reason;                    // "improved", "no effect", "regression",
                                         // "guard rss_kb worse by 12.0% (tolerance 5%)", ...
  Effect primary;
  std::map<std::string, Effect> guards;  // by guard name
};

// True when `pairs` is one of the rule's looks.
bool is_look(const Rule& rule, int pairs);

// The paired estimate for one metric. Precondition: same non-zero sizes, all values > 0.
Effect estimate(const Paired& samples, Direction direction);

// The verdict after samples.base.size() pairs. Call it at looks; at max_pairs it never returns
// `undecided`. Guards missing from `guard_samples` are ignored.
Verdict evaluate(const Paired& primary, Direction direction,
                 const std::map<std::string, Paired>& guard_samples,
                 const std::vector<GuardSpec>& guards, const Rule& rule);

const char* to_string(Outcome outcome);
const char* to_string(Direction direction);

} // namespace ar::decide
