// Awkward repositories (issue 3, item 10): each either works end to end or is refused up front
// with a message that says what to do. Through the built binary on real temporary repositories.

#include "e2e/robust_support.hpp"

#include <gtest/gtest.h>

namespace ar::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const k_decision = "decision:\n  max_pairs: 5\n  looks: [3, 5]\n";

// The checkout's status, untracked and ignored files included, without what the loop may write:
// the journal, reports/ and its own .autoresearch/.
std::string user_status(const fs::path& root) {
  std::string all = git(root, "status --porcelain --untracked-files=all --ignored -- . ':!results.jsonl' ':!reports'");
  std::string out;
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find('\n', pos);
    if (end == std::string::npos) end = all.size();
    std::string line = all.substr(pos, end - pos);
    if (line.find(" .autoresearch/") != 2) out += line + "\n";
    pos = end + 1;
  }
  return out;
}

class RepoE2E : public ::testing::Test {
 protected:
  TempDir tmp{"autoresearch-repos"};

  // Queues (and commits) a patch that makes the benchmark clearly faster.
  static void queue_faster(FixtureRepo& repo) {
    repo.queue_change("01-faster.patch", "Title: Ten percent faster\nMechanism: the score scales with speed.txt",
                      "speed.txt", "0.9\n");
    git(repo.root, "add -A");
    git(repo.root, "commit -q -m queue");
  }

  // The run kept the faster patch, and both worktrees are clean at the kept commit.
  static void expect_kept(const FixtureRepo& repo, const CliResult& run) {
    std::vector<json> records = repo.records();
    ASSERT_EQ(records.size(), 1u) << run.output;
    EXPECT_EQ(records[0]["status"], "keep") << records[0].dump(2);
    ASSERT_TRUE(records[0].contains("commit"));
    std::string kept = records[0]["commit"];
    EXPECT_EQ(git(repo.root, "rev-parse autoresearch/e2e"), kept);
    EXPECT_EQ(git(repo.root, "show autoresearch/e2e:speed.txt"), "0.9");
    for (const char* wt : {".autoresearch/wt/base", ".autoresearch/wt/cand"}) {
      EXPECT_EQ(git(repo.root / wt, "rev-parse HEAD"), kept) << wt;
      EXPECT_EQ(robust::worktree_status(repo.root / wt), "") << wt;
    }
  }
};

TEST_F(RepoE2E, DirtyCheckoutWorksAndStaysUntouched) {
  FixtureRepo repo(tmp.path(), k_decision);
  queue_faster(repo);
  // Work in progress on the very file the patch changes, staged and unstaged, plus an untracked
  // file and an ignored one.
  write_text(repo.root / "speed.txt", "0.95\n");
  git(repo.root, "add speed.txt");
  write_text(repo.root / "speed.txt", "0.97\n");
  write_text(repo.root / "notes.txt", "unstaged edit\n");
  write_text(repo.root / "scratch.txt", "untracked\n");
  write_text(repo.root / ".gitignore", "*.tmp\n");
  write_text(repo.root / "cache.tmp", "ignored\n");
  std::string head = git(repo.root, "rev-parse HEAD");
  std::string index = git(repo.root, "ls-files -s");
  std::string status = user_status(repo.root);

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  expect_kept(repo, run);
  EXPECT_EQ(git(repo.root, "rev-parse HEAD"), head);
  EXPECT_EQ(git(repo.root, "symbolic-ref HEAD"), "refs/heads/main");
  EXPECT_EQ(git(repo.root, "ls-files -s"), index);
  EXPECT_EQ(user_status(repo.root), status);
  EXPECT_EQ(read_text(repo.root / "speed.txt"), "0.97\n");
  EXPECT_EQ(git(repo.root, "show :speed.txt"), "0.95");
  EXPECT_EQ(read_text(repo.root / "notes.txt"), "unstaged edit\n");
  EXPECT_EQ(read_text(repo.root / "scratch.txt"), "untracked\n");
  EXPECT_EQ(read_text(repo.root / "cache.tmp"), "ignored\n");
}

