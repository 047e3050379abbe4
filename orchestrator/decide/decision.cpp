#include "decide/decision.hpp"
#include "decide/interval.hpp"

#include "util/format.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace ar::decide {
namespace {

// Tuned with the decision-quality benchmark (docs/decision-quality.md); each constant's effect
// is described where it is used.
constexpr double k_spending_power = 2;     // first block: alpha * (n / max_pairs)^2 by look n
constexpr double k_plan_shrink = 0.5;      // the confirmation is planned for half the pass
constexpr double k_plan_z = 1.6449;        // ... with 95% power (normal quantile)
constexpr double k_futility_level = 0.93;  // one-sided level of the "not promising" bound
constexpr double k_powered_multiple = 2;   // ... against this multiple of min_effect
// The confirmation block pools the calibrated sigma raised to this one-sided upper confidence
// bound (chi-square, the calibration's df): see evaluate_confirmation.
constexpr double k_confirmation_sigma_level = 0.05;
// ... computed with at least this many degrees of freedom (the default calibration's: 32 pairs, 16
// blocks). A shorter calibration's few df already widen its t quantile; its chi-square bound on top
// (16 times sigma at 1 df) failed to confirm a 50% win measured at 0.3% noise.
constexpr double k_confirmation_min_df = 15;
constexpr int k_sprt_first_pair = 5;         // fewer pairs give no usable sigma
constexpr double k_sprt_sigma_level = 0.25;  // sigma is raised to its upper 75% bound

// Per-pair log ratios ln(candidate / base), not direction-flipped.
std::vector<double> log_ratios(const Paired& samples) {
  if (samples.base.size() != samples.candidate.size() || samples.base.empty())
    throw std::invalid_argument("decide: base and candidate need the same non-zero sample count");
  std::vector<double> d;
  d.reserve(samples.base.size());
  for (std::size_t i = 0; i < samples.base.size(); ++i) {
    double a = samples.base[i];
    double b = samples.candidate[i];
    if (!(a > 0) || !(b > 0) || !std::isfinite(a) || !std::isfinite(b))
      throw std::invalid_argument(fmt::format("decide: pair {} has a sample that is not a positive number", i + 1));
    d.push_back(std::log(b / a));
  }
  return d;
}

struct Stats {
  Effect effect;
  std::vector<double> flipped;  // d per pair, direction-flipped: < 0 is better
  double median_flipped = 0;
  double mean_flipped = 0;  // the block estimate, flipped
  double se = std::numeric_limits<double>::infinity();
  double df = 0;
  bool interval = false;  // se is finite: a test and an interval exist
  bool ci_worse = false;  // the whole interval of the change lies on the worse side
  double level = 0.95;    // of the interval
  // One balanced block too noisy to pool with the calibration (a hiccup in one of its two
  // pairs): each pair is tested alone against the calibrated noise of one pair instead (see
  // pair_hull). Only `interval` false sets it.
  bool hull = false;

