#pragma once
// Runs commands on this machine through proc::run. Every command gets the session's variables
// (AUTORESEARCH_SESSION, AUTORESEARCH_EXPERIMENT) and the run token that lets the next run stop
// whatever a killed predecessor left behind. Output goes to the experiment's log
// (<logs>/NNNN.log), or to this run's own log for work outside experiments, capped per experiment
// at `max_log_mb` (head and tail kept).

#include "exec/executor.hpp"
#include "exec/sandbox.hpp"

#include <atomic>
#include <functional>

namespace ar::exec {

struct LocalOptions {
  std::string session;
  std::filesystem::path logs;       // folder of per-experiment logs
  std::filesystem::path run_log;    // log of work outside experiments
  std::string token;                // proc::RunSpec::stray_token
  std::function<int()> max_log_mb;  // read at every command (the config may change); empty: 64
  std::function<metrics::Repeat()> repeat;  // likewise: metric.repeat; empty: median
  std::function<std::string()> shell;        // likewise: the shell's path; empty: /bin/sh
  const Sandbox* sandbox = nullptr;  // every command runs in it when it is confined
  // When set and true, a running command stops (ending `interrupted`) and none starts: another
  // thread cancels the work of one slot (executor slots) without stopping the run.
  const std::atomic<bool>* cancel = nullptr;
  // Called in the parent right after a child started, with the command (tests' fault plans).
  std::function<void(const Command&)> on_spawn;
};

class LocalExecutor : public Executor {
 public:
  // Makes this process a child subreaper (proc::become_subreaper): every process a command leaves
  // behind is found and killed when it ends.
  explicit LocalExecutor(LocalOptions options);
  CommandResult run(const Command& command) override;
  std::filesystem::path log_of(int experiment) const;

 private:
  LocalOptions m_options;
};

}  // namespace ar::exec
