// The first hour of a new user (issue 11), end to end through the built binary on real
// repositories: the METRIC stream (carriage returns, warnings once per experiment per line, kept
// in a crash's record, metric.repeat), `status` after a kill -9, a dry run that leaves nothing,
// empty-file patches, duplicates by the normalised diff for every source, and `clean`.

#include "e2e/e2e_support.hpp"
#include "e2e/robust_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <csignal>

#include <fmt/format.h>

namespace ar::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

class FirstHourE2E : public ::testing::Test {
 protected:
  TempDir tmp{"autoresearch-firsthour"};

  // The fixture repository with a deterministic benchmark of its own (`bench`, a sh script; the
  // fixture's config runs ./bench.sh) and `extra` added to the config.
  FixtureRepo make_repo(const std::string& bench, const std::string& extra = "") {
    FixtureRepo repo(tmp.path(), extra);
    robust::write_script(repo.root / "bench.sh", bench);
    git(repo.root, "add -A");
    git(repo.root, "commit -q -m 'deterministic benchmark'");
    return repo;
  }

  static void commit_queue(const FixtureRepo& repo) {
    git(repo.root, "add -A");
    git(repo.root, "commit -q -m 'queue patches'");
  }

  // A session of the one queued change speed.txt 1.0 -> 0.5 with `bench`: its output and its record.
  struct OneRun {
    CliResult run;
    json record;
  };
  OneRun run_twice_as_fast(const std::string& bench) {
    FixtureRepo repo = make_repo(bench);
    repo.queue_change("01-faster.patch", "Title: Twice as fast", "speed.txt", "0.5\n");
    commit_queue(repo);
    OneRun out{run_cli(repo.root, "run"), json::object()};
    std::vector<json> r = repo.records();
    EXPECT_EQ(out.run.exit_code, 0) << out.run.output;
    EXPECT_EQ(r.size(), 1u) << out.run.output;
    if (r.size() == 1) out.record = r[0];
    return out;
  }

  static std::string branches(const FixtureRepo& repo) {
    return git(repo.root, "for-each-ref --format='%(refname:short)' refs/heads/autoresearch/");
  }
  static std::size_t worktrees(const FixtureRepo& repo) {
    return count_of(git(repo.root, "worktree list --porcelain"), "worktree ");
  }
};

// score = 100 * speed.txt, exactly; crash.txt makes the benchmark fail after its output.
const char* const k_bench =
    "#!/bin/sh\n"
    "v=$(awk '{print 100*$1}' speed.txt)\n"
    "printf 'working 10%%\\rworking 100%%\\rMETRIC score=%s\\n' \"$v\"\n"
    "echo 'METRIC bad=0x1F'\n"
    "echo 'METRIC late=12ms'\n"
    "if [ -f crash.txt ]; then echo 'METRIC crashed=soon!'; exit 3; fi\n";

TEST_F(FirstHourE2E, MetricAfterACarriageReturnCountsAndEachBadLineIsWarnedOncePerExperiment) {
  FixtureRepo repo = make_repo(k_bench);
  repo.queue_change("01-faster.patch", "Title: Twice as fast", "speed.txt", "0.5\n");
  repo.queue_change("02-crash.patch", "Title: Crash", "crash.txt", "boom\n");
  commit_queue(repo);

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 2u) << run.output;

  // The only score line follows two '\r' on its line: without them read as breaks, every run
  // would miss its primary metric and crash.
  ASSERT_EQ(r[0]["status"], "keep") << r[0].dump();
  EXPECT_EQ(r[0]["metric"]["base_median"], 100.0) << r[0].dump();
  EXPECT_EQ(r[0]["metric"]["candidate_median"], 50.0) << r[0].dump();
  // Every run printed the same two bad lines: one warning each for the experiment, however many
  // runs it took.
  ASSERT_GE(r[0]["pairs"].get<int>(), 2) << r[0].dump();
  ASSERT_EQ(r[0]["warnings"].size(), 2u) << r[0].dump();
  EXPECT_NE(r[0]["warnings"][0].get<std::string>().find("\"METRIC bad=0x1F\": hex numbers are not accepted"),
            std::string::npos)
      << r[0].dump();
  EXPECT_NE(r[0]["warnings"][1].get<std::string>().find("\"METRIC late=12ms\": trailing text \"ms\""),
            std::string::npos)
      << r[0].dump();
  EXPECT_EQ(count_of(run.output, "warning: experiment 1: "), 2u) << run.output;

  // A crash keeps the warnings of its runs, its own last words included.
  EXPECT_EQ(r[1]["status"], "crash") << r[1].dump();
  ASSERT_TRUE(r[1].contains("warnings")) << r[1].dump();
  std::string warnings = r[1]["warnings"].dump();
  EXPECT_NE(warnings.find("METRIC crashed=soon!"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("METRIC bad=0x1F"), std::string::npos) << warnings;
  EXPECT_EQ(count_of(run.output, "warning: experiment 2: "), r[1]["warnings"].size()) << run.output;
}

