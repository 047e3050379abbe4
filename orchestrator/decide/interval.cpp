#include "decide/interval.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include <boost/math/distributions/fisher_f.hpp>

namespace ar::decide {
namespace {

constexpr double k_mad_to_sigma = 1.4826;  // MAD of a normal sample -> its standard deviation
// Pairs beyond this many sigmas of the median are held at it. 4 leaves an order effect of
// 2 sigmas (the second run of a pair 1% faster at 0.3% noise) untouched and still stops a 5-30%
// hiccup at 1% noise from swamping the pairs around it.
constexpr double k_clip_sigmas = 2.0;
constexpr std::size_t k_min_robust_pairs = 6;  // fewer pairs give no usable MAD
constexpr double k_stale_level = 0.99;         // F test: the experiment noisier than calibrated

// True when `variance` with `df` degrees of freedom is significantly larger than the prior's.
bool noisier_than(double variance, double df, const Prior& prior) {
  if (df <= 0) return false;
  const boost::math::fisher_f f(df, prior.df);
  return variance / (prior.sd_pair * prior.sd_pair) > boost::math::quantile(f, k_stale_level);
}

}  // namespace

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  if (values.size() % 2 == 1) return values[mid];
  return (values[mid - 1] + values[mid]) / 2.0;
}

double robust_sigma(const std::vector<double>& values, double center) {
  std::vector<double> dev;
  dev.reserve(values.size());
  for (double x : values) dev.push_back(std::abs(x - center));
  return k_mad_to_sigma * median_of(std::move(dev));
}

BlockEstimate block_estimate(const std::vector<double>& d, const Prior& prior) {
  BlockEstimate out;
  const std::size_t n = d.size();
  out.pairs = static_cast<int>(n);
  if (n == 0) return out;

  const double center = median_of(d);
  double sigma = prior.known() ? prior.sd_pair : 0;
  if (n >= k_min_robust_pairs) sigma = std::max(sigma, robust_sigma(d, center));
  std::vector<double> x = d;
  std::size_t clipped = 0;
  if (sigma > 0) {
    for (double& v : x) {
      const double held = std::clamp(v, center - k_clip_sigmas * sigma, center + k_clip_sigmas * sigma);
      if (held != v) ++clipped;
      v = held;
    }
  }
  // Huber's sandwich: a clipped pair moves the estimate less than its clipped value suggests only
  // if the centre stays put, which it does not; the standard error of a clipped mean is that of
  // the clipped values divided by the share of pairs left unclipped.
  const double sandwich = static_cast<double>(n) / static_cast<double>(n - clipped);

  double sum = 0;
  for (double v : x) sum += v;
  const double nd = static_cast<double>(n);
  out.mean = sum / nd;

  // Cluster-robust (CR1) variance of the mean with blocks as clusters; for equal blocks it is
  // the variance of the block means over the number of blocks.
  const std::size_t blocks = (n + k_block_pairs - 1) / k_block_pairs;
  double sample_var = 0;  // per-pair equivalent: n * Var(mean)
  if (blocks >= 2) {
    double ss = 0;
    for (std::size_t b = 0; b < blocks; ++b) {
      double s = 0;
      for (std::size_t i = b * k_block_pairs; i < std::min(n, (b + 1) * k_block_pairs); ++i) s += x[i] - out.mean;
      ss += s * s;
    }
    const double jd = static_cast<double>(blocks);
    sample_var = jd / (jd - 1) * ss / nd;
    out.sample_df = jd - 1;
    out.sd_pair = std::sqrt(sample_var);
  }

  if (prior.known()) {
    // One block has no block spread, but its pairs still show whether the machine is far noisier
    // than calibrated (a hiccup on one side, a load step): then nothing is pooled and the
    // experiment waits for its own blocks.
    if (blocks >= 2) {
      out.noisier = noisier_than(sample_var, out.sample_df, prior);
    } else if (n == 2) {
      // Unclipped: the median of two is their mean, so clipping cannot tame a hiccup here.
      const double diff = d[1] - d[0];
      out.noisier = noisier_than(diff * diff / 2, 1, prior);
    }
    if (!out.noisier) {
      const double var = (prior.df * prior.sd_pair * prior.sd_pair + out.sample_df * sample_var) /
                         (prior.df + out.sample_df);
      out.se = sandwich * std::sqrt(var / nd);
      out.df = prior.df + out.sample_df;
      out.pooled = true;
      return out;
    }
  }
  if (blocks >= 2) {
    out.se = sandwich * std::sqrt(sample_var / nd);
    out.df = out.sample_df;
  } else if (n == 2 && !out.noisier) {
    // One block and nothing calibrated (a guard, or a session without calibration): the spread
    // of its two pairs, order effect included, at one degree of freedom. Wide, but finite, so
    // every recorded effect has an interval.
    const double diff = x[1] - x[0];
    out.se = sandwich * std::sqrt(diff * diff / 2 / nd);
    out.df = 1;
  }
  return out;
}

Prior prior_from(const std::vector<double>& d) {
  const BlockEstimate e = block_estimate(d, Prior{});
  return Prior{e.sd_pair, e.sample_df};
}

}  // namespace ar::decide
