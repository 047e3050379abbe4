// Real harnesses as they are (issue 11), end to end through the built binary on real
// repositories: gates that run after the benchmark and read its output, patches in the working
// tree (so `git diff` in a gate sees them), harness files outside git, three-way merges of stale
// queued patches, and a session branch no worktree holds once `run` ends.

#include "e2e/e2e_support.hpp"
#include "e2e/robust_support.hpp"
#include "util/files.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>

namespace ar::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Adds a gate after the fixture's own (`check`).
void add_gate(const FixtureRepo& repo, const std::string& gate) {
  robust::edit_file(repo.root / "autoresearch.config.yaml", "    timeout: 20s\nprotected:",
                    "    timeout: 20s\n" + gate + "protected:");
}

void commit_all(const FixtureRepo& repo, const std::string& message) {
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m " + shell_quote(message));
}

class HarnessE2E : public ::testing::Test {
 protected:
  TempDir tmp{"autoresearch-harness"};
};

// score = 100 * speed.txt; every run writes its answer to out.txt (ignored, so a stale copy from
// an earlier run stays in a worktree) and notes in the trace which worktree it ran in.
// Adds to the queued patch `name` the change that makes the fixture's benchmark twice as fast
// (speed.txt 0.5), so that only a gate can stop it.
void make_faster_too(FixtureRepo& repo, const std::string& name) {
  const fs::path queued = repo.root / "experiments" / name;
  const std::string text = read_text(queued);
  repo.queue_change("faster.tmp", "Title: x", "speed.txt", "0.5\n");
  const std::string speed = read_text(repo.root / "experiments" / "faster.tmp");
  fs::remove(repo.root / "experiments" / "faster.tmp");
  write_text(queued, text + speed.substr(speed.find("diff --git")));
}

std::string output_bench(const fs::path& trace) {
  return "#!/bin/sh\n"
         "echo \"bench $(basename \"$PWD\")\" >> " + shell_quote(trace.string()) + "\n"
         "echo \"result $(cat answer.txt)\" > out.txt\n"
         "echo \"METRIC score=$(awk '{print 100*$1}' speed.txt)\"\n";
}

std::string output_gate(const fs::path& trace) {
  return "#!/bin/sh\n"
         "if grep -qx 'result 42' out.txt; then echo 'gate ok' >> " + shell_quote(trace.string()) + "; exit 0; fi\n"
         "echo 'gate fail' >> " + shell_quote(trace.string()) + "\n"
         "echo \"wrong answer: $(cat out.txt)\" >&2; exit 1\n";
}

// Runs a session with a gate `after: benchmark` that checks the benchmark's output; returns the
// trace of benchmark runs and gate runs.
std::string run_output_gate_session(const fs::path& dir, int warmup) {
  const fs::path trace = dir / "trace";
  FixtureRepo repo(dir);
  add_gate(repo,
                       "  - name: output\n"
                       "    command: gates/output.sh\n"
                       "    after: benchmark\n");
  robust::edit_file(repo.root / "autoresearch.config.yaml", "  warmup: 0\n", fmt::format("  warmup: {}\n", warmup));
  robust::write_script(repo.root / "bench.sh", output_bench(trace));
  robust::write_script(repo.root / "gates" / "output.sh", output_gate(trace));
  write_text(repo.root / "answer.txt", "42\n");
  write_text(repo.root / ".gitignore", "out.txt\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m 'benchmark writes its answer'");
  // The dry run runs the gate after a benchmark run too (before one, out.txt would not exist).
  CliResult dry = run_cli(repo.root, "run --dry-run");
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("gate output (after the benchmark): ok"), std::string::npos) << dry.output;
  fs::remove(trace);

  repo.queue_change("01-broken.patch", "Title: Faster but wrong", "answer.txt", "41\n");
  // The same patch also makes it faster: a wrong answer must not be kept for its speed.
  make_faster_too(repo, "01-broken.patch");
  repo.queue_change("02-good.patch", "Title: Faster and right", "speed.txt", "0.5\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m 'queue'");
  CliResult run = run_cli(repo.root, "run");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> r = repo.records();
  EXPECT_EQ(r.size(), 2u) << run.output;
  if (r.size() != 2) return "";
  EXPECT_EQ(r[0]["status"], "checks_failed") << r[0].dump();
  EXPECT_NE(r[0]["reason"].get<std::string>().find("gate output (after the benchmark) failed"), std::string::npos)
      << r[0].dump();
  EXPECT_FALSE(r[0].contains("commit")) << r[0].dump();
  EXPECT_EQ(r[1]["status"], "keep") << r[1].dump();
  bool gate_listed = false;
  for (const json& g : r[1]["gates"]) gate_listed = gate_listed || g["name"] == "output";
  EXPECT_TRUE(gate_listed) << r[1].dump();
  std::string out = read_text(trace);
  // finalize gates the review branch the same way: a benchmark run, then the gate.
  CliResult fin = run_cli(repo.root, "finalize");
  EXPECT_EQ(fin.exit_code, 0) << fin.output;
  EXPECT_EQ(read_text(trace).substr(out.size()), "bench base\ngate ok\n");
  return out;
}

