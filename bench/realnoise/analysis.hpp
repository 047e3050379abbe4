#pragma once
// The statistics of the real-noise decision benchmark (bench/realnoise/run.sh): exact binomial
// bounds for keep rates, t intervals for means (plain and clustered), and what one experiment
// record of results.jsonl says about the order of its runs and the machine's noise. Pure
// functions: nothing here reads files or throws on a malformed record (they yield empty results).
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::realnoise {

// One-sided Clopper-Pearson bounds at `level` (0.95: the 95% bound) of the rate k/n:
// the upper bound (1 when k = n) and the lower bound (0 when k = 0). n must be positive.
double upper_bound(int k, int n, double level = 0.95);
double lower_bound(int k, int n, double level = 0.95);

struct Interval {
  double mean = 0;
  double low = 0;   // two-sided interval at the level asked for
  double high = 0;
  int n = 0;        // observations (all of them, for a clustered mean)
};

// The mean of x with a t interval; needs 2 or more values (else n < 2 and the bounds are NaN).
Interval mean_interval(const std::vector<double>& x, double level = 0.95);

// The mean over every value of every cluster, with a cluster-robust (sandwich) variance and
// G - 1 degrees of freedom for G non-empty clusters: values inside a cluster may be correlated.
Interval clustered_interval(const std::vector<std::vector<double>>& clusters, double level = 0.95);

// The measured pairs of an experiment record in run order, both blocks: the value of the run that
// came first and of the one that came second, and the side that came first (0 base, 1 candidate).
// Built from `runs` (block, pair, side, ...) and `metric.base` / `metric.candidate`; empty when
// they do not match (no runs recorded, a crash).
struct OrderedPair {
  double first = 0;
  double second = 0;
  int first_side = 0;
};
std::vector<OrderedPair> ordered_pairs(const nlohmann::json& record);

// The run-to-run noise seen by an experiment: the standard deviation of ln(candidate / base)
// over its pairs (both blocks) divided by sqrt(2), the coefficient of variation of one run when
// both sides are equally noisy. NaN with fewer than 2 pairs.
double run_noise(const nlohmann::json& record);

}  // namespace ar::realnoise
