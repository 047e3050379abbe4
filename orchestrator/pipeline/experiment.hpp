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

journal::ExperimentRecord run_experiment(Context& ctx, const sources::Hypothesis& h, int id);

// The record of an experiment that a killed run left unfinished (recovery).
journal::ExperimentRecord interrupted_record(const journal::RunningExperiment& running);

}  // namespace ar::pipeline
