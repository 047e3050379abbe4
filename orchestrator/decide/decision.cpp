#include "decide/decision.hpp"

#include "util/format.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <fmt/format.h>

namespace ar::decide {
namespace {

// Tuned with the decision-quality benchmark (docs/decision-quality.md); each constant's effect
// is described where it is used.
constexpr double k_mad_to_sigma = 1.4826;    // MAD of a normal sample -> its standard deviation
constexpr double k_outlier_sigmas = 3.5;     // beyond this, a pair counts as a hiccup
constexpr std::size_t k_min_trim_pairs = 5;  // from here on at least one pair is trimmed per end
constexpr double k_spending_power = 4;       // alpha spent by look n: alpha * (n / max_pairs)^4
constexpr int k_sprt_first_pair = 5;         // fewer pairs give no usable sigma
constexpr double k_sprt_sigma_level = 0.25;  // sigma is raised to its upper 75% bound

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::size_t mid = values.size() / 2;
  if (values.size() % 2 == 1) return values[mid];
  return (values[mid - 1] + values[mid]) / 2.0;
}

// 1.4826 * the median absolute deviation from `center`: sigma for normal data, unmoved by a few
// wild values.
double robust_sigma(const std::vector<double>& values, double center) {
  std::vector<double> dev;
  dev.reserve(values.size());
  for (double x : values) dev.push_back(std::abs(x - center));
  return k_mad_to_sigma * median_of(std::move(dev));
}

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
      throw std::invalid_argument(
          fmt::format("decide: pair {} has a sample that is not a positive number", i + 1));
    d.push_back(std::log(b / a));
  }
  return d;
}

// How many pairs to trim from each end of `sorted`. A fixed 20% trim costs too many degrees of
// freedom at 5 to 12 pairs (the benchmark's -2% improvement was kept 8 points less often), and
// no trim at all lets one hiccup (a run slowed by 5-30%) swamp a 1% noise floor. So: one per end
// from k_min_trim_pairs on, and as many as the side with the most pairs beyond k_outlier_sigmas
// robust sigmas has. Always leaves at least two pairs.
std::size_t trim_count(const std::vector<double>& sorted) {
  const std::size_t n = sorted.size();
  if (n < 3) return 0;
  const double center = median_of(sorted);
  const double limit = k_outlier_sigmas * robust_sigma(sorted, center);
  std::size_t low = 0;
  std::size_t high = 0;
  for (double x : sorted) {
    if (x < center - limit) ++low;
    if (x > center + limit) ++high;
  }
  std::size_t g = std::max(low, high);
  if (n >= k_min_trim_pairs) g = std::max<std::size_t>(g, 1);
  return std::min(g, (n - 2) / 2);
}

// Yuen's trimmed mean of `d` with its standard error from the winsorized variance. Trimming is
// symmetric, so the result for -d is exactly the negation: one computation serves both the raw
// and the flipped scale.
struct Trimmed {
  double mean = 0;
  double se = 0;
  double df = 0;  // 0 when there is no variance estimate (n < 2)
};

Trimmed yuen(std::vector<double> d) {
  const std::size_t n = d.size();
  std::sort(d.begin(), d.end());
  const std::size_t g = trim_count(d);
  const std::size_t h = n - 2 * g;
  Trimmed out;
  double sum = 0;
  for (std::size_t i = g; i < n - g; ++i) sum += d[i];
  out.mean = sum / static_cast<double>(h);
  if (n < 2) return out;

  for (std::size_t i = 0; i < g; ++i) {
    d[i] = d[g];
    d[n - 1 - i] = d[n - 1 - g];
  }
  double wmean = 0;
  for (double x : d) wmean += x;
  wmean /= static_cast<double>(n);
  double ss = 0;
  for (double x : d) ss += (x - wmean) * (x - wmean);
  const double wvar = ss / static_cast<double>(n - 1);
  const double hd = static_cast<double>(h);
  out.se = std::sqrt(static_cast<double>(n - 1) * wvar / (hd * (hd - 1)));
  out.df = hd - 1;
  return out;
}

// A difference this small relative to the data is rounding, not variance: identical ratios give
// a mean that differs from each of them in the last bits.
bool degenerate(const Trimmed& t) {
  return t.df <= 0 || t.se <= 1e-12 * (std::abs(t.mean) + 1e-12);
}

struct Stats {
  Effect effect;
  std::vector<double> flipped;  // d per pair, direction-flipped: < 0 is better
  double median_flipped = 0;
  bool ci_worse = false;        // the whole 95% CI of the change lies on the worse side
};

// "regression" rather than "no effect" needs evidence, not a noisy median: significantly worse
// at the look, or a 95% interval that excludes no change.
bool is_worse(const Stats& stats, double alpha) {
  return (stats.median_flipped > 0 && stats.effect.p_worse < alpha) || stats.ci_worse;
}

