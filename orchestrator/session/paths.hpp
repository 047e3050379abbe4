#pragma once
// Where a session keeps its files. The user's files (config, ideas.md, experiments/, results.jsonl,
// reports/) sit beside the config; the loop's private state sits in <repository>/.autoresearch/,
// which is git-ignored through $GIT_DIR/info/exclude.

#include "config/config.hpp"

#include <filesystem>

namespace ar::session {

struct Paths {
  std::filesystem::path repo_root;   // the user's working tree
  std::filesystem::path root;        // the folder holding the config
  std::filesystem::path rel_root;    // root relative to repo_root ("" at the top)
  std::filesystem::path config;      // the config file
  std::filesystem::path journal;     // root/results.jsonl
  std::filesystem::path ideas;       // root/ideas.md
  std::filesystem::path reports;     // root/reports
  std::filesystem::path queue;       // root/<sources.queue.dir>
  std::filesystem::path state_dir;   // repo_root/.autoresearch
  std::filesystem::path logs;        // state_dir/logs: one log per experiment
  std::filesystem::path patches;     // state_dir/patches: every experiment's diff, kept or not
  std::filesystem::path base_wt;     // state_dir/wt/base
  std::filesystem::path cand_wt;     // state_dir/wt/cand (same length as base_wt on purpose)
  std::filesystem::path state_file;  // state_dir/state.json: what `run` is doing now
  std::filesystem::path lock_file;   // state_dir/lock

  // Executor slot k (1 and up, when executor.slots > 1): its worktrees slot_dir(k)/{base,cand}
  // (the two paths of equal length, as base_wt and cand_wt). The session's own pair stays for
  // calibration and the sources that edit a worktree.
  std::filesystem::path slot_dir(int k) const { return state_dir / ("slot-" + std::to_string(k)); }

  // Paths for a config file inside the repository whose working tree is repo_root.
  static Paths make(const config::Config& cfg, const std::filesystem::path& repo_root);

  // The folder inside a worktree that corresponds to `root` (where commands run).
  std::filesystem::path in_worktree(const std::filesystem::path& worktree) const {
    return rel_root.empty() ? worktree : worktree / rel_root;
  }
};

}  // namespace ar::session
