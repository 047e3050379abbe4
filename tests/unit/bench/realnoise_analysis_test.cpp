// The statistics of the real-noise decision benchmark (bench/realnoise/analysis.hpp).

#include "analysis.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::realnoise {
namespace {

// P(X <= k) for X ~ Binomial(n, p), summed directly.
double binomial_cdf(int k, int n, double p) {
  double sum = 0;
  for (int i = 0; i <= k; ++i) {
    sum += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) + i * std::log(p) +
                    (n - i) * std::log1p(-p));
  }
  return sum;
}

TEST(RealNoiseBounds, ClopperPearsonAtTheEdges) {
  // No event in n trials: the upper bound solves (1 - p)^n = 0.05.
  EXPECT_NEAR(upper_bound(0, 300), 1 - std::pow(0.05, 1.0 / 300), 1e-12);
  EXPECT_NEAR(lower_bound(50, 50), std::pow(0.05, 1.0 / 50), 1e-12);
  EXPECT_EQ(upper_bound(7, 7), 1.0);
  EXPECT_EQ(lower_bound(0, 7), 0.0);
}

TEST(RealNoiseBounds, ClopperPearsonInsideSolvesTheBinomialTail) {
  for (int n : {10, 60, 346}) {
    for (int k : {1, 3, n / 2, n - 1}) {
      const double up = upper_bound(k, n);
      const double lo = lower_bound(k, n);
      // At the upper bound, k or fewer events have probability 5%; at the lower bound, k or more.
      EXPECT_NEAR(binomial_cdf(k, n, up), 0.05, 1e-9) << k << "/" << n;
      EXPECT_NEAR(1 - binomial_cdf(k - 1, n, lo), 0.05, 1e-9) << k << "/" << n;
      EXPECT_LT(lo, static_cast<double>(k) / n);
      EXPECT_GT(up, static_cast<double>(k) / n);
      EXPECT_NEAR(up, 1 - lower_bound(n - k, n), 1e-12);
    }
  }
}

TEST(RealNoiseIntervals, MeanIntervalIsTheTInterval) {
  const Interval i = mean_interval({1, 2, 3, 4});
  // mean 2.5, sd sqrt(5/3), se sd/2, t(3, 0.975) = 3.182446.
  EXPECT_DOUBLE_EQ(i.mean, 2.5);
  EXPECT_NEAR(i.high - i.mean, 3.182446305 * std::sqrt(5.0 / 3) / 2, 1e-6);
  EXPECT_EQ(i.n, 4);
  EXPECT_TRUE(std::isnan(mean_interval({1}).low));
}

TEST(RealNoiseIntervals, ClusteredIntervalWidensForCorrelatedClusters) {
  // Clusters of one value each: the sandwich is the plain variance, with the same n - 1 df.
  const Interval single = clustered_interval({{1}, {2}, {3}, {4}});
  const Interval plain = mean_interval({1, 2, 3, 4});
  EXPECT_NEAR(single.low, plain.low, 1e-12);
  EXPECT_NEAR(single.high, plain.high, 1e-12);
  // The same eight values, each cluster a repeated value: as wide as four values, not eight.
  const Interval repeated = clustered_interval({{1, 1}, {2, 2}, {3, 3}, {4, 4}});
  const Interval naive = mean_interval({1, 1, 2, 2, 3, 3, 4, 4});
  EXPECT_EQ(repeated.n, 8);
  EXPECT_NEAR(repeated.high - repeated.mean, plain.high - plain.mean, 1e-12);
  EXPECT_GT(repeated.high - repeated.low, 1.5 * (naive.high - naive.low));
  EXPECT_TRUE(std::isnan(clustered_interval({{1, 2, 3}, {}}).low));
}

nlohmann::json record(const nlohmann::json& runs, const nlohmann::json& base, const nlohmann::json& cand) {
  return {{"type", "experiment"}, {"runs", runs}, {"metric", {{"base", base}, {"candidate", cand}}}};
}

TEST(RealNoiseRecords, OrderedPairsFollowTheRuns) {
  // Pair 1 ran base first, pair 2 candidate first, then a confirmation pair base first.
  const auto r = record({{1, 1, 0, 0, 0.2, 0.2, 1},
                         {1, 1, 1, 0, 0.2, 0.2, 1},
                         {1, 2, 1, 0, 0.2, 0.2, 0},
                         {1, 2, 0, 0, 0.2, 0.2, 1},
                         {2, 1, 0, 0, 0.2, 0.2, 1},
                         {2, 1, 1, 0, 0.2, 0.2, 0}},
                        {10.0, 11.0, 12.0}, {20.0, 21.0, 22.0});
  const auto p = ordered_pairs(r);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].first, 10.0);
  EXPECT_EQ(p[0].second, 20.0);
  EXPECT_EQ(p[0].first_side, 0);
  EXPECT_EQ(p[1].first, 21.0);
  EXPECT_EQ(p[1].second, 11.0);
  EXPECT_EQ(p[1].first_side, 1);
  EXPECT_EQ(p[2].first, 12.0);
}

TEST(RealNoiseRecords, MismatchedRecordsGiveNoPairs) {
  // One run short, two runs of the same side in a pair, runs of different pairs, no runs at all.
  EXPECT_TRUE(ordered_pairs(record({{1, 1, 0, 0, 0.2, 0.2, 1}}, {1.0}, {1.0})).empty());
  EXPECT_TRUE(ordered_pairs(record({{1, 1, 0, 0, 0.2, 0.2, 1}, {1, 1, 0, 0, 0.2, 0.2, 1}}, {1.0}, {1.0})).empty());
  EXPECT_TRUE(ordered_pairs(record({{1, 1, 0, 0, 0.2, 0.2, 1}, {1, 2, 1, 0, 0.2, 0.2, 1}}, {1.0}, {1.0})).empty());
  EXPECT_TRUE(ordered_pairs(nlohmann::json{{"type", "experiment"}, {"status", "crash"}}).empty());
}

TEST(RealNoiseRecords, RunNoiseIsThePairSpreadOverRootTwo) {
  const double a = std::log(1.02), b = std::log(0.98);
  const auto r = record(nlohmann::json::array(), {1.0, 1.0}, {1.02, 0.98});
  // Two log ratios a and b: sd |a - b| / sqrt(2), over sqrt(2) again.
  EXPECT_NEAR(run_noise(r), std::abs(a - b) / 2, 1e-12);
  EXPECT_TRUE(std::isnan(run_noise(record(nlohmann::json::array(), {1.0}, {1.0}))));
  EXPECT_TRUE(std::isnan(run_noise(record(nlohmann::json::array(), {1.0, 0.0}, {1.0, 1.0}))));
}

}  // namespace
}  // namespace ar::realnoise