Stats compute(const Paired& samples, Direction direction) {
  const std::vector<double> raw = log_ratios(samples);
  Stats s;
  s.flipped = raw;
  if (direction == Direction::higher)
    for (double& x : s.flipped) x = -x;

  Effect& e = s.effect;
  e.pairs = static_cast<int>(raw.size());
  e.change = std::exp(median_of(raw)) - 1;
  s.median_flipped = median_of(s.flipped);
  e.improvement = std::exp(-s.median_flipped) - 1;

  const Trimmed t_raw = yuen(raw);
  const double mean_flipped = direction == Direction::higher ? -t_raw.mean : t_raw.mean;
  if (degenerate(t_raw)) {
    // No spread to test against: either a sure direction or no evidence at all. With one pair
    // there is no variance estimate, so that is "no evidence" whatever the pair says.
    const bool sure = t_raw.df > 0 && mean_flipped != 0;
    e.p_better = sure && mean_flipped < 0 ? 0 : 1;
    e.p_worse = sure && mean_flipped > 0 ? 0 : 1;
    e.ci_low = e.ci_high = std::exp(t_raw.mean) - 1;
    s.ci_worse = sure && mean_flipped > 0;
    return s;
  }
  const boost::math::students_t dist(t_raw.df);
  const double t = mean_flipped / t_raw.se;
  e.p_better = boost::math::cdf(dist, t);
  e.p_worse = boost::math::cdf(boost::math::complement(dist, t));
  const double q = boost::math::quantile(boost::math::complement(dist, 0.025));
  e.ci_low = std::exp(t_raw.mean - q * t_raw.se) - 1;
  e.ci_high = std::exp(t_raw.mean + q * t_raw.se) - 1;
  s.ci_worse = direction == Direction::lower ? e.ci_low > 0 : e.ci_high < 0;
  return s;
}

// How much worse the candidate's median is, as a fraction in the metric's own direction:
// 0.12 for a lower-is-better metric 12% up, 0.10 for a higher-is-better one 10% down.
double worsening(const Effect& e, Direction direction) {
  return direction == Direction::lower ? e.change : -e.change;
}

// The pair count of the look before `pairs` (0 when there is none).
int previous_look(const Rule& rule, int pairs) {
  switch (rule.method) {
  case Method::fixed: return 0;
  case Method::sprt: return pairs > k_sprt_first_pair ? pairs - 1 : 0;
  case Method::sequential: break;
  }
  int previous = 0;
  for (int look : rule.looks)
    if (look < pairs) previous = look;
  return previous;
}

// The test-based verdict shared by the sequential rule (from its second look) and the fixed rule:
// keep when significant and the median beats min_effect, discard below half of it, and at the
// last look anything else is inconclusive.
void apply_thresholds(const Stats& stats, double alpha, double thr, bool worse, bool final_look, Verdict& v) {
  const double m = stats.median_flipped;
  if (stats.effect.p_better < alpha && m <= -thr) {
    v.outcome = Outcome::keep;
    v.reason = "improved";
  } else if (m > -thr / 2) {
    v.outcome = Outcome::discard;
    v.reason = worse ? "regression" : "no effect";
  } else if (final_look) {
    v.outcome = Outcome::inconclusive;
    v.reason = fmt::format("undecided after {} pairs", stats.effect.pairs);
  }
}

// The sequential rule's primary verdict (guards and confirms come later).
void decide_sequential(const Stats& stats, const Rule& rule, double alpha, Verdict& v,
                       bool& worse) {
  const int n = stats.effect.pairs;
  const double thr = std::log1p(rule.min_effect);
  const bool final_look = n >= rule.max_pairs;
  worse = is_worse(stats, alpha);
  const int first = rule.looks.empty() ? rule.max_pairs : rule.looks.front();
  const int second = rule.looks.size() > 1 ? rule.looks[1] : rule.max_pairs;

  if (!final_look && n < first) return;  // before the first look no rule applies
  if (!final_look && n < second) {
    // First look: too few pairs for a test, so only drop candidates that are plainly not
    // better: even without their single worst pair (the one most likely hit by a hiccup on the
    // candidate) the pairs do not improve by min_effect on average. Simulated at 1% noise per
    // run with 5% of runs slowed by 5-30%, this drops 60% of no-ops (saving the pairs up to the
    // next look) and 5% of 2% improvements; the median of three pairs, at the same loss, drops
    // only 55% of no-ops.
    if (n < 2) return;
    std::vector<double> sorted = stats.flipped;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (std::size_t i = 0; i + 1 < sorted.size(); ++i) sum += sorted[i];
    if (sum / static_cast<double>(sorted.size() - 1) > -thr) {
      v.outcome = Outcome::discard;
      v.reason = worse ? "regression" : "no effect";
    }
    return;
  }
  apply_thresholds(stats, alpha, thr, worse, final_look, v);
}

