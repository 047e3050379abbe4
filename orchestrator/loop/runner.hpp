#pragma once
// The experiment loop: one Runner per `autoresearch run`. It owns the repository handles, the two
// worktrees and the journal view, and drives each hypothesis through screen, apply, build, gates,
// measurement and decision (DESIGN §2), recording every experiment in results.jsonl.
//
// Invariants between experiments: the candidate worktree (which has the session branch checked
// out) and the base worktree (detached) are both clean at the best commit; the session branch
// holds exactly the kept commits; the user's checkout, index and HEAD are never touched.

#include "config/config.hpp"
#include "loop/paths.hpp"

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace ar::loop {

// Where progress goes. The console implementation prints one line per finished experiment and the
// running experiment's stage.
class Progress {
public:
  virtual ~Progress() = default;
  virtual void note(const std::string& line) = 0;                 // a warning or a session event
  virtual void stage(int id, const std::string& title, const std::string& stage) = 0;
  virtual void finished(const nlohmann::json& record) = 0;
};

// Prints to stderr; rewrites the stage line in place when stderr is a terminal.
class ConsoleProgress : public Progress {
public:
  ConsoleProgress();
  void note(const std::string& line) override;
  void stage(int id, const std::string& title, const std::string& stage) override;
  void finished(const nlohmann::json& record) override;

private:
  void clear_stage_line();
  bool m_tty;
  bool m_stage_shown = false;
};

enum class RunMode {
  run,        // the loop
  dry_run,    // check config, build, gates and benchmark; record nothing
  calibrate,  // the A/A run: noise of every metric, smallest detectable effect
  verify,     // re-measure the best commit against the start commit
};

struct RunOptions {
  std::filesystem::path config_path = "autoresearch.config.yaml";
  RunMode mode = RunMode::run;
  bool once = false;  // stop after one experiment
  int pairs = 0;      // verify: pairs (0: config)
};

// Why run() returned normally.
struct RunSummary {
  int experiments = 0;      // run by this invocation
  std::string stop_reason;  // "queue empty", "max_experiments reached (8)", ...
};

// Runs the loop until the sources are exhausted, a limit is reached, or an interrupt arrives
// (then throws ar::Interrupted after recording the running experiment as `interrupted`).
// Throws ConfigError for a bad config and Error for problems that stop the loop.
RunSummary run(const RunOptions& options, Progress& progress);

// One-line effect text, e.g. "-12.3% (95% CI -14.0% to -10.5%)".
std::string effect_text(const nlohmann::json& metric);

} // namespace ar::loop
