#pragma once
// The Mann-Whitney U (Wilcoxon rank-sum) test, as a baseline rule for the decision-quality
// benchmark: the test a careful engineer reaches for when comparing two sets of independent runs.
// Pure functions; no I/O.

#include <vector>

namespace ar::quality {

struct MannWhitney {
  double u = 0;          // pairs (x, y) with x < y, ties counted one half
  double p_less = 1;     // one-sided p-value for "x tends to be smaller than y"
  double p_greater = 1;  // one-sided p-value for "x tends to be larger than y"
  bool exact = false;    // exact permutation distribution (no ties) or normal approximation
};

// Tests sample x against sample y. Without ties and with at most 50 values per side the p-values
// are exact (the permutation distribution of U); otherwise they come from the normal
// approximation with the tie-corrected variance and a continuity correction of 1/2.
// Precondition: both samples non-empty.
MannWhitney mann_whitney(const std::vector<double>& x, const std::vector<double>& y);

} // namespace ar::quality
