#include "decide/schedule.hpp"

#include <algorithm>
#include <cmath>

#include <boost/math/distributions/students_t.hpp>

namespace ar::decide {

std::array<int, 2> pair_order(std::uint64_t seed, int k) {
  const auto block = static_cast<std::uint64_t>((k - 1) / k_block_pairs);
  // SplitMix64 of (seed, block): one bit says whether the block starts with AB or BA.
  std::uint64_t z = seed + (block + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const bool ab_first = (z & 1) == 0;
  const bool second_of_block = (k - 1) % k_block_pairs == 1;
  return ab_first != second_of_block ? std::array<int, 2>{0, 1} : std::array<int, 2>{1, 0};
}

bool look_after(const Rule& rule, int k) {
  return is_look(rule, k) || k >= rule.max_pairs;
}

namespace {

double sd(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

}  // namespace

Noise noise(const std::vector<double>& base, const std::vector<double>& candidate) {
  Noise n;
  auto positive = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return x > 0; });
  };
  n.positive = base.size() == candidate.size() && positive(base) && positive(candidate);
  if (!n.positive) return n;
  std::vector<double> logs, d;
  for (size_t i = 0; i < base.size(); ++i) {
    logs.push_back(std::log(base[i]));
    logs.push_back(std::log(candidate[i]));
    d.push_back(std::log(candidate[i] / base[i]));
  }
  n.cv = sd(logs);
  n.sd_pair = sd(d);
  n.prior = prior_from(d);
  n.difference = estimate({base, candidate}, Direction::lower);
  n.p_differ = std::min(1.0, 2 * std::min(n.difference.p_better, n.difference.p_worse));
  return n;
}

double detectable_effect(double sd_pair, const Rule& rule) {
  int n = rule.max_pairs;
  if (n < 2 || !(sd_pair > 0)) return 0;
  boost::math::students_t t(n - 1);
  double a = look_alpha(rule, rule.max_pairs);
  double z = boost::math::quantile(boost::math::complement(t, a)) + boost::math::quantile(t, 0.8);
  return std::exp(z * sd_pair / std::sqrt(static_cast<double>(n))) - 1.0;
}

bool harness_broken(const Noise& primary, const Rule& rule) {
  return primary.p_differ < 0.005 && std::abs(primary.difference.change) >= rule.min_effect;
}

}  // namespace ar::decide
