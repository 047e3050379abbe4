#pragma once
// A finished (or interrupted) experiment as a typed value: what moves through the loop. It becomes
// JSON in exactly one place, to_json() here, when the journal line is written (and for --json);
// from_json() reads one back (recovery, show). The field names are the journal's (DESIGN §9).
//
// RunningExperiment is the part known before the experiment starts: the state file carries it,
// so a run killed mid-experiment can be recorded as `interrupted` by the next one.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::journal {

// DESIGN §8. `rejected` covers protected paths, scope, duplicates and tampering.
enum class Status { keep, discard, inconclusive, checks_failed, crash, timeout, apply_failed, rejected, interrupted };

const char* to_string(Status status);
std::optional<Status> status_from_string(const std::string& text);
// crash, timeout, checks_failed and apply_failed: the experiment failed rather than measured.
bool is_failure(Status status);

struct RunningExperiment {
  int id = 0;
  std::string session;
  std::string started_at;
  std::string source_kind = "queue";  // queue | sweep | proposer
  std::string source_file;            // "experiments/03-fnv.patch", "sweep:buckets", "proposer"
  std::string title, hypothesis, mechanism, idea;
  std::string patch_sha256;
  std::string key;  // the hypothesis' identity: sweep key, else patch_sha256
  std::string base_commit;
  std::string stage = "screen";  // where it was last seen (state file only)
};

struct GateRun {
  std::string name;
  int exit = -1;
  double seconds = 0;
  std::string result;               // "exit 0", "timed out after 10s", ...
  std::optional<std::string> tail;  // the output's end, for failures
};

struct MetricEffect {  // a paired comparison of one metric (primary, guard, confirm)
  double effect = 0, ci_low = 0, ci_high = 0, improvement = 0, p = 1, p_worse = 1;
};

struct PrimaryMetric {
  std::string name, unit, direction;
  std::vector<double> base, candidate;  // per-run medians, one per pair
  double base_median = 0, candidate_median = 0;
  MetricEffect effect;
};

struct OtherMetric {  // a METRIC that is not compared
  double base = 0, candidate = 0;
  std::vector<double> base_samples, candidate_samples;
  std::optional<double> change;
};

struct GuardResult {
  std::string direction;
  double tolerance = 0;
  MetricEffect effect;
};

struct DecisionInfo {
  std::string method, outcome, reason;
  double look_alpha = 0, min_effect = 0, alpha = 0;
  int max_pairs = 0;
  std::vector<int> looks;
};

struct RunInfo {  // one benchmark run of a measured pair
  std::string block;        // "first" or "confirmation"
  int pair = 0;             // within its block, from 1
  int side = 0;             // 0 base, 1 candidate
  int exit = -1;
  double wall = 0;          // seconds
  double cpu_seconds = -1;  // user + system of the run and what it waited for; -1: unknown
  int cpu = -1;             // the CPU its process last ran on; -1: unknown
  std::string node;         // the Slurm node that ran it; empty: this machine
  std::string job;          // the Slurm job that ran it; empty: none
};

struct JobInfo {  // a Slurm job that ran benchmark runs of an experiment
  std::string id;
  std::string node;
};

struct BlockInfo {  // one block of pairs: the first, and the confirmation block after a pass
  std::string name;
  int pairs = 0;
  std::uint64_t seed = 0;  // of its AB/BA order (decide::pair_order)
  MetricEffect effect;     // the primary metric on this block alone
};

struct Measurement {  // present once the pairs ran to a decision
  int pairs = 0;        // both blocks
  std::vector<BlockInfo> blocks;
  std::vector<RunInfo> runs;  // every run of the pairs, in run order
  std::string node;           // the Slurm node that measured it (its first job's); empty: this machine
  std::string cpus;              // where both sides ran ("1-3"); empty: not pinned
  std::string orchestrator_cpus;  // where the loop waited meanwhile; empty: not moved
  double prior_sd_pair = 0, prior_df = 0;  // the calibrated noise the decision used (0: none)
  double seconds = 0;
  PrimaryMetric primary;
  std::map<std::string, OtherMetric> others;
  std::map<std::string, GuardResult> guards;
  std::map<std::string, MetricEffect> confirms;
  DecisionInfo decision;
};

struct SlotInfo {  // executor slots > 1: where the candidate was prepared and measured
  int slot = 0;                          // from 1
  std::vector<std::string> prepared_on;  // the best commits its apply, build and gates ran on, in order
};

struct ExperimentRecord {
  RunningExperiment run;
  std::string finished_at;
  std::string diff_sha256;
  std::vector<std::string> files;
  std::string patch_file;  // empty until the patch was saved
  std::string commit;      // when kept
  // When the patch no longer applied to the best commit: the commit it was applied to instead and
  // merged from three-way (base-commit trailer, index lines, or the session's start).
  std::string merged_from;
  Status status = Status::interrupted;
  std::string reason;
  std::vector<GateRun> gates;
  std::optional<Measurement> measurement;
  std::vector<std::string> warnings;  // rejected METRIC lines (at most 20)
  std::optional<std::string> benchmark_tail;
  std::map<std::string, double> durations;        // build, gates, measure, total (seconds)
  // The Slurm jobs of its benchmark runs, in order (failed and retried ones too); empty locally.
  std::vector<JobInfo> jobs;
  std::optional<SlotInfo> slot;                   // executor slots > 1 only
  nlohmann::json asi = nlohmann::json::object();  // free-form, from the source
};

// One kept experiment re-tried at the session's final best by `autoresearch ablate` (a journal
// line of type "ablation"): the best with the keep reverted is the base, the best the candidate,
// under the loop's own rule, so the effect is the keep's effect now, signed as when it was kept.
struct AblationRecord {
  std::string session, at;
  int experiment = 0;        // the keep's id
  std::string title;
  std::string commit;        // the kept commit
  std::string best_commit;   // the final best it was measured against
  std::string revert_commit; // the best with the keep reverted (not on any branch); empty when entangled
  // still_helps | no_longer_helps | entangled | not_measured (build, a gate or the benchmark
  // failed without it); see README "autoresearch ablate".
  std::string verdict;
  std::string reason;
  MetricEffect at_keep;      // its effect when it was kept
  std::vector<GateRun> gates;
  std::optional<Measurement> measurement;
};

nlohmann::json to_json(const RunningExperiment& running);  // the state file's "experiment"
nlohmann::json to_json(const AblationRecord& record);      // one journal line
RunningExperiment running_from_json(const nlohmann::json& j);
nlohmann::json to_json(const ExperimentRecord& record);  // one journal line
// The one-line effect "-12.3% (95% CI -14.0% to -10.5%)".
std::string effect_text(const MetricEffect& e);

}  // namespace ar::journal

namespace ar::journal {
// effect_text() of a journal record's "metric" object (readers of the file: status, report).
std::string effect_text(const nlohmann::json& metric);
}  // namespace ar::journal