// Two bad lines whose numbers change every run, as a measured value with a unit does.
const char* const k_varying =
    "#!/bin/sh\n"
    "echo \"METRIC score=$(awk '{print 100*$1}' speed.txt)\"\n"
    "awk -v s=$$ 'BEGIN{srand(s); printf \"METRIC p50=%.3fms\\nMETRIC p99=%.3fms\\n\", 10+rand(), 20+rand()}'\n";

TEST_F(FirstHourE2E, ABadLineWhoseNumberChangesEveryRunIsWarnedOncePerExperiment) {
  auto [run, r] = run_twice_as_fast(k_varying);
  ASSERT_GE(r.value("pairs", 0), 2) << r.dump();
  // One warning for each of the two lines of the script, not one per run; the numbers differ.
  ASSERT_EQ(r["warnings"].size(), 2u) << r.dump();
  EXPECT_NE(r["warnings"][0].get<std::string>().find("rejected METRIC line \"METRIC p50="), std::string::npos)
      << r.dump();
  EXPECT_NE(r["warnings"][1].get<std::string>().find("rejected METRIC line \"METRIC p99="), std::string::npos)
      << r.dump();
  EXPECT_EQ(count_of(run.output, "warning: experiment 1: "), 2u) << run.output;
}

// Every run prints score twice: a bogus 1000 first, then the real value.
const char* const k_twice =
    "#!/bin/sh\n"
    "echo 'METRIC score=1000'\n"
    "echo \"METRIC score=$(awk '{print 100*$1}' speed.txt)\"\n";

TEST_F(FirstHourE2E, RepeatedNameIsTheMedianByDefault) {
  json r = run_twice_as_fast(k_twice).record;
  EXPECT_EQ(r["metric"]["base_median"], 550.0) << r.dump();
  EXPECT_EQ(r["metric"]["candidate_median"], 525.0) << r.dump();
}

TEST_F(FirstHourE2E, RepeatLastKeepsTheLastValueAndABadChoiceIsAConfigError) {
  FixtureRepo repo = make_repo(k_twice);
  robust::edit_file(repo.root / "autoresearch.config.yaml", "  name: score\n", "  name: score\n  repeat: mean\n");
  CliResult bad = run_cli(repo.root, "run --dry-run");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  std::string text = read_text(repo.root / "autoresearch.config.yaml");
  std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(text.find("  repeat: mean")), '\n'));
  EXPECT_NE(bad.output.find("autoresearch.config.yaml:" + std::to_string(line) + ": "), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("repeat: expected median or last, got \"mean\""), std::string::npos) << bad.output;

  robust::edit_file(repo.root / "autoresearch.config.yaml", "repeat: mean", "repeat: last");
  repo.queue_change("01-faster.patch", "Title: Twice as fast", "speed.txt", "0.5\n");
  commit_queue(repo);
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 1u) << run.output;
  EXPECT_EQ(r[0]["status"], "keep") << r[0].dump();
  EXPECT_EQ(r[0]["metric"]["base_median"], 100.0) << r[0].dump();
  EXPECT_EQ(r[0]["metric"]["candidate_median"], 50.0) << r[0].dump();
}

