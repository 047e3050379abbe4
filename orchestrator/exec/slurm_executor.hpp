#pragma once
// Runs benchmark blocks as Slurm batch jobs (executor.kind: slurm). One batch of benchmark runs
// (Executor::run_batch: the runs between two looks of the decision rule, in the order the
// schedule gave) is one job on one node; the next look is a new job, sent to the same node so
// that every pair of an experiment shares the hardware. Builds, gates, the proposer and hooks
// run on this machine through the LocalExecutor.
//
// A job runs `autoresearch exec-block <folder>` (exec/slurm_job.hpp): the same LocalExecutor,
// sandbox and subreaper as a local command. Its folder (under `workdir`) must be on a file system
// the node shares with this machine, as must the worktrees. Submitted with `sbatch --parsable`,
// followed with `scontrol show job`, cancelled with `scancel` on interrupt or when it outlives its
// runs' timeouts. A job that ends without its results (cancelled, failed, time limit, node
// failure) gives a result with `lost` set; one that never started is submitted once more.
//
// Nothing is lost when this process is killed: every job is written to a durable list
// (<state>/slurm/jobs.json) before sbatch and taken off once collected; the next executor of the
// session cancels whatever that list still holds and waits for those jobs to end.
//
// Used from one thread.

#include "exec/local_executor.hpp"
#include "exec/slurm_job.hpp"

#include <functional>
#include <map>
#include <optional>

namespace ar::exec {

struct SlurmOptions {
  LocalOptions local;                    // what runs here, and the experiments' logs
  std::string partition;                 // empty: the cluster's default
  std::vector<std::string> sbatch_args;  // given to sbatch as they are
  std::filesystem::path workdir;         // job folders
  std::filesystem::path jobs_file;       // the durable list of submitted, uncollected jobs
  std::filesystem::path self;            // the autoresearch binary the jobs run
  config::Sandbox sandbox;               // settings for the runner's sandbox (off: unconfined)
  SandboxLayout layout;
  std::filesystem::path config_file;
  std::function<void(const std::string&)> note;  // progress messages
  std::chrono::milliseconds poll{50};            // how often the result file is looked for
  std::chrono::milliseconds query_every{1000};   // how often scontrol is asked
};

class SlurmExecutor : public Executor {
 public:
  // Cancels the jobs a killed predecessor left (see above). Throws ar::Error when the job list
  // cannot be read or written.
  explicit SlurmExecutor(SlurmOptions options);
  CommandResult run(const Command& command) override;
  void run_batch(const std::vector<Command>& commands,
                 const std::function<bool(std::size_t, CommandResult&)>& take) override;

 private:
  struct Job {
    std::string id, name;
    std::filesystem::path folder;
    std::string error;  // sbatch failed
  };
  struct Ending {
    std::optional<BlockResult> result;
    bool started = false;
    std::string lost;  // why the results are missing or cut short
    bool timed_out = false;
    bool interrupted = false;
    std::string node;
  };
  Job submit(const std::vector<Command>& commands);
  Ending follow(const Job& job, const std::vector<Command>& commands);
  void collect(const Job& job, const std::vector<Command>& commands, const Ending& end);
  void recover();
  void remember(const Job& job, int experiment);
  void forget(const Job& job);
  void note(const std::string& text) const;

  SlurmOptions m_options;
  LocalExecutor m_local;
  std::string m_instance;  // four hex digits in this executor's job names
  int m_sequence = 0;
  std::map<int, std::string> m_node_of;  // experiment -> the node its first job ran on
};

}  // namespace ar::exec
