#pragma once
// The decision-quality benchmark: simulated benchmark runs fed to the very decide::evaluate the
// loop uses, in the order the loop runs them (AB, BA, AB, ... pairs; a look when
// decide::is_look says so; stop at the first verdict). Shared by the program
// autoresearch_decision_quality and the CI test DecisionQuality.
//
// Everything is deterministic for a given seed, on any platform: the random numbers come from
// our own generator and distributions, not from <random>'s implementation-defined ones. Within
// one cell (noise model x true effect) every rule sees the same simulated runs, so rows differ
// by their rule only.

#include "decide/decision.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ar::quality {

// How one benchmark run's value is produced. A run of side s at run index i (counted from 0 over
// the experiment's runs, both sides) measures
//   100 * level(s) * lognormal(cv) * (1 + drift * i) * slowdown,
// with level 1 for the base and 1 + effect for the candidate, a lognormal factor of mean 1 and the
// given coefficient of variation, and slowdown 1 + U(outlier_min, outlier_max) with probability
// outlier_rate, else 1. The drift's sign alternates between trials (even trials up, odd down).
struct NoiseModel {
  std::string name;
  double cv = 0.01;
  double outlier_rate = 0;
  double outlier_min = 0.05;
  double outlier_max = 0.30;
  double drift = 0;
};

// The noise models of the benchmark table: CV 1% clean, then CV 1%, 3% and 10% each with 5% of
// runs slowed by 5-30% and a drift of 0.2% per run, then a quiet rig (CV 0.3% clean).
std::vector<NoiseModel> standard_noise_models();
// The index in standard_noise_models() of the model the targets are stated for.
constexpr int k_target_noise = 1;

// True effects of the table, as candidate/base - 1 for a lower-is-better metric.
std::vector<double> standard_effects();

enum class RuleKind {
  decide,       // decide::evaluate with `rule`, driven like the loop drives it
  single_run,   // one run per side, keep whichever is lower
  mann_whitney  // `fixed_pairs` AB/BA pairs, keep when a one-sided Mann-Whitney test on the two
                // samples says the candidate is lower at `alpha`
};

struct RuleSpec {
  std::string name;
  RuleKind kind = RuleKind::decide;
  decide::Rule rule;  // for RuleKind::decide
  int fixed_pairs = 9;
  double alpha = 0.05;
};

// The table's rows: ours (the default decide::Rule), sprt, fixed, one run per side, and the
// Mann-Whitney 9 vs 9 test.
std::vector<RuleSpec> standard_rules();

struct Cell {
  int trials = 0;
  int kept = 0;
  int discarded = 0;
  int inconclusive = 0;
  double runs_sum = 0;
  double runs_sum_sq = 0;

  double keep_rate() const;
  double mean_runs() const;
  double runs_standard_error() const;
};

// Simulates `trials` experiments of one rule under one noise model and true effect. The seed of a
// trial derives from (seed, noise_index, effect_index, trial), not from the rule, so rules share
// their runs.
Cell simulate(const NoiseModel& noise, int noise_index, double effect, int effect_index,
              const RuleSpec& rule, int trials, std::uint64_t seed);

// One experiment's outcome and benchmark runs (both sides counted) for a given run sequence.
struct TrialResult {
  decide::Outcome outcome = decide::Outcome::undecided;
  int runs = 0;
};

// Runs of one simulated experiment, drawn on demand and remembered, so every rule reads the same
// value for the same run index.
class RunSequence {
public:
  RunSequence(const NoiseModel& noise, double effect, std::uint64_t trial_seed, bool drift_up);
  // The value measured by run `index` if the candidate (or the base) runs it.
  double value(int index, bool candidate);

private:
  double next_uniform();  // in (0, 1)
  double next_normal();

  NoiseModel m_noise;
  double m_effect;
  bool m_drift_up;
  std::uint64_t m_state;
  std::vector<double> m_factors;  // per run index: lognormal factor times slowdown
};

// One experiment as the loop runs it: pair k (from 1) takes run indices 2k-2 and 2k-1, the base
// first in odd pairs and second in even ones.
TrialResult run_trial(RunSequence& runs, const RuleSpec& rule);

// The targets for ours at CV 1% with outliers and drift.
struct Target {
  enum class Kind { keep_at_most, keep_at_least, runs_at_most };
  std::string what;
  double effect = 0;
  Kind kind = Kind::keep_at_most;
  double bound = 0;
};
std::vector<Target> standard_targets();

struct TargetCheck {
  Target target;
  double observed = 0;
  double allowance = 0;  // three standard errors: binomial at the bound, or of the mean runs
  bool met = false;           // observed meets the bound exactly
  bool within_error = false;  // observed meets the bound widened by the allowance
};
TargetCheck check_target(const Target& target, const Cell& cell);

// The whole table: cells[noise][rule][effect].
struct Table {
  std::vector<NoiseModel> noises;
  std::vector<RuleSpec> rules;
  std::vector<double> effects;
  std::vector<std::vector<std::vector<Cell>>> cells;
};
Table run_table(int trials, std::uint64_t seed);

std::string format_effect(double effect);  // "+5%", "0", "-2%"
// Rows: noise models (and rules); columns: true effects; cells "kept% · mean runs".
std::string markdown_table(const Table& table);
// One rule's outcomes in percent, "keep / discard / inconclusive", per noise model and effect.
std::string markdown_outcomes(const Table& table, std::size_t rule);
std::string text_table(const Table& table);

} // namespace ar::quality
