// A repeated record in results.jsonl is an error naming its line (issue 10, item 5), for the
// readers and for `run`, whether or not the summary index already covers the journal's start.

#include "e2e/e2e_support.hpp"

#include <gtest/gtest.h>

namespace ar::test {
namespace {

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

}  // namespace
}  // namespace ar::test