TEST_F(HarnessE2E, GateAfterTheBenchmarkReadsTheCandidatesOutputAfterItsWarmupRun) {
  std::string trace = run_output_gate_session(tmp.path(), 1);
  // Experiment 1: the warm-up pair, then the gate fails; nothing more is run for it. Experiment 2:
  // the warm-up pair, the gate, then the measured pairs (benchmark runs only).
  const std::string start = "bench base\nbench cand\ngate fail\nbench base\nbench cand\ngate ok\n";
  ASSERT_EQ(trace.substr(0, start.size()), start) << trace;
  std::string rest = trace.substr(start.size());
  EXPECT_EQ(rest.find("gate"), std::string::npos) << trace;
  EXPECT_NE(rest.find("bench cand"), std::string::npos) << trace;
}

TEST_F(HarnessE2E, GateAfterTheBenchmarkWithoutWarmupGetsOneCandidateRunOfItsOwn) {
  std::string trace = run_output_gate_session(tmp.path(), 0);
  const std::string start = "bench cand\ngate fail\nbench cand\ngate ok\n";
  ASSERT_EQ(trace.substr(0, start.size()), start) << trace;
  EXPECT_EQ(trace.substr(start.size()).find("gate"), std::string::npos) << trace;
}

// ---- patches in the working tree --------------------------------------------------------------

TEST_F(HarnessE2E, DriftCheckGateSeesThePatchAndAKeepCommitsNewFiles) {
  FixtureRepo repo(tmp.path());
  add_gate(repo,
           "  - name: drift\n"
           "    command: git diff --quiet -- deps.lock\n");
  write_text(repo.root / "deps.lock", "libfoo 1.0\n");
  commit_all(repo, "lock file");
  // 01 bumps a dependency (and is faster): the drift check must see it. 02 is faster through a
  // new file: kept, and the new file is in the kept commit.
  repo.queue_change("01-bump.patch", "Title: Bump libfoo", "deps.lock", "libfoo 2.0\n");
  make_faster_too(repo, "01-bump.patch");
  repo.queue_change("02-new-file.patch", "Title: Faster with a note", "notes/new.txt", "fast\n");
  make_faster_too(repo, "02-new-file.patch");
  commit_all(repo, "queue");
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 2u) << run.output;
  EXPECT_EQ(r[0]["status"], "checks_failed") << r[0].dump();
  EXPECT_NE(r[0]["reason"].get<std::string>().find("gate drift failed"), std::string::npos) << r[0].dump();
  ASSERT_EQ(r[1]["status"], "keep") << r[1].dump();
  const std::string commit = r[1]["commit"];
  EXPECT_EQ(git(repo.root, "show " + commit + ":notes/new.txt"), "fast");
  EXPECT_EQ(git(repo.root, "show " + commit + ":speed.txt"), "0.5");
  EXPECT_EQ(git(repo.root, "diff --name-status " + commit + "^ " + commit), "A\tnotes/new.txt\nM\tspeed.txt");
  // Both worktrees are clean at the kept commit afterwards.
  for (const char* side : {"cand", "base"}) {
    fs::path wt = repo.root / ".autoresearch" / "wt" / side;
    EXPECT_EQ(git(wt, "status --porcelain"), "") << side;
    EXPECT_EQ(git(wt, "rev-parse HEAD"), commit) << side;
  }
}

