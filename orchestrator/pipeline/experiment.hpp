#pragma once
// One experiment, end to end: screen -> apply -> build -> gates -> measure -> decide -> commit
// or revert -> journal. The driver reads as those named steps; each lives in pipeline/stages.
//
// On every exit path the worktrees are back at the best commit before the record is written, so a
// recorded experiment never leaves a patched worktree behind. An interrupt ends the experiment as
// `interrupted` (recorded, worktrees restored); the caller then stops the run. A problem that
// stops the loop itself (git error, disk full) restores what it can and is rethrown; the state
// file still names the experiment, so the next run records it as interrupted.

#include "pipeline/stage.hpp"
#include "sources/patch_file.hpp"

namespace ar::pipeline {

// Executor slots (app/slots) run the apply, build and gates stages ahead, in a slot's own
// worktrees, while an earlier experiment is measured. At the experiment's turn, after screening,
// run_experiment asks for them here instead of running them itself.
class Prepared {
 public:
  virtual ~Prepared() = default;
  // Waits until the slot's apply, build and gates ran on the current best commit with the config
  // in force (running them again when they ran on an older best), moves their part of the record
  // (gates, durations, slot) into `record`, and returns the context the rest of the experiment
  // runs in (the slot's worktrees and executor). `end` is set when they ended the experiment.
  // Throws what the stages throw (ar::Error when the best commit does not build).
  virtual Context& wait(Context& ctx, journal::ExperimentRecord& record, StageResult& end) = 0;
  // Screening refused the hypothesis at its turn: stops and discards what was prepared.
  virtual void drop() = 0;
};

// Screening against the session view and rules (sources/screen); the Outcome when refused. Fills
// record.files.
StageResult screen(Context& ctx, const sources::Hypothesis& h, journal::ExperimentRecord& record);

// `prepared`: null runs every stage here, in the session's own worktrees.
journal::ExperimentRecord run_experiment(Context& ctx, const sources::Hypothesis& h, int id,
                                         Prepared* prepared = nullptr);

// The record of an experiment that a killed run left unfinished (recovery).
journal::ExperimentRecord interrupted_record(const journal::RunningExperiment& running);

}  // namespace ar::pipeline