// The candidate of a patch that adds sleep.txt takes 20 s a run: long enough to look at it.
const char* const k_sleepy =
    "#!/bin/sh\n"
    "if [ -f sleep.txt ]; then sleep 20; fi\n"
    "echo \"METRIC score=$(awk '{print 100*$1}' speed.txt)\"\n";

TEST_F(FirstHourE2E, StatusAfterKillNineSaysTheRunIsDeadEvenBeforeItIsReaped) {
  FixtureRepo repo = make_repo(k_sleepy);
  repo.queue_change("01-sleepy.patch", "Title: Sleepy", "sleep.txt", "zzz\n");
  commit_queue(repo);
  robust::Child child = robust::start(repo.root, {"run"}, tmp / "run.log");
  ASSERT_TRUE(robust::wait_until([&] { return robust::at_stage(repo.root, 1, "measure"); }, 60s)) << child.output();

  CliResult live = run_cli(repo.root, "status");
  EXPECT_EQ(live.exit_code, 0) << live.output;
  EXPECT_NE(live.output.find("running: pid " + std::to_string(child.pid)), std::string::npos) << live.output;

  ASSERT_EQ(::kill(child.pid, SIGKILL), 0);
  // Not reaped yet: the pid still answers kill(pid, 0) as a zombie; only the lock tells.
  ASSERT_TRUE(robust::wait_until(
      [&] {
        std::string stat = read_text("/proc/" + std::to_string(child.pid) + "/stat");
        return stat.find(") Z ") != std::string::npos;
      },
      10s));
  CliResult dead = run_cli(repo.root, "status");
  EXPECT_EQ(dead.exit_code, 0) << dead.output;
  EXPECT_EQ(dead.output.find("running: pid"), std::string::npos) << dead.output;
  EXPECT_NE(dead.output.find("not running: the run started"), std::string::npos) << dead.output;
  EXPECT_NE(dead.output.find("(pid " + std::to_string(child.pid) + ") stopped without finishing during #1 Sleepy"),
            std::string::npos)
      << dead.output;
  CliResult as_json = run_cli(repo.root, "status --json");
  ASSERT_EQ(as_json.exit_code, 0) << as_json.output;
  json s = json::parse(as_json.output);
  EXPECT_EQ(s["running"], false) << as_json.output;
  EXPECT_EQ(s["dead_run"]["pid"], child.pid) << as_json.output;
  robust::Ended end = robust::finish(child, 10s);
  EXPECT_EQ(end.signal, SIGKILL) << end.describe();
}

TEST_F(FirstHourE2E, DryRunLeavesNoBranchNoWorktreesNoJournalNoState) {
  FixtureRepo repo = make_repo(k_twice);
  CliResult dry = run_cli(repo.root, "run --dry-run");
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("METRIC score: median 550"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("nothing was recorded; the branch autoresearch/e2e, the worktrees and .autoresearch/ it "
                            "had to create were removed"),
            std::string::npos)
      << dry.output;
  EXPECT_EQ(branches(repo), "");
  EXPECT_EQ(worktrees(repo), 1u) << git(repo.root, "worktree list");
  EXPECT_FALSE(fs::exists(repo.root / "results.jsonl"));
  EXPECT_FALSE(fs::exists(repo.root / ".autoresearch"));
  EXPECT_EQ(git(repo.root, "status --porcelain --untracked-files=all"), "");
}

