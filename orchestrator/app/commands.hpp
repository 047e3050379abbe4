#pragma once
// The commands over an open session (internal to app/): the loop, and the measurements outside it.

#include "app/app.hpp"
#include "app/observers.hpp"
#include "pipeline/stage.hpp"

namespace ar::app {

// Makes an executor slot's executor (app/slots): its commands run in `sandbox` and stop when
// `cancel` turns true.
using SlotExecutorFactory =
    std::function<std::unique_ptr<exec::Executor>(const exec::Sandbox* sandbox, const std::atomic<bool>* cancel)>;

// `slot_executors`: with executor.slots > 1, the next candidates are prepared in slots (app/slots).
Summary run_loop(pipeline::Context& ctx, bool once, const SlotExecutorFactory& slot_executors = {});
Summary dry_run(pipeline::Context& ctx);
Summary calibrate_command(pipeline::Context& ctx);
Summary verify_command(pipeline::Context& ctx, int pairs);
Summary finalize_command(pipeline::Context& ctx, bool dry_run);
Summary ablate_command(pipeline::Context& ctx, const Options& options);

// Builds side 0 (the base worktree) at its current commit and runs the gates there, through the
// loop's commands; "" when all passed, else what failed ("gate check failed (exit 5)"). Throws
// ar::Interrupted when stopped. finalize and ablate check a commit that is not the best with it.
std::string build_and_gate(pipeline::Context& ctx, const std::string& label);

// The A/A run (see decide/schedule.hpp): records a calibration line; with `refuse_broken`, throws
// ar::Error when the harness tells two copies of one commit apart. Returns whether it is broken.
// `reason`: why it runs again mid-session (recorded), empty at a session's start.
bool calibrate(pipeline::Context& ctx, bool refuse_broken, const std::string& reason = "");

}  // namespace ar::app
