#pragma once
// The files one Slurm job of the SlurmExecutor exchanges through its folder (a shared file
// system): spec.json (what to run: a block of commands and how to confine them), started.json
// (the runner began, on which node), run-N.log (each run's output) and result.json (how each run
// ended, its METRIC values). JSON at this edge only; both sides use these types.
//
// The job runs `autoresearch exec-block <folder>` (run_block below): the same LocalExecutor, and
// so the same sandbox, subreaper and METRIC scanner, as a command run on the orchestrator's own
// machine.

#include "config/config.hpp"
#include "exec/executor.hpp"
#include "exec/sandbox.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ar::exec {

struct BlockSpec {
  std::string session, token;
  int experiment = 0;
  std::string shell = "/bin/sh";
  metrics::Repeat repeat = metrics::Repeat::median;
  int max_log_mb = 64;
  config::Sandbox sandbox;            // the settings; off: unconfined
  SandboxLayout layout;               // the session's (exec/sandbox.hpp)
  std::filesystem::path config_file;  // for the sandbox's messages
  std::vector<Command> commands;      // run in order; the first that fails ends the block
};

struct BlockStart {  // started.json
  std::string node, job;
  int pid = 0;
};

struct BlockResult {  // result.json
  std::string node, job;
  bool complete = false;  // every command ran, or the first failure ended it; false: stopped by a signal
  int signal = 0;         // the signal that stopped the runner
  std::vector<CommandResult> results;
};

inline constexpr const char* k_spec_file = "spec.json";
inline constexpr const char* k_started_file = "started.json";
inline constexpr const char* k_result_file = "result.json";
std::filesystem::path run_log_path(const std::filesystem::path& folder, std::size_t index);  // run-N.log

void write_spec(const std::filesystem::path& folder, const BlockSpec& spec);
std::optional<BlockStart> read_started(const std::filesystem::path& folder);
// nullopt while the runner has not written it (or it does not parse: a half-written file is never
// seen, it is written atomically).
std::optional<BlockResult> read_result(const std::filesystem::path& folder);

// The job's side: reads spec.json in `folder`, writes started.json, runs the commands through a
// LocalExecutor (output to run-N.log), stops at the first that fails or on SIGTERM/SIGINT (what
// scancel sends), and writes result.json. Returns the exit code for the job (0 when it wrote a
// result). Throws ar::Error when the spec cannot be read.
int run_block(const std::filesystem::path& folder);

}  // namespace ar::exec
