// `autoresearch finalize` (issue 13, item 6): independent review branches from the kept commits,
// each built and gated on its own, through the built binary on real repositories.

#include "e2e/e2e_support.hpp"

#include <gtest/gtest.h>

namespace ar::test {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Three keeps: two on speed.txt, one on slow.txt. Two groups, each a commit on the start commit.
TEST(FinalizeE2E, KeepsThatShareNoFileBecomeIndependentBranchesWhoseUnionIsTheBest) {
  TempDir tmp("autoresearch-finalize");
  FixtureRepo repo(tmp.path());
  repo.queue_change("01-speed.patch", "Title: Faster speed\nMechanism: less work", "speed.txt", "0.9\n");
  repo.queue_change("02-slow.patch", "Title: Less slow", "slow.txt", "0.9\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -qm queue");
  std::string start = git(repo.root, "rev-parse HEAD");
  ASSERT_EQ(run_cli(repo.root, "run").exit_code, 0);
  // The third patch is written against the first keep (speed.txt at 0.9).
  git(repo.root, "checkout -q autoresearch/e2e -- speed.txt");
  repo.queue_change("03-speed-again.patch", "Title: Faster speed again", "speed.txt", "0.8\n");
  git(repo.root, "checkout -q HEAD -- speed.txt");
  git(repo.root, "add -A");
  git(repo.root, "commit -qm queue2");
  CliResult again = run_cli(repo.root, "run");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  std::vector<nlohmann::json> records = repo.records();
  ASSERT_EQ(records.size(), 3u) << again.output;
  for (const auto& r : records) ASSERT_EQ(r["status"], "keep") << r.dump(2);

  CliResult plan = run_cli(repo.root, "finalize --dry-run");
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_NE(plan.output.find("autoresearch-review/e2e/01-faster-speed: #1, #3 (speed.txt)"), std::string::npos)
      << plan.output;
  EXPECT_NE(plan.output.find("autoresearch-review/e2e/02-less-slow: #2 (slow.txt)"), std::string::npos) << plan.output;
  EXPECT_EQ(git(repo.root, "branch --list 'autoresearch-review/*'"), "") << "--dry-run created a branch";

  CliResult made = run_cli(repo.root, "finalize");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  std::vector<std::string> branches = lines_of(git(repo.root, "for-each-ref '--format=%(refname:short)' refs/heads/autoresearch-review/"));
  ASSERT_EQ(branches.size(), 2u) << made.output;
  for (const std::string& b : branches) {
    EXPECT_EQ(git(repo.root, "rev-parse " + b + "^"), start) << b << ": one commit on the start commit";
  }
  EXPECT_EQ(git(repo.root, "diff --name-only " + start + " " + branches[0]), "speed.txt");
  EXPECT_EQ(git(repo.root, "show " + branches[0] + ":speed.txt"), "0.8");
  EXPECT_EQ(git(repo.root, "diff --name-only " + start + " " + branches[1]), "slow.txt");
  std::string message = git(repo.root, "log -1 --format=%B " + branches[0]);
  EXPECT_NE(message.find("Faster speed; Faster speed again"), std::string::npos) << message;
  EXPECT_NE(message.find("#1 Faster speed: -"), std::string::npos) << message;
  EXPECT_NE(message.find("less work"), std::string::npos) << message;
  // Their union is the session branch: merged together they give its tree.
  std::filesystem::path union_wt = tmp / "union";
  git(repo.root, "worktree add -q -b union " + shell_quote(union_wt.string()) + " " + branches[0]);
  git(union_wt, "merge -q --no-edit " + branches[1]);
  EXPECT_EQ(git(union_wt, "rev-parse HEAD^{tree}"), git(repo.root, "rev-parse autoresearch/e2e^{tree}"));
}

// Queues one patch changing several files (each to `content`), committed.
void queue_files(FixtureRepo& repo, const std::string& name, const std::string& header,
                 const std::vector<std::pair<std::string, std::string>>& files) {
  std::string diff;
  for (const auto& [file, content] : files) {
    bool existed = std::filesystem::exists(repo.root / file);
    std::string old = existed ? read_text(repo.root / file) : "";
    write_text(repo.root / file, content);
    if (!existed) git(repo.root, "add -N -- " + shell_quote(file));
    diff += git(repo.root, "diff -- " + shell_quote(file)) + "\n";
    if (existed) {
      write_text(repo.root / file, old);
    } else {
      git(repo.root, "rm -q --cached -- " + shell_quote(file));
      std::filesystem::remove(repo.root / file);
    }
  }
  write_text(repo.root / "experiments" / name, header + "\n\n" + diff);
  git(repo.root, "add -A");
  git(repo.root, "commit -qm " + shell_quote("queue " + name));
}

// The second keep needs a file the first one added, which no file-level grouping can see: its
// branch alone fails the gate, so finalize fails, naming it, and leaves no branch behind.
TEST(FinalizeE2E, ABranchThatFailsItsGatesAloneFailsTheWholeFinalize) {
  TempDir tmp("autoresearch-finalize");
  FixtureRepo repo(tmp.path());
  write_text(repo.root / "gates/check.sh",
             "#!/bin/sh\ngrep -qx ok ok.txt || exit 4\n"
             "if grep -q needs-lib use.txt 2>/dev/null && [ ! -f lib.txt ]; then echo 'use.txt needs lib.txt' >&2; "
             "exit 5; fi\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -qm gate");
  queue_files(repo, "01-lib.patch", "Title: Add the library", {{"lib.txt", "lib\n"}, {"speed.txt", "0.9\n"}});
  queue_files(repo, "02-use.patch", "Title: Use the library", {{"use.txt", "needs-lib\n"}, {"slow.txt", "0.9\n"}});
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<nlohmann::json> records = repo.records();
  ASSERT_EQ(records.size(), 2u) << run.output;
  ASSERT_EQ(records[0]["status"], "keep") << records[0].dump(2);
  ASSERT_EQ(records[1]["status"], "keep") << records[1].dump(2);

  CliResult made = run_cli(repo.root, "finalize");
  EXPECT_EQ(made.exit_code, 1) << made.output;
  EXPECT_NE(made.output.find("finalize: autoresearch-review/e2e/02-use-the-library: gate check failed (exit 5) on its "
                             "own; no review branch was left"),
            std::string::npos)
      << made.output;
  EXPECT_EQ(git(repo.root, "for-each-ref refs/heads/autoresearch-review/"), "");
  // The base worktree is back at the best commit, clean.
  EXPECT_EQ(git(repo.root / ".autoresearch/wt/base", "rev-parse HEAD"), git(repo.root, "rev-parse autoresearch/e2e"));
  EXPECT_EQ(git(repo.root / ".autoresearch/wt/base", "status --porcelain"), "");
}

}  // namespace
}  // namespace ar::test
