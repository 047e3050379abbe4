#pragma once
// The measurement's schedule and the A/A statistics, as pure functions (no processes, no I/O).

#include "decide/decision.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ar::decide {

// The order of the two sides in pair k (1-based), 0 the base and 1 the candidate. Pairs come in
// balanced blocks of k_block_pairs: one AB and one BA, in an order drawn from `seed` and the
// block's number, so neither side runs second more often (warm caches, the CPU the second run
// lands on) and the order carries no pattern a periodic disturbance could line up with. The
// same seed gives the same orders on any platform (SplitMix64).
std::array<int, 2> pair_order(std::uint64_t seed, int k);

// True when the rule looks at the data after pair k of at most `max_pairs`.
bool look_after(const Rule& rule, int k);

// Noise of one metric in an A/A run (both sides the same commit).
struct Noise {
  bool positive = false;  // all samples > 0: the log-scale statistics below are defined
  double cv = 0;          // run-to-run standard deviation on the log scale (about the CV)
  double sd_pair = 0;     // standard deviation of the per-pair log ratio
  Prior prior;            // the block-robust per-pair sigma (order effect removed) for the rule
  Effect difference;      // the A/A difference with its CI
  double p_differ = 1;    // two-sided p-value of any difference
};
Noise noise(const std::vector<double>& base, const std::vector<double>& candidate);

// Smallest change (as a fraction) the rule can keep with 80% power at its last look, for paired
// log ratios with standard deviation `sd_pair`: (t_{1-a} + t_{0.8}) * sd / sqrt(n).
double detectable_effect(double sd_pair, const Rule& rule);

// Two copies of one commit must not differ. The bar is stricter than a keep (p < 0.005 two-sided,
// by at least min_effect) so that an honest but noisy harness is refused about once in 200
// sessions, while a real bias (a metric that depends on the worktree path) is far past it.
bool harness_broken(const Noise& primary, const Rule& rule);

}  // namespace ar::decide
