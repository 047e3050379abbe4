#pragma once
// The stages of one experiment, in order: apply -> build -> gates -> measure -> decide ->
// commit (keep) or revert. Each fills its part of the record and returns std::nullopt to go on,
// or the Outcome that ends the experiment. The experiment driver (pipeline/experiment) calls them
// in order and owns the restore on every exit path.

#include "decide/decision.hpp"
#include "pipeline/stage.hpp"
#include "sources/patch_file.hpp"

namespace ar::pipeline {

// Builds side `side` (0 base, 1 candidate) with the config's build command; the one home of the
// build call. No build command: succeeds without running anything.
exec::CommandResult build_side(Context& ctx, int side, int experiment, const std::string& label);

// The base worktree built at the best commit (outside any experiment); throws ar::Error when that
// build fails (the loop cannot measure anything), ar::Interrupted when stopped.
void ensure_base_built(Context& ctx);

// Saves the diff under .autoresearch/patches before it is screened (whatever becomes of it, every
// diff that was read stays retrievable: `autoresearch show N --diff`); sets record.patch_file.
void save_patch(Context& ctx, const sources::Hypothesis& h, journal::ExperimentRecord& record);

// Applies the diff to the candidate's working tree (not its index). A diff that no longer applies
// to the best commit is applied to the commit it was written against (its base-commit trailer,
// the blobs of its index lines, or the session's start) and merged three-way onto the best
// (record.merged_from says from where); apply_failed only on a real conflict, naming the files.
StageResult apply(Context& ctx, const sources::Hypothesis& h, journal::ExperimentRecord& record);

// Both on the candidate (side 1) in an experiment; ablate builds and gates the base side (0),
// which it moved to the best with a keep reverted.
StageResult build(Context& ctx, journal::ExperimentRecord& record, int side = 1);

// The gates that run before the benchmark, in order, cheapest first as configured; each is checked
// for tampering afterwards. On the candidate (side 1) in an experiment; ablate gates the base (0).
StageResult gates(Context& ctx, journal::ExperimentRecord& record, int side = 1);

// Whether any gate has `after: benchmark`.
bool has_gates_after_benchmark(const config::Config& cfg);
// The gates with `after: benchmark`, in order, in the candidate worktree as the benchmark run
// before them left it (measure calls it through Bench, after the candidate's first run).
StageResult gates_after_benchmark(Context& ctx, journal::ExperimentRecord& record);

// Paired runs until the rule decides (DESIGN §7): the warm-up, then the gates with `after:
// benchmark` (after the candidate's first run), then the first block; after a pass, a pause and the
// confirmation block with a fresh order. Fills record.measurement (both blocks, their seeds) and
// `verdict` (the confirmation block's when one ran).
StageResult measure(Context& ctx, journal::ExperimentRecord& record, decide::Verdict& verdict);
// The same under `rule` instead of the config's (ablate's --max-pairs).
StageResult measure(Context& ctx, journal::ExperimentRecord& record, decide::Verdict& verdict, const decide::Rule& rule);

// The calibrated noise of the primary metric from the session's last calibration; unknown
// (sd_pair 0) when there is none.
decide::Prior calibrated_prior(const session::Session& session);

// The status a verdict gives.
Outcome decide_outcome(const decide::Verdict& verdict);

// Commits the kept change on the session branch (title, hypothesis, mechanism, effect with CI,
// Experiment: and Result: trailers); the new commit is the best.
void commit(Context& ctx, const sources::Hypothesis& h, journal::ExperimentRecord& record);

}  // namespace ar::pipeline