TEST_F(HarnessE2E, AGateThatEditsAFileThePatchAddedIsTampering) {
  FixtureRepo repo(tmp.path());
  add_gate(repo,
           "  - name: sneaky\n"
           "    command: echo more >> notes/new.txt\n");
  repo.queue_change("01-new-file.patch", "Title: A note", "notes/new.txt", "fast\n");
  commit_all(repo, "queue");
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 1u) << run.output;
  EXPECT_EQ(r[0]["status"], "rejected") << r[0].dump();
  EXPECT_EQ(r[0]["reason"], "tampering: gate sneaky changed notes/new.txt in the candidate worktree while it ran")
      << r[0].dump();
  EXPECT_EQ(git(repo.root / ".autoresearch" / "wt" / "cand", "status --porcelain"), "");
}

// ---- harness files outside git ----------------------------------------------------------------

TEST_F(HarnessE2E, IgnoredHarnessScriptIsCopiedFingerprintedProtectedAndFollowed) {
  FixtureRepo repo(tmp.path(),
                   "harness: [.auto/measure.sh]\n"
                   "sandbox: off\n"
                   "hooks:\n"
                   "  after:\n"
                   "    command: sed -i s/FACTOR=100/FACTOR=200/ .auto/measure.sh\n");
  robust::edit_file(repo.root / "autoresearch.config.yaml", "./bench.sh\n", "sh .auto/measure.sh\n");
  write_text(repo.root / ".gitignore", ".auto/\n");
  commit_all(repo, "the harness is ignored");
  const fs::path script = repo.root / ".auto" / "measure.sh";

  // Missing: a one-line error naming the config line.
  CliResult missing = run_cli(repo.root, "run --dry-run");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  const std::string config = read_text(repo.root / "autoresearch.config.yaml");
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(
                                   config.begin(), config.begin() + static_cast<std::ptrdiff_t>(config.find("harness:")), '\n'));
  EXPECT_NE(missing.output.find(fmt::format("autoresearch.config.yaml:{}: harness[0]: .auto/measure.sh does not exist",
                                            line)),
            std::string::npos)
      << missing.output;

  robust::write_script(script, "#!/bin/sh\nFACTOR=100\necho \"METRIC score=$(awk -v f=$FACTOR '{print f*$1}' speed.txt)\"\n");
  EXPECT_EQ(git(repo.root, "status --porcelain"), "") << "the harness script is ignored";
  repo.queue_change("01-faster.patch", "Title: Twice as fast", "speed.txt", "0.5\n");
  // Written against experiment 1's result: speed.txt halved again.
  write_text(repo.root / "experiments" / "02-faster.patch",
             "Title: Twice as fast again\n\n"
             "diff --git a/speed.txt b/speed.txt\n--- a/speed.txt\n+++ b/speed.txt\n@@ -1 +1 @@\n-0.5\n+0.25\n");
  repo.queue_raw("03-edit-harness.patch",
                 "Title: Measure less\n\n"
                 "diff --git a/.auto/measure.sh b/.auto/measure.sh\nnew file mode 100755\n--- /dev/null\n"
                 "+++ b/.auto/measure.sh\n@@ -0,0 +1 @@\n+echo METRIC score=1\n");
  commit_all(repo, "queue");

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 3u) << run.output;
  // Both sides measured with the copied script.
  ASSERT_EQ(r[0]["status"], "keep") << r[0].dump();
  EXPECT_EQ(r[0]["metric"]["base_median"], 100.0) << r[0].dump();
  EXPECT_EQ(r[0]["metric"]["candidate_median"], 50.0) << r[0].dump();
  // The after hook changed the script in the checkout: experiment 2 measured both sides with the
  // new one (FACTOR=200), and said so.
  ASSERT_EQ(r[1]["status"], "keep") << r[1].dump();
  EXPECT_EQ(r[1]["metric"]["base_median"], 100.0) << r[1].dump();
  EXPECT_EQ(r[1]["metric"]["candidate_median"], 50.0) << r[1].dump();
  EXPECT_NE(run.output.find("harness file .auto/measure.sh changed in the checkout"), std::string::npos) << run.output;
  // A patch may not touch it.
  EXPECT_EQ(r[2]["status"], "rejected") << r[2].dump();
  EXPECT_NE(r[2]["reason"].get<std::string>().find(".auto/measure.sh (a harness file"), std::string::npos) << r[2].dump();

  // The journal headers carry its fingerprint: one segment per version of the script.
  std::vector<std::string> prints;
  for (const json& j : robust::journal_lines(repo.root)) {
    if (j.value("type", "") == "header") prints.push_back(j["harness"][".auto/measure.sh"].get<std::string>());
  }
  ASSERT_EQ(prints.size(), 2u);
  EXPECT_NE(prints[0], prints[1]);
  EXPECT_EQ(prints[1], util::sha256_hex(read_text(script)));
  // The worktrees still have it, untouched by the resets between experiments.
  for (const char* side : {"cand", "base"}) {
    EXPECT_EQ(read_text(repo.root / ".autoresearch" / "wt" / side / ".auto" / "measure.sh"), read_text(script)) << side;
  }
}

