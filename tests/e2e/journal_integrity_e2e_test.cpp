// The journal defends itself (issue 10, item 5): a repeated record is an error naming its line,
// for the readers and for `run`, whether or not the summary index already covers the journal's
// start; a journal changed while a run goes on is never appended to again.

#include "e2e/e2e_support.hpp"

#include <gtest/gtest.h>

namespace ar::test {
namespace {

namespace fs = std::filesystem;

TEST(JournalIntegrityE2E, ARepeatedRecordIsAnErrorNamingItsLine) {
  TempDir tmp("autoresearch-journal-integrity");
  FixtureRepo repo(tmp.path());
  repo.queue_change("01-faster.patch", "Title: Faster", "speed.txt", "0.9\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -qm queue");
  ASSERT_EQ(run_cli(repo.root, "run").exit_code, 0);
  ASSERT_EQ(run_cli(repo.root, "status").exit_code, 0);  // the index now covers the journal

  std::string journal = read_text(repo.root / "results.jsonl");
  size_t at = journal.find("{\"asi\"");
  ASSERT_NE(at, std::string::npos) << journal;
  std::string line = journal.substr(at, journal.find('\n', at) + 1 - at);
  size_t lines = 0;
  for (char c : journal) lines += c == '\n' ? 1 : 0;
  write_text(repo.root / "results.jsonl", journal + line);
  std::string want = "results.jsonl:" + std::to_string(lines + 1) + ": experiment 1 of session \"e2e\" appears again";

  for (const char* command : {"status", "report", "run"}) {
    CliResult r = run_cli(repo.root, command);
    EXPECT_NE(r.exit_code, 0) << command << "\n" << r.output;
    EXPECT_NE(r.output.find(want), std::string::npos) << command << "\n" << r.output;
  }
  EXPECT_EQ(read_text(repo.root / "results.jsonl"), journal + line) << "nothing was appended";
  write_text(repo.root / "results.jsonl", journal);
  EXPECT_EQ(run_cli(repo.root, "status").exit_code, 0);
}

// Unconfined (the sandbox makes the journal read-only to commands), the candidate's benchmark
// forges a record, or swaps the journal for another file. The run stops with one line naming the
// journal and appends nothing after the change; both worktrees are back at the best commit.
TEST(JournalIntegrityE2E, AJournalChangedDuringARunIsNeverAppendedTo) {
  struct Attack {
    const char* name;
    const char* prologue;  // run by the candidate's benchmark (it has `forge-marker`)
    const char* says;
  };
  for (const Attack& a :
       {Attack{"forged record", "echo '{\"type\":\"stop\"}' >> ../../../results.jsonl", "bytes where the loop left"},
        Attack{"rewritten file",
               "sed 's/\"e2e\"/\"E2E\"/' ../../../results.jsonl > x.tmp && mv -f x.tmp ../../../results.jsonl",
               "changed behind the loop's back"},
        Attack{"deleted file", "rm -f ../../../results.jsonl", "it was deleted"}}) {
    SCOPED_TRACE(a.name);
    TempDir tmp("autoresearch-journal-integrity");
    FixtureRepo repo(tmp.path(), "sandbox: off\n");
    std::string bench = read_text(repo.root / "bench.sh");
    write_text(repo.root / "bench.sh", "#!/bin/sh\n[ -f forge-marker ] && " + std::string(a.prologue) + "\n" +
                                           bench.substr(bench.find('\n') + 1));
    repo.queue_change("01-forge.patch", "Title: Forge", "forge-marker", "x\n");
    git(repo.root, "add -A");
    git(repo.root, "commit -qm forge");
    std::string start = git(repo.root, "rev-parse HEAD");

    CliResult r = run_cli(repo.root, "run");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    size_t err = r.output.find("autoresearch: error: ");
    ASSERT_NE(err, std::string::npos) << r.output;
    std::string line = r.output.substr(err);
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "not one line: " << line;
    EXPECT_NE(line.find("results.jsonl changed behind the loop's back"), std::string::npos) << line;
    EXPECT_NE(line.find(a.says), std::string::npos) << line;
    std::string journal = fs::exists(repo.root / "results.jsonl") ? read_text(repo.root / "results.jsonl") : "";
    EXPECT_EQ(journal.find("\"type\":\"experiment\""), std::string::npos) << "appended after the change:\n"
                                                                               << journal;
    for (const char* wt : {".autoresearch/wt/base", ".autoresearch/wt/cand"}) {
      EXPECT_EQ(git(repo.root / wt, "rev-parse HEAD"), start) << wt;
      EXPECT_EQ(git(repo.root / wt, "status --porcelain"), "") << wt;
    }
  }
}

// Unconfined, the candidate's benchmark deletes the whole state folder, worktrees included. The
// experiment is still recorded, the folder is recreated, and the next run goes on.
TEST(JournalIntegrityE2E, ADeletedStateFolderIsRecreatedAndTheExperimentRecorded) {
  TempDir tmp("autoresearch-journal-integrity");
  FixtureRepo repo(tmp.path(), "sandbox: off\n");
  std::string bench = read_text(repo.root / "bench.sh");
  write_text(repo.root / "bench.sh", "#!/bin/sh\n[ -f wipe-marker ] && rm -rf ../../../.autoresearch\n" +
                                         bench.substr(bench.find('\n') + 1));
  repo.queue_change("01-wipe.patch", "Title: Wipe", "wipe-marker", "x\n");
  repo.queue_change("02-faster.patch", "Title: Faster", "speed.txt", "0.8\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -qm wipe");

  CliResult r = run_cli(repo.root, "run");
  std::vector<nlohmann::json> records = repo.records();
  ASSERT_GE(records.size(), 1u) << r.output;
  EXPECT_EQ(records[0]["id"], 1);
  EXPECT_EQ(records[0]["status"], "rejected") << records[0].dump(2);
  EXPECT_NE(records[0].value("reason", "").find("tampering: a command deleted .autoresearch/"), std::string::npos)
      << records[0].dump(2);
  EXPECT_NE(r.output.find("was deleted while an experiment ran; recreated it"), std::string::npos) << r.output;
  CliResult again = run_cli(repo.root, "run");
  EXPECT_EQ(again.exit_code, 0) << r.output << again.output;
  records = repo.records();
  ASSERT_EQ(records.size(), 2u) << r.output << again.output;
  EXPECT_EQ(records[1]["status"], "keep") << records[1].dump(2);
  EXPECT_EQ(run_cli(repo.root, "status").exit_code, 0);
}

}  // namespace
}  // namespace ar::test