TEST_F(RepoE2E, DetachedHeadWorks) {
  FixtureRepo repo(tmp.path(), k_decision);
  queue_faster(repo);
  std::string head = git(repo.root, "rev-parse HEAD");
  git(repo.root, "checkout -q --detach HEAD");

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  expect_kept(repo, run);
  EXPECT_EQ(git(repo.root, "rev-list autoresearch/e2e~1 -1"), head);  // the session starts at HEAD
  EXPECT_EQ(git(repo.root, "rev-parse HEAD"), head);
  EXPECT_NE(shell("cd " + shell_quote(repo.root.string()) + " && git symbolic-ref -q HEAD"), 0)
      << "HEAD was reattached";
}

TEST_F(RepoE2E, UnbornBranchIsRefusedUpFront) {
  fs::path root = tmp / "repo";
  fs::create_directories(root);
  git(root, "init -q");
  write_text(root / "bench.sh", "#!/bin/sh\necho METRIC score=1\n");
  write_text(root / "autoresearch.config.yaml",
             "session: e2e\nbenchmark:\n  command: ./bench.sh\nmetric:\n  name: score\n");
  CliResult run = run_cli(root, "run");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("no commits"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("commit your"), std::string::npos) << "no advice: " << run.output;
  EXPECT_FALSE(fs::exists(root / ".autoresearch/wt")) << "worktrees made before refusing";
  EXPECT_FALSE(fs::exists(root / "results.jsonl"));
}

TEST_F(RepoE2E, SubmodulesAreRefusedUpFront) {
  fs::path sub = tmp / "sub";
  fs::create_directories(sub);
  git(sub, "init -q");
  write_text(sub / "lib.txt", "library\n");
  git(sub, "add -A");
  git(sub, "commit -q -m lib");
  FixtureRepo repo(tmp.path(), k_decision);
  git(repo.root, "-c protocol.file.allow=always submodule add -q " + shell_quote(sub.string()) + " vendor/lib");
  git(repo.root, "commit -q -m submodule");
  queue_faster(repo);
  std::string status = git(repo.root, "status --porcelain --untracked-files=all");

  CliResult run = run_cli(repo.root, "run");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("submodule"), std::string::npos) << run.output;
  EXPECT_TRUE(repo.records().empty()) << "an experiment ran";
  EXPECT_EQ(git(repo.root, "status --porcelain --untracked-files=all -- . ':!results.jsonl' ':!reports'"), status);
}

TEST_F(RepoE2E, ShallowCloneWorks) {
  FixtureRepo origin(tmp / "origin", k_decision);
  queue_faster(origin);
  fs::path clone = tmp / "shallow";
  git(tmp.path(),
      "clone -q --depth 1 " + shell_quote("file://" + origin.root.string()) + " " + shell_quote(clone.string()));
  ASSERT_EQ(git(clone, "rev-parse --is-shallow-repository"), "true");
  FixtureRepo repo = origin;
  repo.root = clone;

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  expect_kept(repo, run);
  EXPECT_NE(run.output.find("shallow"), std::string::npos) << run.output;
}

TEST_F(RepoE2E, PathWithSpacesAndNonAsciiWorksEndToEnd) {
  FixtureRepo repo(tmp / "my repo \xC3\xBC", k_decision);
  queue_faster(repo);
  ASSERT_NE(repo.root.string().find(" repo \xC3\xBC/"), std::string::npos);

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  expect_kept(repo, run);
  CliResult status = run_cli(repo.root, "status --json");
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_EQ(json::parse(status.output)["counts"]["keep"], 1);
  CliResult report = run_cli(repo.root, "report");
  ASSERT_EQ(report.exit_code, 0) << report.output;
  EXPECT_NE(read_text(repo.root / "reports/report.md").find("Ten percent faster"), std::string::npos);
}

}  // namespace
}  // namespace ar::test