TEST_F(HarnessE2E, ATrackedFileIsNoHarnessFile) {
  FixtureRepo repo(tmp.path(), "harness:\n  - bench.sh\n");
  CliResult run = run_cli(repo.root, "run --dry-run");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("harness[0]: bench.sh is tracked by git at "), std::string::npos) << run.output;
  EXPECT_EQ(git(repo.root, "branch --list 'autoresearch/*'"), "") << "the dry run left nothing";
}

TEST_F(HarnessE2E, ABenchmarkThatNamesTheCheckoutIsWarnedAbout) {
  FixtureRepo repo(tmp.path());
  const std::string root = fs::canonical(repo.root).string();
  robust::edit_file(repo.root / "autoresearch.config.yaml", "./bench.sh\n", shell_quote(root) + "/bench.sh\n");
  CliResult run = run_cli(repo.root, "run --dry-run");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("warning: benchmark.command names the checkout (" + root + ")"), std::string::npos)
      << run.output;
  robust::edit_file(repo.root / "autoresearch.config.yaml", shell_quote(root) + "/bench.sh\n", "./bench.sh\n");
  CliResult clean = run_cli(repo.root, "run --dry-run");
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_EQ(clean.output.find("names the checkout"), std::string::npos) << clean.output;
}

TEST_F(HarnessE2E, AnUntrackedHarnessFileIsNeverPartOfAProposal) {
  const fs::path propose = tmp.path() / "propose.sh";
  robust::write_script(propose,
                       "#!/bin/sh\n"
                       "echo 0.5 > speed.txt\n"
                       "printf '{\"title\": \"Halve speed\"}' > \"$AUTORESEARCH_PROPOSAL\"\n");
  FixtureRepo repo(tmp.path(),
                   "harness: [measure.sh]\n"
                   "sources:\n"
                   "  proposer:\n"
                   "    command: " + shell_quote(propose.string()) + "\n"
                   "limits:\n"
                   "  max_experiments: 1\n");
  robust::edit_file(repo.root / "autoresearch.config.yaml", "./bench.sh\n", "sh measure.sh\n");
  commit_all(repo, "measure with an untracked script");
  // Untracked and not ignored: the proposer's worktree shows it as a new file.
  robust::write_script(repo.root / "measure.sh", "#!/bin/sh\necho \"METRIC score=$(awk '{print 100*$1}' speed.txt)\"\n");
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 1u) << run.output;
  EXPECT_EQ(r[0]["status"], "keep") << r[0].dump();
  EXPECT_EQ(r[0]["files"], json::array({"speed.txt"})) << r[0].dump();
  EXPECT_EQ(git(repo.root, "ls-tree --name-only -r " + r[0]["commit"].get<std::string>()).find("measure.sh"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(repo.root / ".autoresearch" / "wt" / "cand" / "measure.sh"));
}

// ---- stale queued patches: three-way merge ----------------------------------------------------