TEST_F(FirstHourE2E, FailedDryRunKeepsOnlyTheRunLogItNames) {
  FixtureRepo repo = make_repo(k_bench);
  write_text(repo.root / "crash.txt", "boom\n");
  commit_queue(repo);
  CliResult dry = run_cli(repo.root, "run --dry-run");
  ASSERT_EQ(dry.exit_code, 1) << dry.output;
  EXPECT_NE(dry.output.find("dry run: benchmark "), std::string::npos) << dry.output;
  EXPECT_EQ(branches(repo), "");
  EXPECT_EQ(worktrees(repo), 1u) << git(repo.root, "worktree list");
  EXPECT_FALSE(fs::exists(repo.root / "results.jsonl"));
  // The message points at the run log: that one file stays, nothing else.
  std::vector<fs::path> left;
  for (const auto& e : fs::recursive_directory_iterator(repo.root / ".autoresearch")) {
    if (e.is_regular_file()) left.push_back(e.path());
  }
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].parent_path().filename(), "logs");
  EXPECT_NE(dry.output.find(left[0].filename().string()), std::string::npos) << dry.output;
}

TEST_F(FirstHourE2E, DryRunAfterARunChangesNeitherBranchNorWorktreesNorJournal) {
  FixtureRepo repo = make_repo(k_twice);
  repo.queue_change("01-faster.patch", "Title: Twice as fast", "speed.txt", "0.5\n");
  commit_queue(repo);
  ASSERT_EQ(run_cli(repo.root, "run").exit_code, 0);
  std::string journal = read_text(repo.root / "results.jsonl");
  std::string tip = git(repo.root, "rev-parse autoresearch/e2e");
  std::string trees = git(repo.root, "worktree list --porcelain");

  CliResult dry = run_cli(repo.root, "run --dry-run");
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_EQ(dry.output.find("had to create"), std::string::npos) << dry.output;
  EXPECT_EQ(read_text(repo.root / "results.jsonl"), journal);
  EXPECT_EQ(git(repo.root, "rev-parse autoresearch/e2e"), tip);
  EXPECT_EQ(git(repo.root, "worktree list --porcelain"), trees);
  // And the next run goes on as if there had been no dry run.
  CliResult again = run_cli(repo.root, "run");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("resuming on autoresearch/e2e"), std::string::npos) << again.output;
}

// score = 50 when fast.txt exists (empty or not), else 100 * speed.txt.
const char* const k_fast_file =
    "#!/bin/sh\n"
    "if [ -e fast.txt ]; then echo 'METRIC score=50'; exit 0; fi\n"
    "echo \"METRIC score=$(awk '{print 100*$1}' speed.txt)\"\n";

TEST_F(FirstHourE2E, PatchesThatAddOrDeleteAnEmptyFileApply) {
  FixtureRepo repo = make_repo(k_fast_file);
  write_text(repo.root / "blank.txt", "");
  git(repo.root, "add blank.txt");
  git(repo.root, "commit -q -m 'an empty file'");
  // As git writes them: no "---"/"+++" lines, since there is no hunk.
  repo.queue_raw("01-add-empty.patch",
                 "Title: Add an empty marker file\n\n"
                 "diff --git a/fast.txt b/fast.txt\nnew file mode 100644\nindex 0000000..e69de29\n");
  repo.queue_raw("02-delete-empty.patch",
                 "Title: Delete an empty file\n\n"
                 "diff --git a/blank.txt b/blank.txt\ndeleted file mode 100644\nindex e69de29..0000000\n");
  commit_queue(repo);
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 2u) << run.output;
  EXPECT_EQ(r[0]["status"], "keep") << r[0].dump();
  EXPECT_EQ(r[0]["files"], json::array({"fast.txt"})) << r[0].dump();
  EXPECT_EQ(git(repo.root, "ls-tree --name-only autoresearch/e2e -- fast.txt"), "fast.txt");
  EXPECT_EQ(git(repo.root, "cat-file -s autoresearch/e2e:fast.txt"), "0");
  // Deleting blank.txt changes no score: measured (not refused), and not kept.
  EXPECT_TRUE(r[1]["status"] == "discard" || r[1]["status"] == "inconclusive") << r[1].dump();
  EXPECT_TRUE(r[1].contains("metric")) << r[1].dump();
  EXPECT_EQ(r[1]["files"], json::array({"blank.txt"})) << r[1].dump();
}

