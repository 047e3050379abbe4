#include "analysis.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <boost/math/distributions/students_t.hpp>
#include <boost/math/special_functions/beta.hpp>

namespace ar::realnoise {

namespace {
constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

double t_quantile(double df, double level) {
  const boost::math::students_t dist(df);
  return boost::math::quantile(dist, 0.5 + level / 2);
}

std::vector<double> numbers(const nlohmann::json& a) {
  std::vector<double> out;
  if (!a.is_array()) return out;
  for (const auto& v : a) {
    if (!v.is_number()) return {};
    out.push_back(v.get<double>());
  }
  return out;
}
}  // namespace

// Clopper-Pearson: the bound p at which observing k or fewer (upper) / k or more (lower)
// successes has probability 1 - level, through the inverse of the regularised incomplete beta.
double upper_bound(int k, int n, double level) {
  if (k >= n) return 1.0;
  return boost::math::ibeta_inv(static_cast<double>(k + 1), static_cast<double>(n - k), level);
}

double lower_bound(int k, int n, double level) {
  if (k <= 0) return 0.0;
  return boost::math::ibeta_inv(static_cast<double>(k), static_cast<double>(n - k + 1), 1 - level);
}

Interval mean_interval(const std::vector<double>& x, double level) {
  Interval r;
  r.n = static_cast<int>(x.size());
  if (x.empty()) return Interval{k_nan, k_nan, k_nan, 0};
  double sum = 0;
  for (double v : x) sum += v;
  r.mean = sum / static_cast<double>(x.size());
  if (x.size() < 2) {
    r.low = r.high = k_nan;
    return r;
  }
  double ss = 0;
  for (double v : x) ss += (v - r.mean) * (v - r.mean);
  const double se = std::sqrt(ss / static_cast<double>(x.size() - 1) / static_cast<double>(x.size()));
  const double half = t_quantile(static_cast<double>(x.size() - 1), level) * se;
  r.low = r.mean - half;
  r.high = r.mean + half;
  return r;
}

Interval clustered_interval(const std::vector<std::vector<double>>& clusters, double level) {
  Interval r;
  double sum = 0;
  int groups = 0;
  for (const auto& c : clusters) {
    for (double v : c) sum += v;
    r.n += static_cast<int>(c.size());
    if (!c.empty()) ++groups;
  }
  if (r.n == 0) return Interval{k_nan, k_nan, k_nan, 0};
  r.mean = sum / r.n;
  if (groups < 2) {
    r.low = r.high = k_nan;
    return r;
  }
  // Var(mean) = G/(G-1) * sum over clusters of (sum of residuals)^2 / N^2.
  double v = 0;
  for (const auto& c : clusters) {
    double e = 0;
    for (double x : c) e += x - r.mean;
    v += e * e;
  }
  const double g = groups;
  const double se = std::sqrt(g / (g - 1) * v) / r.n;
  const double half = t_quantile(g - 1, level) * se;
  r.low = r.mean - half;
  r.high = r.mean + half;
  return r;
}

std::vector<OrderedPair> ordered_pairs(const nlohmann::json& record) {
  const auto runs = record.find("runs");
  const auto metric = record.find("metric");
  if (runs == record.end() || !runs->is_array() || metric == record.end() || !metric->is_object()) return {};
  const std::vector<double> base = numbers(metric->value("base", nlohmann::json()));
  const std::vector<double> cand = numbers(metric->value("candidate", nlohmann::json()));
  if (base.size() != cand.size() || runs->size() != 2 * base.size()) return {};
  std::vector<OrderedPair> out;
  for (std::size_t i = 0; i + 1 < runs->size(); i += 2) {
    const auto& a = (*runs)[i];
    const auto& b = (*runs)[i + 1];
    if (!a.is_array() || !b.is_array() || a.size() < 3 || b.size() < 3) return {};
    // Both runs of a pair share block and pair numbers and have different sides.
    if (a[0] != b[0] || a[1] != b[1] || a[2] == b[2] || !a[2].is_number_integer()) return {};
    const int first = a[2].get<int>();
    if (first != 0 && first != 1) return {};
    const std::size_t k = i / 2;
    out.push_back(first == 0 ? OrderedPair{base[k], cand[k], 0} : OrderedPair{cand[k], base[k], 1});
  }
  return out;
}

double run_noise(const nlohmann::json& record) {
  const auto metric = record.find("metric");
  if (metric == record.end() || !metric->is_object()) return k_nan;
  const std::vector<double> base = numbers(metric->value("base", nlohmann::json()));
  const std::vector<double> cand = numbers(metric->value("candidate", nlohmann::json()));
  if (base.size() != cand.size() || base.size() < 2) return k_nan;
  std::vector<double> d;
  for (std::size_t i = 0; i < base.size(); ++i) {
    if (!(base[i] > 0) || !(cand[i] > 0)) return k_nan;
    d.push_back(std::log(cand[i] / base[i]));
  }
  double mean = 0;
  for (double v : d) mean += v;
  mean /= static_cast<double>(d.size());
  double ss = 0;
  for (double v : d) ss += (v - mean) * (v - mean);
  return std::sqrt(ss / static_cast<double>(d.size() - 1)) / std::sqrt(2.0);
}

}  // namespace ar::realnoise
