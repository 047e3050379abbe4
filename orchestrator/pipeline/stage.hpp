#pragma once
// What every stage of an experiment shares: the typed outcome a stage ends with, and the context
// it runs in (the session, the executor seam and the test's fault plan).
//
// A stage returns std::nullopt to let the experiment go on, or an Outcome that ends it with a
// status and a one-line reason. Stages throw only for problems that stop the loop itself (git
// errors, a full disk): the experiment then restores the worktrees and rethrows.

#include "exec/executor.hpp"
#include "journal/record.hpp"
#include "session/session.hpp"
#include "util/affinity.hpp"
#include "util/fault.hpp"

#include <functional>
#include <optional>
#include <string>

namespace ar::pipeline {

struct Outcome {
  journal::Status status;
  std::string reason;
};

using StageResult = std::optional<Outcome>;

struct Context {
  session::Session& session;
  exec::Executor& executor;
  util::FaultPlan& faults;
  util::Pinning pinning;  // where benchmark runs and the waiting loop go (benchmark.cpus)
  // Executor slots (app/slots): the slot's own worktrees, sandbox and config snapshot, and where
  // its stages go. A slot's context is used by one thread at a time; with `on_stage` set, stage()
  // touches neither the state file nor the console (those stay the run loop's thread's).
  session::Workspace* slot_workspace = nullptr;
  const exec::Sandbox* slot_sandbox = nullptr;
  const config::Config* slot_config = nullptr;
  std::function<void(int id, const std::string& title, const std::string& stage)> on_stage{};
  // Called with true when the pairs of a measurement start and false when they are done.
  std::function<void(bool)> measuring{};

  const config::Config& cfg() const { return slot_config != nullptr ? *slot_config : session.config(); }
  session::Workspace& workspace() { return slot_workspace != nullptr ? *slot_workspace : session.workspace(); }
  const exec::Sandbox& sandbox() const { return slot_sandbox != nullptr ? *slot_sandbox : session.sandbox(); }
  // Shows and records the stage of experiment `id` (0: work outside an experiment).
  void stage(int id, const std::string& title, const std::string& stage);
};

// How a command that ran in stage `what` ends the experiment when it failed: interrupted, timeout,
// or `failed_status` with "<what> failed: <how>". std::nullopt when it succeeded.
StageResult command_outcome(const exec::CommandResult& r, const std::string& what, journal::Status failed_status);

}  // namespace ar::pipeline
