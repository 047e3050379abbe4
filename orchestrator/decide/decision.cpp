#include "decide/decision.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>

#include <boost/math/distributions/students_t.hpp>
#include <fmt/format.h>

namespace ar::decide {
namespace {

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::size_t mid = values.size() / 2;
  if (values.size() % 2 == 1) return values[mid];
  return (values[mid - 1] + values[mid]) / 2.0;
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
  // 20% from each end; below 5 pairs floor(0.2 n) is 0 anyway, so nothing is trimmed there.
  const std::size_t g = n >= 5 ? static_cast<std::size_t>(std::floor(0.2 * static_cast<double>(n)))
                               : 0;
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
};

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
    return s;
  }
  const boost::math::students_t dist(t_raw.df);
  const double t = mean_flipped / t_raw.se;
  e.p_better = boost::math::cdf(dist, t);
  e.p_worse = boost::math::cdf(boost::math::complement(dist, t));
  const double q = boost::math::quantile(boost::math::complement(dist, 0.025));
  e.ci_low = std::exp(t_raw.mean - q * t_raw.se) - 1;
  e.ci_high = std::exp(t_raw.mean + q * t_raw.se) - 1;
  return s;
}

// How much worse the candidate's median is, as a fraction in the metric's own direction:
// 0.12 for a lower-is-better metric 12% up, 0.10 for a higher-is-better one 10% down.
double worsening(const Effect& e, Direction direction) {
  return direction == Direction::lower ? e.change : -e.change;
}

} // namespace

bool is_look(const Rule& rule, int pairs) {
  return std::find(rule.looks.begin(), rule.looks.end(), pairs) != rule.looks.end();
}

Effect estimate(const Paired& samples, Direction direction) {
  return compute(samples, direction).effect;
}

Verdict evaluate(const Paired& primary, Direction direction,
                 const std::map<std::string, Paired>& guard_samples,
                 const std::vector<GuardSpec>& guards, const Rule& rule) {
  const Stats stats = compute(primary, direction);
  const int n = stats.effect.pairs;
  const double m = stats.median_flipped;
  const double thr = std::log1p(rule.min_effect);
  const double alpha = rule.alpha / 4;
  const bool final_look = n >= rule.max_pairs;

  Verdict v;
  v.primary = stats.effect;
  const bool worse = (m > 0 && stats.effect.p_worse < alpha) || m > thr;
  auto discard_primary = [&] {
    v.outcome = Outcome::discard;
    v.reason = worse ? "regression" : "no effect";
  };

  if (!final_look && !rule.looks.empty() && n < rule.looks.front()) {
    // Before the first look no rule applies.
  } else if (!final_look && !rule.looks.empty() &&
             n < (rule.looks.size() > 1 ? rule.looks[1] : rule.max_pairs)) {
    // First look: too few pairs for a test, so only drop candidates that are plainly not better:
    // no single pair showed even half of min_effect as an improvement, and the median leans the
    // wrong way. Simulated with 1% noise per run, a true improvement of exactly min_effect is
    // lost here in about 3% of experiments, a no-op is dropped in about 1 of 4 (saving the
    // pairs up to the next look) and a 2% regression in about 9 of 10.
    const bool none_improved = std::all_of(stats.flipped.begin(), stats.flipped.end(),
                                           [&](double d) { return d > -thr / 2; });
    if (none_improved && m > 0) discard_primary();
  } else if (stats.effect.p_better < alpha && m <= -thr) {
    v.outcome = Outcome::keep;
    v.reason = "improved";
  } else if (m > -thr / 2) {
    discard_primary();
  } else if (final_look) {
    v.outcome = Outcome::inconclusive;
    v.reason = fmt::format("undecided after {} pairs", n);
  }

  // Guards. A significant worsening beyond tolerance discards at any look, Bonferroni-corrected
  // across the guards tested; at a keep or at the last look the median alone suffices, because
  // nothing more will be measured and a kept commit must not carry a guard beyond tolerance.
  std::size_t tested = 0;
  for (const GuardSpec& g : guards)
    if (guard_samples.count(g.name) != 0) ++tested;
  const double guard_alpha =
      rule.alpha / (4 * static_cast<double>(std::max<std::size_t>(tested, 1)));
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

} // namespace ar::decide