TEST_F(FirstHourE2E, QueuedCopyOfATriedChangeUnderANewTitleIsADuplicate) {
  FixtureRepo repo = make_repo(k_fast_file);
  repo.queue_change("01-slower.patch", "Title: Slower", "speed.txt", "1.5\n");
  std::string first = read_text(repo.root / "experiments/01-slower.patch");
  // The same change, another title and file name, and without git's `index` line.
  std::string copy = "Title: A new idea that is not new\nMechanism: reworded\n\n" + first.substr(first.find("diff --git"));
  std::size_t index = copy.find("\nindex ");
  ASSERT_NE(index, std::string::npos) << copy;
  copy.erase(index, copy.find('\n', index + 1) - index);
  repo.queue_raw("02-copy.patch", copy);
  // A different change to the same file is not a duplicate.
  repo.queue_change("03-other.patch", "Title: Slower still", "speed.txt", "1.7\n");
  commit_queue(repo);

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 3u) << run.output;
  EXPECT_EQ(r[0]["status"], "discard") << r[0].dump();
  EXPECT_EQ(r[1]["status"], "rejected") << r[1].dump();
  EXPECT_EQ(r[1]["reason"], "duplicate of experiment 1 (experiments/01-slower.patch)") << r[1].dump();
  EXPECT_FALSE(r[1].contains("metric")) << r[1].dump();
  EXPECT_EQ(r[2]["status"], "discard") << r[2].dump();
}

TEST_F(FirstHourE2E, CleanRemovesWorktreesAndStateAndKeepsBranchAndJournal) {
  FixtureRepo repo = make_repo(k_twice);
  repo.queue_change("01-faster.patch", "Title: Twice as fast", "speed.txt", "0.5\n");
  commit_queue(repo);
  ASSERT_EQ(run_cli(repo.root, "run").exit_code, 0);
  std::string journal = read_text(repo.root / "results.jsonl");
  std::string tip = git(repo.root, "rev-parse autoresearch/e2e");
  ASSERT_EQ(worktrees(repo), 3u);

  CliResult clean = run_cli(repo.root, "clean");
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_NE(clean.output.find("removed the worktrees"), std::string::npos) << clean.output;
  EXPECT_EQ(worktrees(repo), 1u) << git(repo.root, "worktree list");
  EXPECT_FALSE(fs::exists(repo.root / ".autoresearch"));
  EXPECT_EQ(git(repo.root, "rev-parse autoresearch/e2e"), tip);
  EXPECT_EQ(read_text(repo.root / "results.jsonl"), journal);
  // The branch is free to check out now, and a later run resumes the session.
  git(repo.root, "checkout -q autoresearch/e2e");
  git(repo.root, "checkout -q main");
  CliResult again = run_cli(repo.root, "run");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("resuming on autoresearch/e2e"), std::string::npos) << again.output;
}

TEST_F(FirstHourE2E, CleanDeleteBranchArchivesTheSessionSoANewRunStartsAfresh) {
  FixtureRepo repo = make_repo(k_twice);
  repo.queue_change("01-faster.patch", "Title: Twice as fast", "speed.txt", "0.5\n");
  commit_queue(repo);
  ASSERT_EQ(run_cli(repo.root, "run").exit_code, 0);
  // Another session's line stays where it is.
  std::string journal = read_text(repo.root / "results.jsonl");
  json header = json::parse(journal.substr(0, journal.find('\n')));
  ASSERT_EQ(header["type"], "header") << header.dump();
  header["session"] = "other";
  std::string other = header.dump() + "\n";
  write_text(repo.root / "results.jsonl", other + journal);
  std::size_t lines = count_of(journal, "\n");
  ASSERT_GE(lines, 3u);

  CliResult clean = run_cli(repo.root, "clean --delete-branch");
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_NE(clean.output.find("deleted the branch autoresearch/e2e"), std::string::npos) << clean.output;
  EXPECT_NE(clean.output.find(fmt::format("moved {} line(s) of session e2e", lines)), std::string::npos)
      << clean.output;
  EXPECT_EQ(branches(repo), "");
  EXPECT_EQ(read_text(repo.root / "results.jsonl"), other);
  EXPECT_EQ(read_text(repo.root / "results.e2e.jsonl"), journal);

  // Without the archive, this run would refuse: the journal had experiments of a missing branch.
  CliResult again = run_cli(repo.root, "run");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("new branch autoresearch/e2e"), std::string::npos) << again.output;
  // The queue is tried again from the start: its record is in the archive, not the journal.
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 1u) << again.output;
  EXPECT_EQ(r[0]["id"], 1);
}