// Wald's SPRT of mean d = 0 against mean d = -ln(1 + min_effect), with a robust plug-in sigma.
void decide_sprt(const Stats& stats, const Rule& rule, double alpha, Verdict& v, bool& worse) {
  const int n = stats.effect.pairs;
  const double m = stats.median_flipped;
  const double thr = std::log1p(rule.min_effect);
  const bool final_look = n >= rule.max_pairs;
  worse = is_worse(stats, alpha);
  if (!final_look && n < k_sprt_first_pair) return;

  // Wald's boundaries assume a known sigma. A plug-in estimate from a handful of pairs is often
  // far too small, and then every pair looks decisive: at 1% noise a no-op was kept in 18% of
  // simulated experiments with the plain MAD from the third pair on. So: the larger of the MAD
  // and the standard deviation of the clipped pairs, raised to its one-sided 75% upper
  // confidence bound (chi-square, n - 1 df), from the fifth pair on. The floor keeps identical
  // pairs from dividing by zero; it is far below any real noise.
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
  } else if (llr <= lower || (final_look && m > -thr / 2)) {
    v.outcome = Outcome::discard;
    v.reason = worse ? "regression" : "no effect";
  } else if (final_look) {
    v.outcome = Outcome::inconclusive;
    v.reason = fmt::format("undecided after {} pairs", n);
  }
}

void decide_fixed(const Stats& stats, const Rule& rule, double alpha, Verdict& v, bool& worse) {
  const int n = stats.effect.pairs;
  const double thr = std::log1p(rule.min_effect);
  worse = is_worse(stats, alpha);
  if (n < rule.max_pairs) return;
  apply_thresholds(stats, alpha, thr, worse, true, v);
}


} // namespace

bool is_look(const Rule& rule, int pairs) {
  switch (rule.method) {
  case Method::fixed: return pairs == rule.max_pairs;
  case Method::sprt:
    return pairs >= std::min(k_sprt_first_pair, rule.max_pairs) && pairs <= rule.max_pairs;
  case Method::sequential: break;
  }
  return std::find(rule.looks.begin(), rule.looks.end(), pairs) != rule.looks.end();
}

double look_alpha(const Rule& rule, int pairs) {
  if (rule.max_pairs <= 0) return rule.alpha;
  const double horizon = static_cast<double>(rule.max_pairs);
  auto spent = [&](int n) {
    const double t = std::min(static_cast<double>(n), horizon) / horizon;
    return rule.alpha * std::pow(t, k_spending_power);
  };
  return std::max(spent(pairs) - spent(previous_look(rule, pairs)), 0.0);
}

Effect estimate(const Paired& samples, Direction direction) {
  return compute(samples, direction).effect;
}

Verdict evaluate(const Paired& primary, Direction direction,
                 const std::map<std::string, Paired>& guard_samples,
                 const std::vector<GuardSpec>& guards, const Rule& rule) {
  return evaluate(primary, direction, guard_samples, guards, rule, {}, {});
}

Verdict evaluate(const Paired& primary, Direction direction,
                 const std::map<std::string, Paired>& guard_samples,
                 const std::vector<GuardSpec>& guards, const Rule& rule,
                 const std::map<std::string, Paired>& confirm_samples,
                 const std::vector<ConfirmSpec>& confirms) {
  const Stats stats = compute(primary, direction);
  const int n = stats.effect.pairs;
  const bool final_look = n >= rule.max_pairs;
  const double alpha = look_alpha(rule, n);

  Verdict v;
  v.primary = stats.effect;
  bool worse = false;
  switch (rule.method) {
  case Method::sequential: decide_sequential(stats, rule, alpha, v, worse); break;
  case Method::sprt: decide_sprt(stats, rule, alpha, v, worse); break;
  case Method::fixed: decide_fixed(stats, rule, alpha, v, worse); break;
  }

  // Guards. A significant worsening beyond tolerance discards at any look, Bonferroni-corrected
  // across the guards tested; at a keep or at the last look the median alone suffices, because
  // nothing more will be measured and a kept commit must not carry a guard beyond tolerance.
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
      v.reason = fmt::format("guard {} worse by {:.1f}% (tolerance {:g}%)", g.name, w * 100,
                             g.tolerance * 100);
    }
  }

  // Confirms: only a keep needs them. A significant move the wrong way settles it; a confirm
  // that merely has not improved yet may still do so with more pairs.
  if (v.outcome != Outcome::keep) return v;
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
    v.outcome = against ? Outcome::discard
                        : (final_look ? Outcome::inconclusive : Outcome::undecided);
    v.reason = fmt::format("confirm {} did not move with the primary (median improvement {}, "
                           "p_worse {:.2g})",
                           c.name, util::pct(e.improvement), e.p_worse);
  }
  return v;
}

const char* to_string(Outcome outcome) {
  switch (outcome) {
  case Outcome::undecided: return "undecided";
  case Outcome::keep: return "keep";
  case Outcome::discard: return "discard";
  case Outcome::inconclusive: return "inconclusive";
  }
  return "unknown";
}

const char* to_string(Direction direction) {
  switch (direction) {
  case Direction::lower: return "lower";
  case Direction::higher: return "higher";
  }
  return "unknown";
}

const char* to_string(Method method) {
  switch (method) {
  case Method::sequential: return "sequential";
  case Method::sprt: return "sprt";
  case Method::fixed: return "fixed";
  }
  return "unknown";
}

std::optional<Method> method_from_string(std::string_view text) {
  if (text == "sequential") return Method::sequential;
  if (text == "sprt") return Method::sprt;
  if (text == "fixed") return Method::fixed;
  return std::nullopt;
}

} // namespace ar::decide