TEST_F(HarnessE2E, StalePatchesAreMergedThreeWayAndARealConflictNamesTheFile) {
  FixtureRepo repo(tmp.path());
  std::string lines;
  for (int i = 1; i <= 14; ++i) lines += fmt::format("k{}=1\n", i);
  write_text(repo.root / "knobs.txt", lines);
  robust::write_script(repo.root / "bench.sh",
                       "#!/bin/sh\n"
                       "awk -F= 'NR==6{a=$2} NR==9{b=$2} END{print \"METRIC score=\" 100*a*b}' knobs.txt\n");
  commit_all(repo, "knobs");
  auto with_line = [&](int n, const std::string& value) {
    std::string out;
    for (int i = 1; i <= 14; ++i) out += fmt::format("k{}={}\n", i, i == n ? value : "1");
    return out;
  };
  // All three written against the start commit. 02's context overlaps 01's change, so it no
  // longer applies once 01 is kept; 03 changes the very line 01 changed.
  repo.queue_change("01-k6.patch", "Title: Halve k6", "knobs.txt", with_line(6, "0.5"));
  repo.queue_change("02-k9.patch", "Title: Halve k9", "knobs.txt", with_line(9, "0.5"));
  repo.queue_change("03-k6-again.patch", "Title: k6 at 0.8", "knobs.txt", with_line(6, "0.8"));
  commit_all(repo, "queue");
  const std::string start = git(repo.root, "rev-parse HEAD");  // where the session starts

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 3u) << run.output;
  ASSERT_EQ(r[0]["status"], "keep") << r[0].dump();
  EXPECT_FALSE(r[0].contains("merged_from")) << r[0].dump();
  ASSERT_EQ(r[1]["status"], "keep") << r[1].dump();
  EXPECT_EQ(r[1]["merged_from"], start) << r[1].dump();
  EXPECT_EQ(r[1]["metric"]["base_median"], 50.0) << r[1].dump();
  EXPECT_EQ(r[1]["metric"]["candidate_median"], 25.0) << r[1].dump();
  EXPECT_EQ(git(repo.root, "show autoresearch/e2e:knobs.txt"),
            [&] {
              std::string out;
              for (int i = 1; i <= 14; ++i) out += fmt::format("k{}={}\n", i, i == 6 || i == 9 ? "0.5" : "1");
              out.pop_back();
              return out;
            }());
  EXPECT_EQ(r[2]["status"], "apply_failed") << r[2].dump();
  EXPECT_NE(r[2]["reason"].get<std::string>().find("conflict in knobs.txt"), std::string::npos) << r[2].dump();
}

// ---- the session branch is free once run ends -------------------------------------------------

TEST_F(HarnessE2E, AfterRunTheUserCanCheckOutTheSessionBranchAndTheNextRunTakesItBack) {
  FixtureRepo repo(tmp.path());
  repo.queue_change("01-faster.patch", "Title: Faster", "speed.txt", "0.5\n");
  commit_all(repo, "queue");
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_EQ(repo.records().size(), 1u) << run.output;
  const std::string tip = git(repo.root, "rev-parse autoresearch/e2e");
  EXPECT_EQ(git(repo.root / ".autoresearch" / "wt" / "cand", "rev-parse HEAD"), tip);

  // The user looks at the result in their checkout.
  git(repo.root, "checkout -q autoresearch/e2e");
  EXPECT_EQ(read_text(repo.root / "speed.txt"), "0.5\n");
  // While they hold it, a run says what to do instead of failing obscurely.
  repo.queue_change("02-slower.patch", "Title: Slower", "slow.txt", "2.0\n");
  CliResult held = run_cli(repo.root, "run");
  EXPECT_NE(held.exit_code, 0) << held.output;
  EXPECT_NE(held.output.find("branch autoresearch/e2e is checked out in another worktree"), std::string::npos)
      << held.output;

  git(repo.root, "checkout -q main");
  fs::remove(repo.root / "experiments" / "02-slower.patch");
  repo.queue_change("02-slower.patch", "Title: Slower", "slow.txt", "2.0\n");
  git(repo.root, "add experiments");
  git(repo.root, "commit -q -m 'queue more'");
  CliResult again = run_cli(repo.root, "run");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  std::vector<json> r = repo.records();
  ASSERT_EQ(r.size(), 2u) << again.output;
  EXPECT_EQ(r[1]["status"], "discard") << r[1].dump();
  // Released again: the branch can be checked out, and it still ends at the kept commit.
  git(repo.root, "checkout -q autoresearch/e2e");
  EXPECT_EQ(git(repo.root, "rev-parse HEAD"), tip);
  git(repo.root, "checkout -q main");
}

}  // namespace
}  // namespace ar::test
