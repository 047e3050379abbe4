#pragma once
// The interval behind every verdict: a block-robust estimate of the paired log ratio. Pure.
//
// Pairs come in balanced blocks of k_block_pairs consecutive pairs (one AB, one BA; see
// schedule.hpp), so a constant order effect and a linear drift cancel inside a block. The blocks
// are the clusters of a cluster-robust variance: the spread of the block means, not of the pairs,
// so noise correlated within a block (runs close in time) widens the interval instead of
// narrowing it. Because each block's order is random, block means are uncorrelated even when the
// machine's noise is (AR(1), load steps).
//
// One block leaves no spread to measure; a calibrated noise (Prior) fills in. When both exist
// they are pooled (degrees of freedom add up), unless the experiment's own spread is
// significantly larger than the calibrated one (F test at 1%): then the calibration is stale and
// only the experiment's own spread counts.
//
// Hiccups (a run slowed by 5-30%) are clipped, not trimmed: each pair's log ratio is held within
// k_clip_sigmas noise sigmas of the median, the sigma being the calibrated one (or the pairs' own
// robust sigma from 6 pairs on, whichever is larger). Clipping keeps every pair, so the degrees of
// freedom and the interval's width at small n are those of the unclipped test.

#include <limits>
#include <vector>

namespace ar::decide {

inline constexpr int k_block_pairs = 2;

// Robust statistics the keep rule (decision.cpp) and the interval share.
double median_of(std::vector<double> values);
// 1.4826 * the median absolute deviation from `center`: the sigma of a normal sample.
double robust_sigma(const std::vector<double>& values, double center);

// The calibrated noise of one pair's log ratio (order effect removed: from block means), with
// the degrees of freedom of its estimate. sd_pair 0: unknown.
struct Prior {
  double sd_pair = 0;
  double df = 0;
  bool known() const { return sd_pair > 0 && df > 0; }
};

struct BlockEstimate {
  double mean = 0;  // mean of the clipped log ratios; the estimate of ln(candidate / base)
  double se = std::numeric_limits<double>::infinity();  // its standard error; inf: none yet
  double df = 0;                                        // of the t distribution behind se
  double sd_pair = 0;     // the pairs' own per-pair sigma from the block spread (0 before 2 blocks)
  double sample_df = 0;   // blocks - 1
  bool pooled = false;    // the prior was pooled in
  bool noisier = false;   // the experiment was significantly noisier than the prior
  int pairs = 0;
};

// The estimate from log ratios `d` in run order (any count; a trailing partial block is its own
// cluster). Precondition: d not empty.
BlockEstimate block_estimate(const std::vector<double>& d, const Prior& prior);

// The prior an A/A measurement gives: its own per-pair sigma and degrees of freedom.
Prior prior_from(const std::vector<double>& d);

}  // namespace ar::decide
