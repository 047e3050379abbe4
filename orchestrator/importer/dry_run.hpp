#pragma once
// One run of the imported benchmark, to learn which METRIC names it prints, without touching the
// user's checkout: in a temporary linked worktree at HEAD (with the harness files copied in, as a
// session would), confined by the sandbox (auto), with bash. The worktree, git's record of it
// and the temp folder are removed before it returns, whatever happened.

#include "git/git.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace ar::importer {

struct DryRun {
  bool ok = false;                   // exited 0
  std::string outcome;               // "exit 0 in 0.4s", "exit 1 ...: <last line>"
  std::vector<std::string> printed;  // METRIC names it printed (sorted)
  bool confined = false;             // whether the sandbox confined it
};

// `session_dir`: the folder of the pi session inside the repository's working tree. `harness`:
// files relative to it, copied from the checkout into the worktree. `command` runs in the
// worktree's copy of `session_dir`. Throws ar::Error only when the worktree cannot be made.
DryRun dry_run_benchmark(git::Repository& repo, const std::filesystem::path& session_dir,
                         const std::vector<std::string>& harness, const std::string& command,
                         std::chrono::milliseconds timeout);

}  // namespace ar::importer
