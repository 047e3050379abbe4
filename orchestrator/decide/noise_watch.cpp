#include "decide/noise_watch.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include <fmt/format.h>

namespace ar::decide {
namespace {

constexpr std::size_t k_window = 8;           // experiments in the rolling estimate
constexpr std::size_t k_min_experiments = 3;  // before that, one noisy experiment is no trend

}  // namespace

double log_sd(const std::vector<double>& samples) {
  if (samples.size() < 3) return 0;
  double mean = 0;
  for (double x : samples) {
    if (!(x > 0)) return 0;
    mean += std::log(x);
  }
  mean /= static_cast<double>(samples.size());
  double ss = 0;
  for (double x : samples) ss += (std::log(x) - mean) * (std::log(x) - mean);
  return std::sqrt(ss / static_cast<double>(samples.size() - 1));
}

void NoiseWatch::calibrated(double cv, double level) {
  m_cv = cv;
  m_level = level;
  m_last_level = level;
  m_recent.clear();
}

void NoiseWatch::add(const std::vector<double>& base_samples) {
  const double cv = log_sd(base_samples);
  if (cv > 0) {
    m_recent.push_back(cv);
    if (m_recent.size() > k_window) m_recent.erase(m_recent.begin());
  }
  std::vector<double> sorted = base_samples;
  if (sorted.empty()) return;
  std::sort(sorted.begin(), sorted.end());
  m_last_level = sorted[sorted.size() / 2];
}

double NoiseWatch::rolling() const {
  if (m_recent.size() < k_min_experiments) return 0;
  std::vector<double> sorted = m_recent;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t mid = sorted.size() / 2;
  return sorted.size() % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

std::optional<std::string> NoiseWatch::recalibration_reason(double level_change, double band) const {
  if (!(m_cv > 0) || !(m_level > 0)) return std::nullopt;
  const double moved = m_last_level / m_level - 1;
  if (level_change > 0 && std::abs(moved) > level_change) {
    return fmt::format("the best commit's level moved {:+.1f}% since the calibration (more than {:g}%)", moved * 100,
                       level_change * 100);
  }
  const double now = rolling();
  if (now > 0 && band > 1 && (now > m_cv * band || now < m_cv / band)) {
    return fmt::format("the rolling noise ({:.2f}% run to run over the last {} experiments) left the calibrated "
                       "band ({:.2f}% x/ {:g})",
                       now * 100, m_recent.size(), m_cv * 100, band);
  }
  return std::nullopt;
}

}  // namespace ar::decide