TEST_F(FirstHourE2E, CleanIsRefusedWhileARunHoldsTheLock) {
  FixtureRepo repo = make_repo(k_sleepy);
  repo.queue_change("01-sleepy.patch", "Title: Sleepy", "sleep.txt", "zzz\n");
  commit_queue(repo);
  robust::Child child = robust::start(repo.root, {"run"}, tmp / "run.log");
  ASSERT_TRUE(robust::wait_until([&] { return robust::at_stage(repo.root, 1, "measure"); }, 60s)) << child.output();

  CliResult clean = run_cli(repo.root, "clean --delete-branch");
  EXPECT_EQ(clean.exit_code, 1) << clean.output;
  EXPECT_NE(clean.output.find("clean refused: another autoresearch run is active in this repository (pid " +
                              std::to_string(child.pid)),
            std::string::npos)
      << clean.output;
  EXPECT_EQ(worktrees(repo), 3u);
  EXPECT_EQ(branches(repo), "autoresearch/e2e");
  EXPECT_TRUE(robust::at_stage(repo.root, 1, "measure"));

  ::kill(child.pid, SIGINT);
  robust::Ended end = robust::finish(child, 30s);
  EXPECT_TRUE(end.exited && end.code == 130) << end.describe() << "\n" << child.output();
}

TEST_F(FirstHourE2E, ShellKeyRunsCommandsWithTheNamedShell) {
  // `source` and `[[ ]]` are bash: /bin/sh (dash on Debian) fails the command; and where /bin/sh
  // is bash, $0 still names sh, and no metric is printed.
  FixtureRepo repo = make_repo("score() { awk '{print 100*$1}' speed.txt; }\n");
  robust::edit_file(repo.root / "autoresearch.config.yaml", " ./bench.sh\n",
                    " source ./bench.sh && [[ $0 == *bash ]] && echo \"METRIC score=$(score)\"\n");
  commit_queue(repo);
  CliResult with_sh = run_cli(repo.root, "run --dry-run");
  EXPECT_EQ(with_sh.exit_code, 1) << with_sh.output;
  EXPECT_NE(with_sh.output.find("dry run: benchmark "), std::string::npos) << with_sh.output;

  write_text(repo.root / "autoresearch.config.yaml",
             read_text(repo.root / "autoresearch.config.yaml") + "shell: no-such-shell-here\n");
  CliResult typo = run_cli(repo.root, "run --dry-run");
  EXPECT_EQ(typo.exit_code, 2) << typo.output;
  EXPECT_NE(typo.output.find("shell: \"no-such-shell-here\" not found in PATH"), std::string::npos) << typo.output;

  robust::edit_file(repo.root / "autoresearch.config.yaml", "shell: no-such-shell-here", "shell: bash");
  repo.queue_change("01-faster.patch", "Title: Twice as fast", "speed.txt", "0.5\n");
  commit_queue(repo);
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 1u) << run.output;
  EXPECT_EQ(r[0]["status"], "keep") << r[0].dump();
  EXPECT_EQ(r[0]["metric"]["candidate_median"], 50.0) << r[0].dump();
  // The journal header names it: a change of shell starts a new segment.
  std::vector<json> lines = robust::journal_lines(repo.root);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0]["config"]["shell"], "bash") << lines[0].dump();
}

}  // namespace
}  // namespace ar::test
