// The rolling noise estimate and when it asks for a new calibration (decide/noise_watch.hpp).

#include "decide/noise_watch.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ar::decide {
namespace {

// Samples around `level` with a log spread of about `cv`.
std::vector<double> around(double level, double cv) {
  return {level * std::exp(-cv), level, level * std::exp(cv), level * std::exp(-cv), level * std::exp(cv)};
}

TEST(NoiseWatch, QuietWhileTheNoiseStaysInItsBand) {
  NoiseWatch w;
  w.calibrated(log_sd(around(100, 0.01)), 100);
  for (int i = 0; i < 10; ++i) w.add(around(100, 0.012));
  EXPECT_GT(w.rolling(), 0);
  EXPECT_FALSE(w.recalibration_reason(0.2, 2).has_value());
}

TEST(NoiseWatch, NoiseThatDoublesAsksForACalibration) {
  NoiseWatch w;
  w.calibrated(log_sd(around(100, 0.01)), 100);
  w.add(around(100, 0.05));
  w.add(around(100, 0.05));
  EXPECT_FALSE(w.recalibration_reason(0.2, 2).has_value()) << "two experiments are no trend";
  w.add(around(100, 0.05));
  const auto why = w.recalibration_reason(0.2, 2);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("left the calibrated band"), std::string::npos) << *why;
}

TEST(NoiseWatch, ABestTenTimesFasterAsksForACalibration) {
  NoiseWatch w;
  w.calibrated(0.01, 100);
  w.add(around(10, 0.01));
  const auto why = w.recalibration_reason(0.2, 2);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("moved -90.0%"), std::string::npos) << *why;
  // Nothing calibrated: nothing to compare with.
  NoiseWatch none;
  none.add(around(10, 0.01));
  EXPECT_FALSE(none.recalibration_reason(0.2, 2).has_value());
}

TEST(NoiseWatch, LogSd) {
  EXPECT_EQ(log_sd({1, 2}), 0);
  EXPECT_EQ(log_sd({1, 2, -1}), 0);
  EXPECT_NEAR(log_sd({std::exp(-0.1), 1, std::exp(0.1)}), 0.1, 1e-12);
}

}  // namespace
}  // namespace ar::decide
