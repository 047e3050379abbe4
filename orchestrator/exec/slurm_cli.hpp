#pragma once
// Slurm's command-line clients as functions: sbatch, scontrol show job, scancel. Each runs the
// client through proc::run with a deadline and never throws for the client's own failures.
// No accounting database is needed (sacct is not used): a finished job stays visible to
// `scontrol show job` for MinJobAge (300 s by default), and results come back as files.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ar::exec::slurm {

struct Submitted {
  std::string job;    // the job id; empty when sbatch failed
  std::string error;  // sbatch's message (one line) when it failed
};

// `sbatch --parsable <args...> <script>`.
Submitted submit(const std::vector<std::string>& args, const std::filesystem::path& script);

struct JobState {
  bool known = false;     // false: Slurm does not know the job (purged, or scontrol failed)
  bool invalid = false;   // Slurm answered that it knows no such job (purged after MinJobAge)
  std::string state;      // PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, ...
  std::string reason;     // Slurm's Reason field ("None", "Resources", "NodeDown", ...)
  std::string node;       // NodeList ("(null)" while pending becomes empty)
  std::string exit_code;  // ExitCode ("0:0", "1:0", "0:15")
  std::string error;      // why scontrol failed
  bool terminal() const;  // a state a job does not leave
};

// `scontrol show job -o <job>`.
JobState query(const std::string& job);

// `scancel <job>`; true when scancel exited 0.
bool cancel(const std::string& job);

// `scancel --name=<name>`: the jobs of that name (one whose id was never learned).
bool cancel_named(const std::string& name);

// Whether the clients are installed (sinfo in PATH and answering) and a controller answers.
bool available();

}  // namespace ar::exec::slurm
