#pragma once
// Helpers for the robustness end-to-end tests (issue 3: hostile patches, tampering, journal
// damage, signals, hangs, floods, disk full, edits during a run, awkward repositories, the lock):
// start the built binary as a child we can signal and measure, wait for a stage of the loop, and
// find processes by a marker the test put in their environment.
//
// Everything lives in ar::test::robust so it cannot clash with other e2e helpers linked into the
// same binary.

#include "e2e/e2e_support.hpp"

#include <sys/types.h>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::test::robust {

// A started `autoresearch` process; its stdout and stderr go to `log`.
struct Child {
  pid_t pid = -1;
  std::filesystem::path log;
  std::string output() const;  // what it has written so far
};

struct StartOptions {
  std::map<std::string, std::string> env;  // added to (or replacing in) the inherited environment
  long address_space_mb = 0;               // RLIMIT_AS for the child when > 0 (a runaway read fails, not the host)
};

// Starts the binary with `args` (already split) in `cwd`. Throws when fork fails.
Child start(const std::filesystem::path& cwd, const std::vector<std::string>& args, const std::filesystem::path& log,
            const StartOptions& options = {});

// How a child ended, with its peak resident set (wait4's ru_maxrss, which on Linux also covers the
// descendants it reaped).
struct Ended {
  bool exited = false;
  int code = -1;
  int signal = 0;
  bool hung = false;   // still running at the limit; it was then SIGKILLed and reaped
  double seconds = 0;  // from the call to finish() until it was reaped
  long max_rss_kb = 0;
  std::string describe() const;
};

// Reaps `child`, waiting at most `limit` (then SIGKILL).
Ended finish(const Child& child, std::chrono::milliseconds limit);

// Polls `ready` every 10 ms for at most `limit`; true as soon as it holds.
bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds limit);

// .autoresearch/state.json of `repo` (an empty object when missing or mid-rename).
nlohmann::json state_of(const std::filesystem::path& repo);
// True when state.json says experiment `id` is at a stage starting with `stage_prefix`.
bool at_stage(const std::filesystem::path& repo, int id, const std::string& stage_prefix);

// Live processes (zombies excluded) whose environment or command line contains `marker`, as
// "pid: command line" strings. The test process itself is never listed.
std::vector<std::string> processes_with(const std::string& marker);
// Waits up to `limit` for them to be gone; returns the survivors.
std::vector<std::string> survivors(const std::string& marker, std::chrono::milliseconds limit);

// A marker no other test (or parallel test process) uses.
std::string unique_marker(const std::string& stem);

// `git status --porcelain` of a worktree, untracked and ignored files included.
std::string worktree_status(const std::filesystem::path& worktree);

// Replaces the first occurrence of `from` in the file by `to`; throws when it is not there.
void edit_file(const std::filesystem::path& path, const std::string& from, const std::string& to);
// Writes an executable script.
void write_script(const std::filesystem::path& path, const std::string& text);

// Every line of results.jsonl as JSON (headers and experiments), in file order.
std::vector<nlohmann::json> journal_lines(const std::filesystem::path& repo);

}  // namespace ar::test::robust
