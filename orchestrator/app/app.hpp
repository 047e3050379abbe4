#pragma once
// The commands that drive a session: the run loop, dry-run, calibrate and verify. All are built
// from the same session (session/), executor (exec/) and stages (pipeline/).

#include "exec/executor.hpp"
#include "exec/sandbox.hpp"
#include "session/progress.hpp"
#include "util/fault.hpp"

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::app {

enum class Mode {
  run,        // the loop
  dry_run,    // check config, build, gates and benchmark; record nothing
  calibrate,  // the A/A run: noise of every metric, smallest detectable effect
  verify,     // re-measure the best commit against the start commit
  finalize,   // the kept commits as independent review branches (`dry_run`: the plan only)
  ablate,     // each kept commit reverted from the final best, measured against it
};

struct Options {
  std::filesystem::path config_path = "autoresearch.config.yaml";
  Mode mode = Mode::run;
  bool once = false;       // stop after one experiment
  int pairs = 0;           // verify: pairs (0: config)
  bool dry_run = false;    // finalize, ablate: print the plan, create or measure nothing
  int max_pairs = 0;       // ablate: pairs per block (0: the config's decision.max_pairs)
  std::vector<int> only;   // ablate: these kept experiments only (empty: every keep)
  util::FaultPlan faults;  // tests only (the hidden --fault option)
};

struct Summary {
  int experiments = 0;      // run by this invocation
  std::string stop_reason;  // "queue empty", "max_experiments reached (8)", ...
  nlohmann::json data;      // ablate: the lines it recorded (for --json)
};

// Runs the command with the LocalExecutor. Throws ar::ConfigError for a bad config, ar::Interrupted
// after an interrupt (the running experiment recorded as `interrupted`), ar::Error for problems
// that stop the loop.
Summary run(const Options& options, session::Progress& progress);

// The same over a given executor (tests use a fake one). `make_executor` gets the session's
// token, logs and run log once the session is open.
struct ExecutorSetup {
  std::string session, token;
  std::filesystem::path logs, run_log;
  std::function<int()> max_log_mb;  // the config in force's limits.max_log_mb (it may be edited)
  std::function<metrics::Repeat()> repeat;  // the config in force's metric.repeat
  std::function<std::string()> shell;       // the config in force's shell (its path)
  const exec::Sandbox* sandbox = nullptr;
  config::Executor executor;                       // the config's `executor` when the session opened
  config::Sandbox sandbox_settings;                // the config's `sandbox`
  std::filesystem::path state_dir, config_file;
  std::function<void(const std::string&)> note;    // progress messages
  const std::atomic<bool>* cancel = nullptr;  // executor slots: stops this slot's commands
};
using ExecutorFactory = std::function<std::unique_ptr<exec::Executor>(const ExecutorSetup&, util::FaultPlan&)>;
Summary run(const Options& options, session::Progress& progress, const ExecutorFactory& make_executor);

}  // namespace ar::app
