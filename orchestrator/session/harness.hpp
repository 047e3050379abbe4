#pragma once
// Harness files outside git (config key `harness`): scripts the commands need that the user keeps
// untracked or ignored (pi-autoresearch suggests ignoring `.auto/`). They are read from the
// user's checkout, held in memory, and written into both worktrees by Workspace, which re-writes
// them after every move (a reset would delete an untracked file) and fingerprints them for the
// tamper checks. A change in the checkout is taken by the session before the next experiment, for
// both sides at once.

#include "config/config.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::session {

struct HarnessFile {
  std::string path;     // relative to the repository root
  std::string content;
  bool executable = false;
  std::string sha256;   // of content
};

// Reads the config's harness files from the checkout at `repo_root`. Throws ar::ConfigError
// "<config>:<line>: harness[i]: ..." when one is missing, is not a regular file (a symlink to one
// is read through) or cannot be read.
std::vector<HarnessFile> read_harness(const config::Config& cfg, const std::filesystem::path& repo_root);

// {path: sha256} for the journal header.
nlohmann::json harness_json(const std::vector<HarnessFile>& files);

}  // namespace ar::session
