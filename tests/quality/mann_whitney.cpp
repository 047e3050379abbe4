#include "quality/mann_whitney.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <utility>

namespace ar::quality {
namespace {

double normal_upper(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

// counts[u] = number of orderings of m x's and n y's in which u (x, y) pairs have x < y.
// Built by adding one value at a time as the new largest: a new x is below no y, a new y is above
// every x already placed. Doubles hold C(100, 50) without overflow, which is the size bound.
std::vector<double> u_counts(std::size_t m, std::size_t n) {
  // table[i][j] is the distribution for i x's and j y's, rolled over j.
  std::vector<std::vector<double>> prev(m + 1);
  for (std::size_t i = 0; i <= m; ++i) prev[i] = {1.0};  // j = 0: U is always 0
  for (std::size_t j = 1; j <= n; ++j) {
    std::vector<std::vector<double>> cur(m + 1);
    cur[0] = {1.0};
    for (std::size_t i = 1; i <= m; ++i) {
      cur[i].assign(i * j + 1, 0.0);
      // Largest value an x: the distribution of (i - 1, j).
      for (std::size_t u = 0; u < cur[i - 1].size(); ++u) cur[i][u] += cur[i - 1][u];
      // Largest value a y: the distribution of (i, j - 1) shifted by i.
      for (std::size_t u = 0; u < prev[i].size(); ++u) cur[i][u + i] += prev[i][u];
    }
    prev = std::move(cur);
  }
  return prev[m];
}

} // namespace

MannWhitney mann_whitney(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.empty() || y.empty()) throw std::invalid_argument("mann_whitney: empty sample");
  MannWhitney out;
  for (double a : x)
    for (double b : y) out.u += a < b ? 1.0 : (a == b ? 0.5 : 0.0);

  const std::size_t m = x.size();
  const std::size_t n = y.size();
  std::vector<double> all(x);
  all.insert(all.end(), y.begin(), y.end());
  std::sort(all.begin(), all.end());
  double tie_term = 0;  // sum of t^3 - t over groups of t tied values
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j < all.size() && all[j] == all[i]) ++j;
    const double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    i = j;
  }

  if (tie_term == 0 && m <= 50 && n <= 50) {
    const std::vector<double> counts = u_counts(m, n);
    double total = 0;
    for (double c : counts) total += c;
    // U is an integer here.
    const auto u = static_cast<std::size_t>(std::lround(out.u));
    double upper = 0;
    double lower = 0;
    for (std::size_t k = 0; k < counts.size(); ++k) {
      if (k >= u) upper += counts[k];
      if (k <= u) lower += counts[k];
    }
    out.p_less = upper / total;
    out.p_greater = lower / total;
    out.exact = true;
    return out;
  }

  const double md = static_cast<double>(m);
  const double nd = static_cast<double>(n);
  const double big_n = md + nd;
  const double mean = md * nd / 2;
  const double var = md * nd / 12 * ((big_n + 1) - tie_term / (big_n * (big_n - 1)));
  if (!(var > 0)) return out;  // every value tied: no evidence either way
  const double sd = std::sqrt(var);
  out.p_less = normal_upper((out.u - mean - 0.5) / sd);
  out.p_greater = 1 - normal_upper((out.u - mean + 0.5) / sd);
  return out;
}

} // namespace ar::quality
