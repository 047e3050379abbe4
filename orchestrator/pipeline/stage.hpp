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

  const config::Config& cfg() const { return session.config(); }
  session::Workspace& workspace() { return session.workspace(); }
  // Shows and records the stage of experiment `id` (0: work outside an experiment).
  void stage(int id, const std::string& title, const std::string& stage);
};

// How a command that ran in stage `what` ends the experiment when it failed: interrupted, timeout,
// or `failed_status` with "<what> failed: <how>". std::nullopt when it succeeded.
StageResult command_outcome(const exec::CommandResult& r, const std::string& what, journal::Status failed_status);

}  // namespace ar::pipeline