  // The one-sided upper bound of the improvement (log scale, > 0 better) at level `one_sided`.
  double improvement_bound(double one_sided) const {
    if (!interval) return std::numeric_limits<double>::infinity();
    if (se <= 0) return -mean_flipped;
    const boost::math::students_t dist(df);
    return -mean_flipped + boost::math::quantile(dist, one_sided) * se;
  }
};

// Two pairs whose spread rules out pooling with the calibration: one of them is probably
// slowed by a hiccup, and a mean of two cannot tell which. Each pair alone is still an honest
// measurement (its log ratio has the calibrated per-pair sigma), so the verdict takes the pair
// least favourable to the claim: an improvement is significant only when the less improving pair
// is, at the calibrated sigma and degrees of freedom. Under no effect both pairs must clear the
// bound, so the test is conservative (and the order effect, which a balanced block would have
// cancelled, only makes the least favourable pair less favourable). The interval is the hull of
// the two single-pair intervals: it misses the truth only when the clean pair's interval does.
void pair_hull(const std::vector<double>& raw, Direction direction, const Prior& prior, double level, Stats& s) {
  const double lo = std::min(raw[0], raw[1]);
  const double hi = std::max(raw[0], raw[1]);
  const boost::math::students_t dist(prior.df);
  const double q = boost::math::quantile(boost::math::complement(dist, (1 - level) / 2));
  const double worst_for_better = direction == Direction::lower ? hi : -lo;  // flipped: < 0 better
  const double worst_for_worse = direction == Direction::lower ? lo : -hi;
  Effect& e = s.effect;
  e.p_better = boost::math::cdf(dist, worst_for_better / prior.sd_pair);
  e.p_worse = boost::math::cdf(boost::math::complement(dist, worst_for_worse / prior.sd_pair));
  e.ci_low = std::exp(lo - q * prior.sd_pair) - 1;
  e.ci_high = std::exp(hi + q * prior.sd_pair) - 1;
  s.level = level;
  s.hull = true;
}

// `level`: the two-sided level of the reported interval (0.95, or wider for a first block's
// verdict, see looks_level).
Stats compute(const Paired& samples, Direction direction, const Prior& prior, double level = 0.95) {
  const std::vector<double> raw = log_ratios(samples);
  Stats s;
  s.flipped = raw;
  if (direction == Direction::higher)
    for (double& x : s.flipped) x = -x;
  s.median_flipped = median_of(s.flipped);

  const BlockEstimate b = block_estimate(raw, prior);
  Effect& e = s.effect;
  e.pairs = b.pairs;
  e.pooled = b.pooled;
  e.change = std::exp(b.mean) - 1;
  s.mean_flipped = direction == Direction::higher ? -b.mean : b.mean;
  e.improvement = std::exp(-s.mean_flipped) - 1;
  if (!std::isfinite(b.se)) {
    // One block and no calibration: no spread to test against, no evidence either way.
    e.p_better = e.p_worse = 1;
    e.ci_low = -1;
    e.ci_high = std::numeric_limits<double>::infinity();
    if (b.pairs == 2 && prior.known()) pair_hull(raw, direction, prior, level, s);
    return s;
  }
  s.interval = true;
  s.se = b.se;
  s.df = b.df;
  // A spread this small relative to the data is rounding, not variance: identical ratios give a
  // mean that differs from each of them in the last bits.
  if (b.df <= 0 || b.se <= 1e-12 * (std::abs(b.mean) + 1e-12)) {
    s.se = 0;
    const bool sure = s.mean_flipped != 0;
    e.p_better = sure && s.mean_flipped < 0 ? 0 : 1;
    e.p_worse = sure && s.mean_flipped > 0 ? 0 : 1;
    e.ci_low = e.ci_high = e.change;
    s.ci_worse = sure && s.mean_flipped > 0;
    return s;
  }
  const boost::math::students_t dist(b.df);
  const double t = s.mean_flipped / b.se;
  e.p_better = boost::math::cdf(dist, t);
  e.p_worse = boost::math::cdf(boost::math::complement(dist, t));
  const double q = boost::math::quantile(boost::math::complement(dist, (1 - level) / 2));
  s.level = level;
  e.ci_low = std::exp(b.mean - q * b.se) - 1;
  e.ci_high = std::exp(b.mean + q * b.se) - 1;
  // A regression needs the reported interval wholly on the worse side. A first block's is spread
  // over its looks: a plain 95% interval checked at every look named 7-10% of no-ops
  // regressions (the simulation at CV 10%, and no-ops on a loaded machine, bench/realnoise),
  // with a reported interval that still held no change.
  s.ci_worse = direction == Direction::lower ? b.mean - q * b.se > 0 : b.mean + q * b.se < 0;
  return s;
}

// How much worse the candidate is, as a fraction in the metric's own direction: 0.12 for a
// lower-is-better metric 12% up, 0.10 for a higher-is-better one 10% down.
double worsening(const Effect& e, Direction direction) {
  return direction == Direction::lower ? e.change : -e.change;
}

// "regression" rather than "no effect" needs evidence, not a noisy estimate: significantly
// worse at the look, or a 95% interval that excludes no change.
bool is_worse(const Stats& stats, double alpha) {
  return (stats.mean_flipped > 0 && stats.effect.p_worse < alpha) || stats.ci_worse;
}

// A stop that is not a keep. Only an interval that rules out an improvement of min_effect makes
// a dead end ("no effect"); anything less is inconclusive and may be retried. The interval is the
// one reported (stats.level).
void settle(const Stats& stats, const Rule& rule, double alpha, const char* undecided_reason, Verdict& v) {
  const double thr = std::log1p(rule.min_effect);
  if (is_worse(stats, alpha)) {
    v.outcome = Outcome::discard;
    v.reason = "regression";
  } else if (stats.improvement_bound(1 - (1 - stats.level) / 2) < thr) {
    v.outcome = Outcome::discard;
    v.reason = "no effect";
  } else {
    v.outcome = Outcome::inconclusive;
    v.reason = undecided_reason != nullptr ? undecided_reason
               : stats.mean_flipped > -thr ? "underpowered"
                                           : fmt::format("undecided after {} pairs", stats.effect.pairs);
  }
}

// The pair count of the look before `pairs` (0 when there is none).
int previous_look(const Rule& rule, int pairs) {
  switch (rule.method) {
    case Method::fixed:
      return 0;
    case Method::sprt:
      return pairs > k_sprt_first_pair ? pairs - 1 : 0;
    case Method::sequential:
      break;
  }
  int previous = 0;
  for (int look : rule.looks)
    if (look < pairs) previous = look;
  return previous;
}

double spent(double alpha, double n, double horizon, double power) {
  if (horizon <= 0) return alpha;
  return alpha * std::pow(std::min(n, horizon) / horizon, power);
}

// The first block under the sequential rule (guards and confirms come later).
void decide_sequential(const Stats& stats, const Rule& rule, double alpha, Verdict& v) {
  const int n = stats.effect.pairs;
  const double thr = std::log1p(rule.min_effect);
  const bool final_look = n >= rule.max_pairs;
  const bool improved = stats.effect.p_better < alpha && stats.mean_flipped <= -thr;
  // A block with no interval waits for more pairs, unless its two pairs show the win one by one.
  if (!stats.interval && !(stats.hull && improved) && !final_look) return;
  if (improved) {
    v.outcome = Outcome::keep;
    v.reason = "improved";
    return;
  }
  if (final_look || is_worse(stats, alpha) || stats.improvement_bound(1 - (1 - stats.level) / 2) < thr) {
    settle(stats, rule, alpha, nullptr, v);
    return;
  }
  // Not promising: the pairs rule out the improvement the rule is powered for (twice
  // min_effect) at k_futility_level, one-sided. Such a block stops now, unless its interval
  // would rule out min_effect by max_pairs at the noise seen so far (a quiet machine): then the
  // pairs it takes to make it a real dead end are worth it.
  const double powered = std::log1p(k_powered_multiple * rule.min_effect);
  if (stats.improvement_bound(k_futility_level) >= powered) return;
  // At max_pairs: the same per-pair noise over more pairs, with the blocks still to come added
  // to the degrees of freedom (without calibration two blocks leave one, and a t quantile at one
  // degree of freedom would call every experiment hopeless).
  const double at_max = stats.se * std::sqrt(static_cast<double>(n) / rule.max_pairs);
  const double df_at_max = stats.df + static_cast<double>(rule.max_pairs - n) / k_block_pairs;
  const boost::math::students_t dist(std::max(df_at_max, 1.0));
  const double reach =
      std::max(-stats.mean_flipped, 0.0) + boost::math::quantile(dist, 1 - (1 - stats.level) / 2) * at_max;
  // Likewise a clear loss whose interval (at the reported level) would lie wholly on the worse
  // side by then: a named regression is worth the pairs too.
  const bool regression_ahead =
      stats.mean_flipped - boost::math::quantile(dist, 1 - (1 - stats.level) / 2) * at_max > 0;
  if ((reach >= thr && !regression_ahead) || stats.se <= 0) settle(stats, rule, alpha, nullptr, v);
}

// Wald's SPRT of mean d = 0 against mean d = -ln(1 + min_effect), with a robust plug-in sigma.
void decide_sprt(const Stats& stats, const Rule& rule, double alpha, Verdict& v) {
  const int n = stats.effect.pairs;
  const double m = stats.median_flipped;
  const double thr = std::log1p(rule.min_effect);
  const bool final_look = n >= rule.max_pairs;
  if (!final_look && n < k_sprt_first_pair) return;

  // Wald's boundaries assume a known sigma. A plug-in estimate from a handful of pairs is often
  // far too small, and then every pair looks decisive. So: the larger of the MAD and the
  // standard deviation of the clipped pairs, raised to its one-sided 75% upper confidence bound
  // (chi-square, n - 1 df), from the fifth pair on.
  const double mad_sigma = robust_sigma(stats.flipped, m);
  const double wide = rule.sprt_clip * mad_sigma;
  std::vector<double> clipped;
  clipped.reserve(stats.flipped.size());
  for (double d : stats.flipped) clipped.push_back(std::clamp(d, m - wide, m + wide));
  double mean = 0;
  for (double d : clipped) mean += d;
  mean /= static_cast<double>(n);
  double ss = 0;
  for (double d : clipped) ss += (d - mean) * (d - mean);
  const double df = static_cast<double>(n - 1);
  const double sd = n > 1 ? std::sqrt(ss / df) : 0;
  double sigma = std::max(mad_sigma, sd);
  if (n > 1) {
    const boost::math::chi_squared chi(df);
    sigma *= std::sqrt(df / boost::math::quantile(chi, k_sprt_sigma_level));
  }
  sigma = std::max({sigma, 1e-9 * (std::abs(m) + thr), std::numeric_limits<double>::min()});
  const double clip = rule.sprt_clip * sigma;
  double sum = 0;
  for (double d : stats.flipped) sum += std::clamp(d, m - clip, m + clip) + thr / 2;
  // log LR of H1 (mean -thr) over H0 (mean 0) for normal d: -(thr / sigma^2) * sum(d + thr / 2).
  const double llr = -(thr / (sigma * sigma)) * sum;
  const double upper = std::log((1 - rule.beta) / rule.alpha);
  const double lower = std::log(rule.beta / (1 - rule.alpha));
  if (llr >= upper) {
    v.outcome = Outcome::keep;
    v.reason = "improved";
  } else if (llr <= lower || final_look) {
    settle(stats, rule, alpha, nullptr, v);
  }
}

void decide_fixed(const Stats& stats, const Rule& rule, double alpha, Verdict& v) {
  if (stats.effect.pairs < rule.max_pairs) return;
  if (stats.effect.p_better < alpha && stats.mean_flipped <= -std::log1p(rule.min_effect)) {
    v.outcome = Outcome::keep;
    v.reason = "improved";
    return;
  }
  settle(stats, rule, alpha, nullptr, v);
}

// Guards. A significant worsening beyond tolerance discards at any look, Bonferroni-corrected
// across the guards tested; at a keep or at the last look the estimate alone suffices, because
// nothing more will be measured and a kept commit must not carry a guard beyond tolerance.
void apply_guards(const std::map<std::string, Paired>& guard_samples, const std::vector<GuardSpec>& guards,
                  double alpha, bool final_look, Verdict& v) {
  std::size_t tested = 0;
  for (const GuardSpec& g : guards)
    if (guard_samples.count(g.name) != 0) ++tested;
  const double guard_alpha = alpha / static_cast<double>(std::max<std::size_t>(tested, 1));
  const bool settling = v.outcome == Outcome::keep || final_look;
  // A primary regression stays the headline; otherwise the first guard to regress names the
  // reason (it says more than "no effect" about why the idea is a dead end).
  bool reason_taken = v.outcome == Outcome::discard && v.reason == "regression";
  for (const GuardSpec& g : guards) {
    auto it = guard_samples.find(g.name);
    if (it == guard_samples.end()) continue;
    const Effect e = estimate(it->second, g.direction);
    v.guards[g.name] = e;
    const double w = worsening(e, g.direction);
    const bool regresses = w > g.tolerance && (e.p_worse < guard_alpha || settling);
    if (regresses && !reason_taken) {
      reason_taken = true;
      v.outcome = Outcome::discard;
      v.reason = fmt::format("guard {} worse by {:.1f}% (tolerance {:g}%)", g.name, w * 100, g.tolerance * 100);
    }
  }
}

// Confirm metrics: only a keep needs them. A significant move the wrong way settles it; a
// confirm that merely has not improved yet may still do so with more pairs.
void apply_confirms(const std::map<std::string, Paired>& confirm_samples, const std::vector<ConfirmSpec>& confirms,
                    double alpha, bool final_look, Verdict& v) {
  if (v.outcome != Outcome::keep) return;
  std::size_t confirming = 0;
  for (const ConfirmSpec& c : confirms)
    if (confirm_samples.count(c.name) != 0) ++confirming;
  const double confirm_alpha = alpha / static_cast<double>(std::max<std::size_t>(confirming, 1));
  bool blocked = false;
  for (const ConfirmSpec& c : confirms) {
    auto it = confirm_samples.find(c.name);
    if (it == confirm_samples.end()) continue;
    const Effect e = estimate(it->second, c.direction);
    v.confirms[c.name] = e;
    if (blocked) continue;
    const bool against = e.p_worse < confirm_alpha;
    if (e.improvement > 0 && !against) continue;
    blocked = true;
    v.outcome = against ? Outcome::discard : (final_look ? Outcome::inconclusive : Outcome::undecided);
    v.reason = fmt::format("confirm {} did not move with the primary (median improvement {}, p_worse {:.2g})", c.name,
                           util::pct(e.improvement), e.p_worse);
  }
}

// The level of a first block's interval: 95% spread over the rule's looks (Bonferroni), so that
// it holds at whichever look the block stopped. A plain 95% interval at a data-dependent stop is
// too narrow: the blocks that stop early as not promising are those whose estimate came out
// worse than the truth (the benchmark measured 90% coverage for a 2% win at 1% noise).
double looks_level(const Rule& rule) {
  int looks = 1;
  switch (rule.method) {
    case Method::fixed:
      break;
    case Method::sprt:
      looks = std::max(1, rule.max_pairs - k_sprt_first_pair + 1);
      break;
    case Method::sequential:
      looks = std::max<int>(1, static_cast<int>(rule.looks.size()));
      break;
  }
  return 1 - 0.05 / looks;
}

// The confirmation block's size from the first block alone: 95% power for a one-sided test at
// confirmation_alpha against k_plan_shrink of the first block's improvement (at least
// min_effect), with the first block's per-pair sigma; whole blocks, at most confirmation_pairs.
// Without a calibration the block's variance is its own, with blocks as clusters: one or two
// blocks leave it 1 df, and a t test at 1 df passes at alpha 0.04 only beyond t = 7.9 (clear 10%
// wins at 0.5-1% noise went unconfirmed in 2- and 4-pair blocks). So an uncalibrated confirmation
// block has at least three blocks (2 df) when confirmation_pairs allows.
int plan(const Stats& stats, const Rule& rule, const Prior& prior) {
  const int most = rule.confirmation_pairs;
  const int least = std::min(most, prior.known() ? k_block_pairs : 3 * k_block_pairs);
  const double target = std::max(k_plan_shrink * -stats.mean_flipped, std::log1p(rule.min_effect));
  const double sigma = stats.se * std::sqrt(static_cast<double>(stats.effect.pairs));
  if (!(sigma > 0) || !std::isfinite(sigma)) return least;
  const boost::math::normal z;
  const double need = boost::math::quantile(boost::math::complement(z, rule.confirmation_alpha)) + k_plan_z;
  const double pairs = std::pow(need * sigma / target, 2);
  const int blocks = static_cast<int>(std::ceil(pairs / k_block_pairs));
  return std::clamp(blocks * k_block_pairs, least, most);
}

}  // namespace

