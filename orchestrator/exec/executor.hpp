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
#include <filesystem>
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
};

}  // namespace ar::exec
