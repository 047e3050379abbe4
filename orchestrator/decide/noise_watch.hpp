#pragma once
// Noise tracked, not assumed: a rolling estimate of the primary metric's run-to-run noise from
// the base side of every experiment, checked against the last calibration. Pure.

#include <optional>
#include <string>
#include <vector>

namespace ar::decide {

// Run-to-run noise of one side's samples: the standard deviation of their logarithms (about the
// CV); 0 with fewer than 3 samples or any sample not positive.
double log_sd(const std::vector<double>& samples);

class NoiseWatch {
 public:
  // From a calibration: its run-to-run noise and the base side's median level.
  void calibrated(double cv, double level);
  // The samples of the best commit in one experiment: its base side, or after a keep its
  // candidate side (the new best).
  void add(const std::vector<double>& base_samples);

  // The median noise of the last experiments (at most k_window); 0 before k_min_experiments.
  double rolling() const;

  // Why the noise should be measured again, or nullopt: the best's level moved by more than
  // `level_change` (a fraction) from the calibration's, or the rolling noise left the band
  // [calibrated / band, calibrated * band].
  std::optional<std::string> recalibration_reason(double level_change, double band) const;

 private:
  double m_cv = 0;
  double m_level = 0;
  double m_last_level = 0;
  std::vector<double> m_recent;
};

}  // namespace ar::decide