bool is_look(const Rule& rule, int pairs) {
  switch (rule.method) {
    case Method::fixed:
      return pairs == rule.max_pairs;
    case Method::sprt:
      return pairs >= std::min(k_sprt_first_pair, rule.max_pairs) && pairs <= rule.max_pairs;
    case Method::sequential:
      break;
  }
  return std::find(rule.looks.begin(), rule.looks.end(), pairs) != rule.looks.end();
}

double look_alpha(const Rule& rule, int pairs) {
  if (rule.method == Method::fixed) return pairs >= rule.max_pairs ? rule.alpha : 0;
  const double horizon = static_cast<double>(rule.max_pairs);
  const double power = rule.method == Method::sprt ? 4 : k_spending_power;
  return std::max(
      spent(rule.alpha, pairs, horizon, power) - spent(rule.alpha, previous_look(rule, pairs), horizon, power), 0.0);
}

Effect estimate(const Paired& samples, Direction direction, const Prior& prior) {
  return compute(samples, direction, prior).effect;
}

Verdict evaluate(const Paired& primary, Direction direction, const std::map<std::string, Paired>& guard_samples,
                 const std::vector<GuardSpec>& guards, const Rule& rule, const Prior& prior) {
  return evaluate(primary, direction, guard_samples, guards, rule, {}, {}, prior);
}

