#pragma once
// The decision-quality benchmark: simulated benchmark runs fed to the very decide::evaluate and
// decide::evaluate_confirmation the loop uses, in the order the loop runs them (a calibration,
// then balanced blocks of pairs in decide::pair_order, a look when decide::is_look says so; after
// a first-block pass a pause and a confirmation block with a fresh order). Shared by the program
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

// How one benchmark run's value is produced. Runs occupy time slots i = 0, 1, 2, ... (both
// sides; a pair takes slots 2k and 2k+1; the pause before a confirmation block skips
// `gap_slots`). The run in slot i on side s measures
//   100 * level(s) * exp(e_i - sigma^2/2) * (1 + drift * i) * outlier_i * load_i * streak_i(s)
//       * (1 - order_effect if i is the second slot of a pair)
// - level: 1 for the base, 1 + effect for the candidate;
// - e_i: AR(1) noise, e_i = ar1 * e_{i-1} + sqrt(1 - ar1^2) * sigma * z_i, with sigma chosen so
//   each run alone has the coefficient of variation `cv`;
// - outlier_i: 1 + U(outlier_min, outlier_max) with probability outlier_rate, else 1 (a hiccup);
// - drift: its sign alternates between trials (even trials up, odd down);
// - load_i: a load step (another job starting or stopping): with probability step_rate per slot
//   the machine switches between idle (1) and loaded (1 + U(step_min, step_max));
// - streak_i(s): with probability streak_rate per pair a streak starts: for streak_min_pairs to
//   streak_max_pairs pairs, one side (either, at random) runs slower by U(1, 3) * cv, in both
//   orders (interference that follows one worktree's process, as seen on real machines).
struct NoiseModel {
  std::string name;
  double cv = 0.01;
  double outlier_rate = 0;
  double outlier_min = 0.05;
  double outlier_max = 0.30;
  double drift = 0;
  double ar1 = 0;
  double order_effect = 0;
  double step_rate = 0;
  double step_min = 0.05;
  double step_max = 0.20;
  double streak_rate = 0;
  int streak_min_pairs = 2;
  int streak_max_pairs = 6;
  int gap_slots = 30;  // the pause before a confirmation block, in run slots
};

// The noise models of the benchmark table (see standard_noise_models() in simulation.cpp).
std::vector<NoiseModel> standard_noise_models();
// The index in standard_noise_models() of the model the power and runs targets are stated for.
constexpr int k_target_noise = 1;

// True effects of the table, as candidate/base - 1 for a lower-is-better metric.
std::vector<double> standard_effects();

enum class RuleKind {
  decide,       // decide::evaluate (and the confirmation block) with `rule`, driven like the loop
  single_run,   // one run per side, keep whichever is lower
  mann_whitney  // `fixed_pairs` pairs, keep when a one-sided Mann-Whitney test on the two
                // samples says the candidate is lower at `alpha`
};

struct RuleSpec {
  std::string name;
  RuleKind kind = RuleKind::decide;
  decide::Rule rule;  // for RuleKind::decide
  int calibration_pairs = 32;  // A/A pairs measured before the experiment; 0: no prior
  int fixed_pairs = 9;
  double alpha = 0.05;
};

// The table's rows: ours (the default decide::Rule with a 32-pair calibration), ours without the
// confirmation block, sprt and fixed (first block only), one run per side, and Mann-Whitney 9 vs 9.
std::vector<RuleSpec> standard_rules();

struct Cell {
  int trials = 0;
  int kept = 0;
  int discarded = 0;
  int inconclusive = 0;
  int with_interval = 0;  // trials whose verdict carries a 95% interval
  int covered = 0;        // ... that covers the true effect
  int kept_covered = 0;   // kept trials whose interval covers the true effect
  double runs_sum = 0;
  double runs_sum_sq = 0;

  double keep_rate() const;
  double mean_runs() const;
  double runs_standard_error() const;
  double coverage() const;  // covered / with_interval; 1 when no interval
};

// Simulates `trials` experiments of one rule under one noise model and true effect. The seed of a
// trial derives from (seed, noise_index, effect_index, trial), not from the rule, so rules share
// their runs.
Cell simulate(const NoiseModel& noise, int noise_index, double effect, int effect_index,
              const RuleSpec& rule, int trials, std::uint64_t seed);

// One experiment's outcome, benchmark runs (both sides, both blocks) and reported interval.
struct TrialResult {
  decide::Outcome outcome = decide::Outcome::undecided;
  int runs = 0;
  bool has_interval = false;
  double ci_low = 0;
  double ci_high = 0;
};

// Runs of one simulated session stretch, drawn on demand and remembered slot by slot, so every
// rule reads the same value for the same slot.
class RunSequence {
public:
  RunSequence(const NoiseModel& noise, double effect, std::uint64_t trial_seed, bool drift_up);
  // The value measured in time slot `slot` if the candidate (or the base) runs it.
  double value(int slot, bool candidate);
  int gap_slots() const { return m_noise.gap_slots; }

private:
  struct Slot {
    double factor = 1;     // lognormal noise, outlier and load
    int streak_side = -1;  // the side a streak slows in this slot's pair, -1: none
    double streak = 1;
  };
  double next_uniform();  // in (0, 1)
  double next_normal();
  void extend();

  NoiseModel m_noise;
  double m_effect;
  bool m_drift_up;
  std::uint64_t m_state;
  std::vector<Slot> m_slots;
  double m_e = 0;          // AR(1) state
  double m_load = 1;       // current load level
  int m_streak_left = 0;   // pairs left in the current streak
  int m_streak_side = -1;
  double m_streak = 1;
};

// One experiment as the loop runs it: the calibration on its own stretch of runs (`calibration`),
// then the first block in balanced random order, and after a pass the pause and the
// confirmation block.
TrialResult run_trial(RunSequence& runs, RunSequence& calibration, const RuleSpec& rule,
                      std::uint64_t order_seed, double effect);

// The targets.
struct Target {
  enum class Kind { keep_at_most, keep_at_least, runs_at_most, coverage_at_least };
  std::string what;
  double effect = 0;
  Kind kind = Kind::keep_at_most;
  double bound = 0;
  bool every_noise = false;  // checked in every noise model, not only k_target_noise
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
// `rules` > 0: only the first `rules` rows of standard_rules() (ours first).
Table run_table(int trials, std::uint64_t seed, std::size_t rules = 0);

std::string format_effect(double effect);  // "+5%", "0", "-2%"
// Rows: noise models (and rules); columns: true effects; cells "kept% · mean runs · coverage%".
std::string markdown_table(const Table& table);
// One rule's outcomes in percent, "keep / discard / inconclusive", per noise model and effect.
std::string markdown_outcomes(const Table& table, std::size_t rule);
std::string text_table(const Table& table);

} // namespace ar::quality
