#pragma once
// The seam between the loop and the processes it starts (in the spirit of ninja's CommandRunner).
// The pipeline says *what* to run (a Command); an Executor decides *how* and *where*: LocalExecutor
// runs it here through proc::run, tests script the answers with a fake. An executor never decides
// an experiment's outcome: it reports how the command ended and what METRIC lines it printed.
//
// Thread safety: an Executor is used from one thread at a time; executor slots give each slot its
// own (app/slots).

#include "metrics/metric_parser.hpp"
#include "proc/subprocess.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ar::exec {

enum class Kind { build, gate, benchmark, proposer, hook };

struct Command {
  Kind kind = Kind::benchmark;
  std::string label;    // "build candidate", "gate unit", "pair 3 base": logs and messages
  int experiment = 0;   // 0: work outside an experiment (base build, calibration, verify)
  int side = -1;        // benchmark and build: 0 base worktree, 1 candidate worktree
  std::string command;  // shell command
  std::filesystem::path cwd;
  std::chrono::milliseconds timeout{0};
  std::vector<std::pair<std::string, std::string>> env;  // added to the loop's own variables
  std::filesystem::path stdin_path;                      // empty: /dev/null
  bool scan_metrics = false;                             // parse METRIC lines from the whole output
  std::vector<int> cpus;                                 // pinned to these CPUs; empty: not pinned
  std::filesystem::path log;  // where its output goes; empty: the experiment's log (LocalExecutor)
};

inline Command make_command(Kind kind, std::string label, int experiment, int side, std::string command,
                            std::filesystem::path cwd, std::chrono::milliseconds timeout) {
  Command c;
  c.kind = kind;
  c.label = std::move(label);
  c.experiment = experiment;
  c.side = side;
  c.command = std::move(command);
  c.cwd = std::move(cwd);
  c.timeout = timeout;
  return c;
}

struct CommandResult {
  proc::Result process;                     // how it ended, its output's tail
  std::map<std::string, double> metrics;    // METRIC values, one per name (scan_metrics only)
  std::vector<metrics::Rejected> rejected;  // METRIC lines that did not parse
  std::string node;                         // where it ran: a Slurm node; empty: this machine
  std::string job;                          // the Slurm job that ran it; empty: none
  // Set when the executor lost the run rather than the command failing: its Slurm job was
  // cancelled, failed, hit its time limit, or its node died. One line naming the job and node.
  std::string lost;

  bool ok() const { return process.ok(); }
  bool interrupted() const { return process.ending == proc::Ending::interrupted; }
  bool timed_out() const { return process.ending == proc::Ending::timed_out; }
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs the command to its end (exit, deadline or interrupt). Never throws for the command's own
  // failures; throws ar::Error only when the executor itself cannot work (cannot write its log).
  virtual CommandResult run(const Command& command) = 0;

  // Runs `commands` in order as one unit of work (a block of benchmark pairs: the runs between
  // two looks), handing each result to `take` in order; `take` returns false to stop there (the
  // run failed, the experiment ends). An executor may run the commands before handing any result
  // over (Slurm runs the whole block as one job on one node and stops it at the first failed
  // run); the default runs one, hands it over, then runs the next, so a local block behaves
  // exactly as single runs do. Throws like run().
  virtual void run_batch(const std::vector<Command>& commands,
                         const std::function<bool(std::size_t index, CommandResult& result)>& take) {
    for (std::size_t i = 0; i < commands.size(); ++i) {
      CommandResult r = run(commands[i]);
      if (!take(i, r)) return;
    }
  }
};

}  // namespace ar::exec
