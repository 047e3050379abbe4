// Upgrade from release 1: a session that release 1 (main before the journal schema bump) started
// and that was SIGKILLed in the middle of measuring an experiment must resume under this binary.
// tests/fixtures/release-1/ holds what that run left (journal, state file, lock, saved diffs) with
// placeholders for what differs per machine; repo.sh rebuilds the repository, the kept commit and
// the worktrees, and this test puts the files back and drives `status`, `report` and `run`.

#include "e2e/crash_support.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>

namespace ar::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string k_session = "release1";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

// A pid that surely names no live process: a child that has exited and been reaped.
pid_t dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

class UpgradeE2E : public ::testing::Test {
 protected:
  TempDir tmp{"autoresearch-upgrade"};
  fs::path fixture = fs::path(AUTORESEARCH_SOURCE_DIR) / "tests/fixtures/release-1";
  fs::path root;
  std::string start, kept;
  std::string old_journal;  // results.jsonl as release 1 left it

  void SetUp() override {
    root = tmp / "repo";
    std::string out;
    int rc = shell(
        "bash " + shell_quote((fixture / "repo.sh").string()) + " " + shell_quote(root.string()) + " --killed 2>&1",
        &out);
    ASSERT_EQ(rc, 0) << out;
    for (const char* prefix : {"START ", "KEPT1 "}) {
      size_t at = out.find(prefix);
      ASSERT_NE(at, std::string::npos) << out;
      std::string hash = out.substr(at + 6, 40);
      (std::string(prefix) == "START " ? start : kept) = hash;
    }
    const std::string token = "release-1-token-" + std::to_string(::getpid());
    const std::string pid = std::to_string(dead_pid());
    auto fill = [&](const std::string& name) {
      std::string text = read_text(fixture / name);
      for (const auto& [from, to] : std::map<std::string, std::string>{
               {"@START@", start}, {"@KEPT1@", kept}, {"@TOKEN@", token}, {"@PID@", pid}, {"@ROOT@", root.string()}}) {
        text = replace_all(text, from, to);
      }
      return text;
    };
    old_journal = fill("results.jsonl.in");
    write_text(root / "results.jsonl", old_journal);
    write_text(root / ".autoresearch/state.json", fill("state.json.in"));
    write_text(root / ".autoresearch/lock", fill("lock.in"));
    fs::create_directories(root / ".autoresearch/logs");
    for (const auto& entry : fs::directory_iterator(fixture / "patches")) {
      fs::create_directories(root / ".autoresearch/patches");
      fs::copy_file(entry.path(), root / ".autoresearch/patches" / entry.path().filename());
    }
  }
};

TEST_F(UpgradeE2E, KilledReleaseOneSessionResumes) {
  // The rebuilt state is the one release 1 left: the kept commit is the branch tip, and the
  // candidate worktree still holds experiment 3's patch.
  ASSERT_EQ(git(root, "rev-parse autoresearch/" + k_session), kept);
  ASSERT_EQ(git(root, "log -1 --format=%H autoresearch/" + k_session + "~1"), start);
  ASSERT_EQ(git(root / ".autoresearch/wt/cand", "status --porcelain"), "M  notes.txt");

  // Read-only commands work on the old journal and leave it alone.
  CliResult status = run_cli(root, "status");
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("Twenty percent faster"), std::string::npos) << status.output;
  CliResult status_json = run_cli(root, "status --json");
  ASSERT_EQ(status_json.exit_code, 0) << status_json.output;
  json s = json::parse(status_json.output, nullptr, false);
  ASSERT_TRUE(s.is_object()) << status_json.output;
  EXPECT_EQ(s.value("session", ""), k_session);
  EXPECT_EQ(s.value("experiments", 0), 2);
  CliResult report = run_cli(root, "report");
  ASSERT_EQ(report.exit_code, 0) << report.output;
  EXPECT_TRUE(fs::exists(root / "reports/report.md"));
  EXPECT_EQ(read_text(root / "results.jsonl"), old_journal);

  // The run repairs what the killed run left and goes on with the queue.
  CliResult run = run_cli(root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  // A second run finds nothing left to do and records no experiment.
  CliResult again = run_cli(root, "run");
  ASSERT_EQ(again.exit_code, 0) << again.output;

  // Every old record is still there, byte for byte, and nothing is torn.
  std::string journal = read_text(root / "results.jsonl");
  ASSERT_EQ(journal.compare(0, old_journal.size(), old_journal), 0) << journal;
  JournalLines j = read_journal(root / "results.jsonl");
  EXPECT_TRUE(j.bad.empty()) << j.bad.front();

  // Ids unique and 1..n; experiment 3 recorded once, as interrupted; its hypothesis retried once.
  std::set<int> ids;
  std::map<std::string, std::vector<std::string>> by_file;
  std::vector<json> interrupted;
  for (const json& r : j.experiments) {
    EXPECT_TRUE(ids.insert(r.value("id", 0)).second) << "duplicate id: " << r.dump();
    by_file[r["source"].value("file", "")].push_back(r.value("status", ""));
    if (r.value("status", "") == "interrupted") interrupted.push_back(r);
  }
  ASSERT_EQ(interrupted.size(), 1u) << run.output;
  EXPECT_EQ(interrupted[0].value("id", 0), 3);
  EXPECT_EQ(interrupted[0]["source"].value("file", ""), "experiments/03-notes.patch");
  EXPECT_EQ(by_file["experiments/01-faster.patch"], std::vector<std::string>{"keep"});
  EXPECT_EQ(by_file["experiments/02-slower.patch"], std::vector<std::string>{"discard"});
  EXPECT_EQ(by_file["experiments/03-notes.patch"], (std::vector<std::string>{"interrupted", "discard"}));
  EXPECT_EQ(by_file["experiments/04-gate.patch"], std::vector<std::string>{"checks_failed"});
  EXPECT_EQ(j.experiments.size(), 5u);
  EXPECT_EQ(ids, (std::set<int>{1, 2, 3, 4, 5}));

  // The session branch still holds the old keep (and nothing else), the worktrees are clean at it.
  EXPECT_EQ(git(root, "rev-parse autoresearch/" + k_session), kept);
  expect_session_consistent(root, k_session, start, j.experiments);

  CliResult after = run_cli(root, "status --json");
  ASSERT_EQ(after.exit_code, 0) << after.output;
  json a = json::parse(after.output, nullptr, false);
  ASSERT_TRUE(a.is_object()) << after.output;
  EXPECT_EQ(a.value("experiments", 0), 5);
  EXPECT_EQ(a["counts"].value("interrupted", 0), 1);
  EXPECT_EQ(a["counts"].value("keep", 0), 1);
  EXPECT_DOUBLE_EQ(a["metric"].value("best", 0.0), 80.0);
  CliResult report_after = run_cli(root, "report");
  EXPECT_EQ(report_after.exit_code, 0) << report_after.output;
}

}  // namespace
}  // namespace ar::test