Verdict evaluate(const Paired& primary, Direction direction, const std::map<std::string, Paired>& guard_samples,
                 const std::vector<GuardSpec>& guards, const Rule& rule,
                 const std::map<std::string, Paired>& confirm_samples, const std::vector<ConfirmSpec>& confirms,
                 const Prior& prior) {
  const Stats stats = compute(primary, direction, prior, looks_level(rule));
  const int n = stats.effect.pairs;
  const bool final_look = n >= rule.max_pairs;
  const double alpha = look_alpha(rule, n);

  Verdict v;
  v.primary = stats.effect;
  switch (rule.method) {
    case Method::sequential:
      decide_sequential(stats, rule, alpha, v);
      break;
    case Method::sprt:
      decide_sprt(stats, rule, alpha, v);
      break;
    case Method::fixed:
      decide_fixed(stats, rule, alpha, v);
      break;
  }
  apply_guards(guard_samples, guards, alpha, final_look, v);
  apply_confirms(confirm_samples, confirms, alpha, final_look, v);
  if (v.outcome == Outcome::keep && rule.confirmation_pairs > 0) v.confirmation_pairs = plan(stats, rule, prior);
  return v;
}

Verdict evaluate_confirmation(const Verdict& first, const Block& block, Direction direction,
                              const std::vector<GuardSpec>& guards, const std::vector<ConfirmSpec>& confirms,
                              const Rule& rule, const Prior& prior) {
  // The first block passed on the calibrated noise; when the calibration came out quieter than
  // the machine (16-32 A/A pairs rarely hold an interference streak), that pass is likelier, and
  // a confirmation block that trusts the same estimate inherits the error: at 10% noise with
  // streaks a 2% regression then passed both blocks 0.3% of the time, and a short block's 95%
  // interval covered a kept win 89% of the time. So the confirmation takes the calibrated sigma
  // at its upper 95% confidence bound (docs/decision-quality.md).
  Prior upper = prior;
  if (upper.known()) {
    const double df = std::max(upper.df, k_confirmation_min_df);
    const boost::math::chi_squared chi(df);
    upper.sd_pair *= std::sqrt(df / boost::math::quantile(chi, k_confirmation_sigma_level));
  }
  const Stats stats = compute(block.primary, direction, upper);
  const double alpha = rule.confirmation_alpha;

  Verdict v;
  v.primary = stats.effect;
  v.first_block = first.primary;
  if (!stats.interval && !(stats.hull && stats.effect.p_better < alpha) &&
      stats.effect.pairs < rule.confirmation_pairs) {
    // Too noisy to test at all (one block, and a hiccup in it): one more block.
    v.confirmation_pairs = std::min(rule.confirmation_pairs, stats.effect.pairs + k_block_pairs);
    return v;
  }
  if (stats.effect.p_better < alpha) {
    v.outcome = Outcome::keep;
    v.reason = "improved";
  } else {
    // The fresh block does not show the improvement: the first block's pass was noise, an
    // interference streak, or an effect too small to confirm.
    settle(stats, rule, alpha, "not confirmed", v);
  }
  apply_guards(block.guards, guards, alpha, true, v);
  apply_confirms(block.confirms, confirms, alpha, true, v);
  return v;
}

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::undecided:
      return "undecided";
    case Outcome::keep:
      return "keep";
    case Outcome::discard:
      return "discard";
    case Outcome::inconclusive:
      return "inconclusive";
  }
  return "unknown";
}

const char* to_string(Direction direction) {
  switch (direction) {
    case Direction::lower:
      return "lower";
    case Direction::higher:
      return "higher";
  }
  return "unknown";
}

const char* to_string(Method method) {
  switch (method) {
    case Method::sequential:
      return "sequential";
    case Method::sprt:
      return "sprt";
    case Method::fixed:
      return "fixed";
  }
  return "unknown";
}

std::optional<Method> method_from_string(std::string_view text) {
  if (text == "sequential") return Method::sequential;
  if (text == "sprt") return Method::sprt;
  if (text == "fixed") return Method::fixed;
  return std::nullopt;
}

}  // namespace ar::decide
