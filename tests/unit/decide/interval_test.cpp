// The block-robust interval (interval.hpp) and the balanced block order (schedule.hpp).

#include "decide/interval.hpp"
#include "decide/schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace ar::decide {
namespace {

TEST(BlockOrder, EveryBlockHasOneABAndOneBA) {
  for (std::uint64_t seed : {0ull, 1ull, 42ull, 0xFFFFFFFFFFFFull}) {
    int ab_first = 0;
    for (int block = 0; block < 200; ++block) {
      const auto first = pair_order(seed, 2 * block + 1);
      const auto second = pair_order(seed, 2 * block + 2);
      EXPECT_NE(first[0], second[0]) << "seed " << seed << ", block " << block;
      EXPECT_NE(first[0], first[1]);
      if (first[0] == 0) ++ab_first;
    }
    // The block order is random: about half of the blocks start with the base.
    EXPECT_GT(ab_first, 70) << seed;
    EXPECT_LT(ab_first, 130) << seed;
  }
}

TEST(BlockOrder, TheSeedReplaysTheOrder) {
  int differ = 0;
  for (int k = 1; k <= 64; ++k) {
    EXPECT_EQ(pair_order(7, k), pair_order(7, k));
    if (pair_order(7, k) != pair_order(8, k)) ++differ;
  }
  EXPECT_GT(differ, 8) << "another seed gives another order";
}

TEST(BlockInterval, AnOrderEffectCancelsInsideBlocks) {
  // A true -2% with the second run of each pair 1% faster: AB pairs read -3%, BA pairs -1%. Per
  // pair the spread is large, per block it is nil.
  std::vector<double> d;
  for (int i = 0; i < 8; ++i) d.push_back(std::log(0.98) + (i % 2 == 0 ? -0.01 : 0.01));
  const BlockEstimate e = block_estimate(d, Prior{});
  EXPECT_NEAR(e.mean, std::log(0.98), 1e-12);
  EXPECT_LT(e.se, 1e-9);
  EXPECT_EQ(e.sample_df, 3);
}

TEST(BlockInterval, CorrelatedBlocksWidenTheIntervalNotNarrowIt) {
  // The same eight pair values, once with each block's pairs alike (noise shared within a
  // block, as correlated runs give) and once alternating: only the first has spread between
  // blocks, and its interval is the wider one.
  const std::vector<double> shared = {0.02, 0.02, -0.02, -0.02, 0.02, 0.02, -0.02, -0.02};
  const std::vector<double> inside = {0.02, -0.02, 0.02, -0.02, 0.02, -0.02, 0.02, -0.02};
  EXPECT_GT(block_estimate(shared, Prior{}).se, 10 * block_estimate(inside, Prior{}).se);
}

TEST(BlockInterval, OneBlockUsesTheCalibratedNoise) {
  const Prior prior{0.02, 7};
  const BlockEstimate e = block_estimate({-0.05, -0.04}, prior);
  EXPECT_TRUE(e.pooled);
  EXPECT_DOUBLE_EQ(e.df, 7);
  EXPECT_NEAR(e.se, 0.02 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(e.mean, -0.045, 1e-12);
  // Without calibration one block has the spread of its two pairs, at one degree of freedom.
  const BlockEstimate alone = block_estimate({-0.05, -0.04}, Prior{});
  EXPECT_DOUBLE_EQ(alone.df, 1);
  EXPECT_NEAR(alone.se, 0.01 / std::sqrt(2.0) / std::sqrt(2.0), 1e-12);
  // One pair has none.
  EXPECT_TRUE(std::isinf(block_estimate({-0.05}, Prior{}).se));
}

TEST(BlockInterval, PoolingAddsDegreesOfFreedom) {
  const Prior prior{0.02, 7};
  const std::vector<double> d = {-0.03, -0.01, -0.02, -0.04, 0.0, -0.02};
  const BlockEstimate alone = block_estimate(d, Prior{});
  const BlockEstimate pooled = block_estimate(d, prior);
  EXPECT_TRUE(pooled.pooled);
  EXPECT_DOUBLE_EQ(pooled.df, 7 + alone.sample_df);
  // The pooled variance lies between the prior's and the sample's.
  const double v = pooled.se * pooled.se * 6;
  EXPECT_LE(v, std::max(0.02 * 0.02, alone.sd_pair * alone.sd_pair) + 1e-15);
  EXPECT_GE(v, std::min(0.02 * 0.02, alone.sd_pair * alone.sd_pair) - 1e-15);
}

TEST(BlockInterval, AStaleCalibrationIsNotPooled) {
  // Calibrated at 0.5% per pair; the experiment's blocks scatter by several percent.
  const Prior prior{0.005, 7};
  const std::vector<double> d = {0.06, 0.05, -0.07, -0.06, 0.08, 0.07, -0.05, -0.06};
  const BlockEstimate e = block_estimate(d, prior);
  EXPECT_TRUE(e.noisier);
  EXPECT_FALSE(e.pooled);
  EXPECT_DOUBLE_EQ(e.df, 3);
  // A hiccup inside a single block is caught by its pairs alone.
  EXPECT_TRUE(block_estimate({-0.01, 0.25}, prior).noisier);
}

TEST(BlockInterval, AHiccupIsClippedAndWidensTheInterval) {
  // Steady -3% (+-0.2%) with one pair 25% slower.
  std::vector<double> d = {-0.030, -0.032, -0.028, -0.031, -0.029, -0.030, -0.031, -0.029};
  const BlockEstimate clean = block_estimate(d, Prior{});
  d[3] = std::log(1.25);
  const BlockEstimate hit = block_estimate(d, Prior{});
  EXPECT_LT(hit.mean, -0.025) << "clipped: a 25% hiccup moves the mean by a fraction of a percent";
  EXPECT_GT(hit.se, clean.se) << "and it is not trimmed away: the interval widens";
}

TEST(BlockInterval, ThePriorFromAnAARun) {
  // Block means -1%, +1%, -1%, +1%: per pair sigma sqrt(2) * sd(block means).
  const std::vector<double> d = {-0.01, -0.01, 0.01, 0.01, -0.01, -0.01, 0.01, 0.01};
  const Prior p = prior_from(d);
  EXPECT_DOUBLE_EQ(p.df, 3);
  EXPECT_NEAR(p.sd_pair, std::sqrt(2.0) * std::sqrt(4 * 0.0001 / 3), 1e-12);
}

}  // namespace
}  // namespace ar::decide
