// The hidden `exec-block <folder>`: what a Slurm job of the SlurmExecutor runs on its node
// (exec/slurm_job.hpp). Not for people: the folder is one the executor wrote.

#include "cli/commands.hpp"
#include "exec/slurm_job.hpp"

#include <memory>

namespace ar::cli {

int run_exec_block(const ExecBlockOptions& options) {
  return exec::run_block(options.folder);
}

void setup_exec_block(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<ExecBlockOptions>();
  CLI::App* sub = app.add_subcommand("exec-block", "Run one block of benchmark runs (inside a Slurm job)");
  sub->group("");  // hidden from --help
  sub->add_option("folder", opt->folder, "The job's folder (spec.json)")->required();
  sub->callback([opt, &exit_code]() { exit_code = run_exec_block(*opt); });
}

}  // namespace ar::cli
