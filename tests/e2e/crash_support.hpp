#pragma once
// Helpers for the crash-safety tests (fault injection and soak): start `autoresearch run` as a
// child we can SIGKILL, find the processes a run left behind by their run token, read the journal
// strictly, and check the invariants that must hold after any kill and restart (issue 3, item 2).
//
// The checks report through GoogleTest's non-fatal EXPECT macros, so one call lists every broken
// invariant; callers add SCOPED_TRACE for context.

#include "e2e/e2e_support.hpp"

#include <sys/types.h>
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::test {

// The user's checkout as git sees it. `status` leaves out what the loop may write beside the
// config: results.jsonl, its torn-line side file results.jsonl.corrupt, and reports/.
struct Checkout {
  std::string head, branch, index, status;
  bool operator==(const Checkout& o) const {
    return head == o.head && branch == o.branch && index == o.index && status == o.status;
  }
};
Checkout checkout_of(const std::filesystem::path& repo);

// Starts `autoresearch run` in `repo` as a child of this process: stdout and stderr are appended
// to `log`; `run --fault=<fault>` is passed when `fault` is non-empty.
// Returns the child's pid; throws when fork fails.
pid_t start_run(const std::filesystem::path& repo, const std::string& fault, const std::filesystem::path& log);

// How a started run ended.
struct RunEnd {
  bool exited = false;  // exit() with `code`
  int code = -1;
  int signal = 0;     // killed by this signal
  bool hung = false;  // still running at the limit (then SIGKILLed and reaped by wait_run)
  std::string describe() const;
};
// Reaps `pid`, waiting at most `limit`.
RunEnd wait_run(pid_t pid, std::chrono::milliseconds limit);
// Sends SIGKILL to `pid` (the orchestrator only, like `kill -9 <pid>`) and reaps it.
RunEnd kill_run(pid_t pid);
// Reaps `pid` and fills `end` if it has ended; false while it runs.
bool try_reap(pid_t pid, RunEnd& end);

// Live processes (zombies excluded) whose environment holds AUTORESEARCH_RUN_TOKEN=<token>, as
// "pid command" strings.
std::vector<std::string> processes_with_token(const std::string& token);
// Waits up to `limit` for every process carrying one of `tokens` to be gone (a process the run
// just SIGKILLed may need a moment to leave /proc); returns the survivors.
std::vector<std::string> survivors(const std::set<std::string>& tokens, std::chrono::milliseconds limit);

// .autoresearch/state.json of `repo`, or an empty object when it is missing or unreadable.
nlohmann::json read_state_file(const std::filesystem::path& repo);

// results.jsonl read without repairing anything: each line must be a complete JSON object ending
// in a newline; anything else goes to `bad` as "line N: why".
struct JournalLines {
  std::vector<nlohmann::json> headers;
  std::vector<nlohmann::json> experiments;
  std::vector<nlohmann::json> others;  // lines of other types (a session's stop line, ...)
  std::vector<std::string> bad;
  size_t lines = 0;
};
JournalLines read_journal(const std::filesystem::path& path);
// Number of '\n' in the file (0 when it is missing): a cheap progress probe for a running loop.
size_t count_lines(const std::filesystem::path& path);

// The invariants between experiments, checked with EXPECT_*:
// - experiment ids are 1..n, each once;
// - the session branch minus `start` holds exactly the commits of the keep records, oldest first,
//   each carrying the trailer "Experiment: <id>" of its record;
// - both worktrees are clean and at the branch tip.
void expect_session_consistent(const std::filesystem::path& repo, const std::string& session, const std::string& start,
                               const std::vector<nlohmann::json>& experiments);

}  // namespace ar::test
