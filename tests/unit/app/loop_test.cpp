// The loop's decisions, driven through app::run with a FakeExecutor: no process starts. Git is
// real (a repository in a temp dir, through libgit2), so keeps and reverts are checked on the
// actual branch and worktrees.

#include "app/app.hpp"
#include "decide/schedule.hpp"
#include "git/git.hpp"
#include "support/fake_executor.hpp"
#include "support/temp_dir.hpp"
#include "util/affinity.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

namespace ar {
namespace {

namespace fs = std::filesystem;
using exec::Command;
using exec::Kind;
using nlohmann::json;
using test::FakeAnswer;
using test::FakeExecutor;
using test::read_text;
using test::shell;
using test::shell_quote;
using test::TempDir;
using test::write_text;

class Collect : public session::Progress {
 public:
  void note(const std::string& line) override { notes.push_back(line); }
  void stage(int, const std::string&, const std::string&) override {}
  void finished(const journal::ExperimentRecord& r) override { finished_ids.push_back(r.run.id); }
  std::vector<std::string> notes;
  std::vector<int> finished_ids;
};

// A diff that turns the one-line `file` from `from` into `to`.
std::string diff(const std::string& file, const std::string& from, const std::string& to) {
  return "diff --git a/" + file + " b/" + file + "\n--- a/" + file + "\n+++ b/" + file + "\n@@ -1 +1 @@\n-" + from +
         "\n+" + to + "\n";
}

// A queued patch: a header and the diff.
std::string patch(const std::string& title, const std::string& file, const std::string& from, const std::string& to) {
  return "Title: " + title + "\n\n" + diff(file, from, to);
}

class LoopTest : public ::testing::Test {
 protected:
  git::Library libgit2;
  TempDir tmp{"autoresearch-loop"};
  fs::path root = tmp.path() / "repo";
  std::shared_ptr<FakeExecutor::Log> log = std::make_shared<FakeExecutor::Log>();
  Collect progress;
  int bench_calls = 0;

  void SetUp() override {
    fs::create_directories(root);
    write_text(root / "speed.txt", "1.0\n");
    write_text(root / "ok.txt", "ok\n");
    write_config("");
    git("init -q");
    git("add -A");
    git("commit -q -m fixture");
  }

  void write_config(const std::string& extra) {
    write_text(root / "autoresearch.config.yaml",
               "session: fake\nbenchmark: {command: bench, warmup: 0, pause: 0s}\nmetric: {name: t, direction: lower}\n"
               "gates:\n  - {name: check, command: check}\ncalibration: {on_start: false}\n" +
                   extra);
  }

  void git(const std::string& args) {
    std::string out;
    int rc = shell("cd " + shell_quote(root.string()) +
                       " && GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t "
                       "git -c core.hooksPath=/dev/null " +
                       args,
                   &out);
    ASSERT_EQ(rc, 0) << args << "\n" << out;
  }
  std::string git_out(const std::string& args) {
    std::string out;
    shell("cd " + shell_quote(root.string()) + " && git " + args, &out);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  void queue(const std::string& name, const std::string& text) { write_text(root / "experiments" / name, text); }

  // The fake benchmark: 100 * speed.txt of its worktree, with a small deterministic wobble; a
  // `crash.txt` makes it exit 139. The fake gate fails unless ok.txt says ok, and times out when
  // `hang.txt` exists.
  std::map<Kind, FakeExecutor::Handler> handlers() {
    return {{Kind::benchmark,
             [this](const Command& c) {
               FakeAnswer a;
               if (fs::exists(c.cwd / "crash.txt")) {
                 a.exit_code = 139;
                 a.output = "segfault";
                 return a;
               }
               double speed = std::stod(read_text(c.cwd / "speed.txt"));
               double wobble = 0.003 * std::sin(1.7 * ++bench_calls);
               a.metrics = {{"t", 100 * speed * (1 + wobble)}};
               return a;
             }},
            {Kind::gate, [](const Command& c) {
               FakeAnswer a;
               if (fs::exists(c.cwd / "hang.txt")) a.timed_out = true;
               a.exit_code = read_text(c.cwd / "ok.txt") == "ok\n" ? 0 : 4;
               return a;
             }}};
  }

  // Runs the loop over the fake executor with `h` (default: handlers()).
  app::Summary run(std::map<Kind, FakeExecutor::Handler> h = {}) {
    if (h.empty()) h = handlers();
    app::Options o;
    o.config_path = root / "autoresearch.config.yaml";
    return app::run(o, progress, [this, &h](const app::ExecutorSetup&, util::FaultPlan&) {
      return std::make_unique<FakeExecutor>(h, log);
    });
  }

  std::vector<json> records() const {
    std::vector<json> out;
    std::ifstream in(root / "results.jsonl");
    for (std::string line; std::getline(in, line);) {
      json j = json::parse(line);
      if (j["type"] == "experiment") out.push_back(j);
    }
    return out;
  }

  std::vector<Command> calls_of(int experiment, Kind kind) const {
    std::vector<Command> out;
    for (const auto& c : log->of(kind)) {
      if (c.experiment == experiment) out.push_back(c);
    }
    return out;
  }
};

TEST_F(LoopTest, KeepsAFasterChangeAndDiscardsASlowerOne) {
  queue("01-faster.patch", patch("Ten percent faster", "speed.txt", "1.0", "0.9"));
  queue("02-slower.patch", patch("Ten percent slower", "speed.txt", "0.9", "1.0"));
  std::string start = git_out("rev-parse HEAD");
  app::Summary s = run();
  EXPECT_EQ(s.experiments, 2);
  std::vector<json> r = records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["status"], "keep") << r[0].dump(2);
  EXPECT_EQ(r[1]["status"], "discard") << r[1].dump(2);
  EXPECT_EQ(r[1]["reason"], "regression");
  // The keep is one commit on the session branch that changes speed.txt; the second experiment
  // was measured against it.
  EXPECT_EQ(git_out("rev-list autoresearch/fake ^" + start), r[0]["commit"].get<std::string>());
  EXPECT_EQ(git_out("show autoresearch/fake:speed.txt"), "0.9");
  EXPECT_EQ(r[1]["base_commit"], r[0]["commit"]);
  EXPECT_NEAR(r[0]["metric"]["effect"].get<double>(), -0.10, 0.01);
  // Two blocks (the first, then the confirmation a keep needs), each in the balanced order its
  // recorded seed gives, and every pair is in the record.
  std::vector<Command> bench = calls_of(1, Kind::benchmark);
  int pairs = r[0]["pairs"];
  ASSERT_EQ(bench.size(), static_cast<size_t>(2 * pairs));
  ASSERT_EQ(r[0]["blocks"].size(), 2u) << r[0].dump(2);
  EXPECT_EQ(r[0]["blocks"][0]["name"], "first");
  EXPECT_EQ(r[0]["blocks"][1]["name"], "confirmation");
  size_t run = 0;
  int total = 0;
  for (const json& block : r[0]["blocks"]) {
    const auto seed = block["seed"].get<std::uint64_t>();
    const int n = block["pairs"];
    total += n;
    for (int k = 1; k <= n; ++k, run += 2) {
      const auto order = decide::pair_order(seed, k);
      EXPECT_EQ(bench[run].side, order[0]) << block["name"] << " pair " << k;
      EXPECT_EQ(bench[run + 1].side, order[1]) << block["name"] << " pair " << k;
    }
  }
  EXPECT_EQ(total, pairs);
  // Both sides ran on the same CPUs, the set benchmark.cpus (auto) gives on this machine.
  const util::Pinning pinning = util::plan_pinning("auto", util::allowed_cpus());
  for (const Command& c : bench) EXPECT_EQ(c.cpus, pinning.benchmark);
  EXPECT_EQ(r[0]["cpus"]["benchmark"], util::cpu_list_text(pinning.benchmark));
  // One row per run: [block, pair, side, exit, wall, cpu s, cpu], the sides as they ran.
  ASSERT_EQ(r[0]["runs"].size(), static_cast<size_t>(2 * pairs));
  for (size_t i = 0; i < bench.size(); ++i) {
    const json& row = r[0]["runs"][i];
    ASSERT_EQ(row.size(), 7u) << row.dump();
    EXPECT_EQ(row[0], i < static_cast<size_t>(2 * r[0]["blocks"][0]["pairs"].get<int>()) ? 1 : 2) << i;
    EXPECT_EQ(row[2], bench[i].side) << i;
    EXPECT_EQ(row[3], 0) << i;
  }
  EXPECT_EQ(r[0]["metric"]["base"].size(), static_cast<size_t>(pairs));
  // The gate ran in the candidate worktree before any benchmark run of the experiment.
  ASSERT_EQ(calls_of(1, Kind::gate).size(), 1u);
  EXPECT_NE(calls_of(1, Kind::gate)[0].cwd.string().find("wt/cand"), std::string::npos);
  // Both worktrees are clean at the best commit.
  EXPECT_EQ(read_text(root / ".autoresearch/wt/base/speed.txt"), "0.9\n");
  EXPECT_EQ(read_text(root / ".autoresearch/wt/cand/speed.txt"), "0.9\n");
  EXPECT_EQ(progress.finished_ids, (std::vector<int>{1, 2}));
}

TEST_F(LoopTest, AFailedGateEndsTheExperimentBeforeAnyBenchmarkRun) {
  queue("01-break.patch", patch("Break the gate", "ok.txt", "ok", "bad"));
  run();
  std::vector<json> r = records();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["status"], "checks_failed");
  EXPECT_EQ(r[0]["reason"], "gate check failed: exit 4 after 0.0s");
  EXPECT_TRUE(calls_of(1, Kind::benchmark).empty());
  EXPECT_FALSE(r[0].contains("metric"));
  EXPECT_EQ(read_text(root / ".autoresearch/wt/cand/ok.txt"), "ok\n") << "the patch was not reverted";
}

TEST_F(LoopTest, CrashTimeoutApplyFailureAndNotAPatchAreRecordedAndTheLoopGoesOn) {
  queue("01-crash.patch",
        "Title: Crash\n\ndiff --git a/crash.txt b/crash.txt\nnew file mode 100644\n--- /dev/null\n"
        "+++ b/crash.txt\n@@ -0,0 +1 @@\n+boom\n");
  queue("02-hang.patch",
        "Title: Hang the gate\n\ndiff --git a/hang.txt b/hang.txt\nnew file mode 100644\n--- /dev/null\n"
        "+++ b/hang.txt\n@@ -0,0 +1 @@\n+zzz\n");
  queue("03-stale.patch", patch("Stale context", "speed.txt", "7.0", "0.5"));
  queue("04-prose.patch", "Title: Just words\n\nThis is not a diff.\n");
  queue("05-faster.patch", patch("Faster", "speed.txt", "1.0", "0.8"));
  run();
  std::vector<json> r = records();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0]["status"], "crash");
  EXPECT_NE(r[0]["reason"].get<std::string>().find("exit 139 on the"), std::string::npos) << r[0]["reason"];
  EXPECT_EQ(r[0]["benchmark_tail"], "segfault");
  EXPECT_EQ(r[1]["status"], "timeout");
  EXPECT_EQ(r[2]["status"], "apply_failed");
  EXPECT_EQ(r[2]["reason"].get<std::string>().rfind("patch does not apply", 0), 0u);
  EXPECT_EQ(r[3]["status"], "rejected");
  EXPECT_EQ(r[3]["reason"].get<std::string>().rfind("not a patch", 0), 0u);
  EXPECT_EQ(r[4]["status"], "keep");
  EXPECT_FALSE(fs::exists(root / ".autoresearch/wt/cand/crash.txt"));
  EXPECT_FALSE(fs::exists(root / ".autoresearch/wt/cand/hang.txt"));
}

TEST_F(LoopTest, TheSamePatchUnderAnotherNameIsADuplicate) {
  queue("01-faster.patch", patch("Faster", "speed.txt", "1.0", "0.9"));
  queue("02-again.patch", patch("Faster", "speed.txt", "1.0", "0.9"));
  run();
  std::vector<json> r = records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]["status"], "rejected");
  EXPECT_EQ(r[1]["reason"], "duplicate of experiment 1 (experiments/01-faster.patch)");
  // A second run finds nothing new: each file is tried once.
  app::Summary again = run();
  EXPECT_EQ(again.experiments, 0);
  EXPECT_EQ(again.stop_reason, "no more hypotheses (every source is done)");
}

// The one duplicate lookup holds for sweeps too, both ways: a sweep point whose edit is a tried
// queued patch's diff, and a queued patch (under a new title) that repeats a tried sweep point.
TEST_F(LoopTest, ASweepPointAndAQueuedPatchWithTheSameDiffAreDuplicatesEitherWay) {
  write_config(
      "sources:\n  sweeps:\n    - {name: speed, file: speed.txt, pattern: '^(\\S+)', values: ['1.2', '1.3']}\n");
  git("commit -qam sweeps");
  queue("01-slower.patch", patch("Slower", "speed.txt", "1.0", "1.2"));
  run();
  std::vector<json> r = records();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0]["status"], "discard") << r[0].dump(2);
  EXPECT_EQ(r[1]["source"]["kind"], "sweep") << r[1].dump(2);
  EXPECT_EQ(r[1]["status"], "rejected") << r[1].dump(2);
  EXPECT_EQ(r[1]["reason"], "duplicate of experiment 1 (experiments/01-slower.patch)") << r[1].dump(2);
  EXPECT_EQ(r[2]["source"]["kind"], "sweep") << r[2].dump(2);
  EXPECT_EQ(r[2]["status"], "discard") << r[2].dump(2);
  EXPECT_EQ(calls_of(2, Kind::benchmark).size(), 0u);

  queue("02-copy.patch", patch("A new idea that is the sweep's 1.3", "speed.txt", "1.0", "1.3"));
  run();
  r = records();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[3]["source"]["kind"], "queue") << r[3].dump(2);
  EXPECT_EQ(r[3]["status"], "rejected") << r[3].dump(2);
  EXPECT_EQ(r[3]["reason"].get<std::string>().rfind("duplicate of experiment 3 (", 0), 0u) << r[3].dump(2);
  EXPECT_EQ(calls_of(4, Kind::benchmark).size(), 0u);
}

// pi takes any finite value; here a compared metric of 0 or below is a crash naming it (README,
// "METRIC lines": effects are ratios of the two sides).
TEST_F(LoopTest, AComparedMetricOfZeroIsACrashNamingTheValue) {
  queue("01-zero.patch", patch("Infinitely fast", "speed.txt", "1.0", "0"));
  run();
  std::vector<json> r = records();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["status"], "crash") << r[0].dump(2);
  EXPECT_EQ(r[0]["reason"], "METRIC t=0 on the candidate: compared metrics must be positive") << r[0].dump(2);
}

TEST_F(LoopTest, ConsecutiveFailuresStopTheRun) {
  write_config("limits: {max_consecutive_failures: 2}\n");
  git("commit -qam limits");
  for (const char* name : {"01-a.patch", "02-b.patch", "03-c.patch"}) {
    queue(name, patch(std::string("Break ") + name, "ok.txt", "ok", std::string("bad ") + name));
  }
  app::Summary s = run();
  EXPECT_EQ(s.experiments, 2);
  EXPECT_EQ(s.stop_reason, "max_consecutive_failures reached (2 in a row)");
}

TEST_F(LoopTest, PlateauSwitchesToTheNextSource) {
  write_config(
      "sources:\n  sweeps:\n    - {name: speed, file: speed.txt, pattern: '^(\\S+)', values: ['0.5']}\n"
      "limits: {plateau: 2, on_plateau: next_source}\n");
  git("commit -qam sweeps");
  queue("01-slower.patch", patch("Slower", "speed.txt", "1.0", "1.2"));
  queue("02-slower.patch", patch("Slower still", "speed.txt", "1.0", "1.3"));
  queue("03-never.patch", patch("Never tried", "speed.txt", "1.0", "1.4"));
  run();
  std::vector<json> r = records();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[2]["source"]["kind"], "sweep") << "the queue was switched off after two experiments without a keep";
  EXPECT_EQ(r[2]["status"], "keep");
  EXPECT_EQ(r[2]["asi"]["from"], "1.0");
}

TEST_F(LoopTest, AnExperimentALostRunLeftUnfinishedIsRecordedOnceAndRetried) {
  queue("01-faster.patch", patch("Faster", "speed.txt", "1.0", "0.9"));
  // What a run killed at the third pair of experiment 1 leaves in its state file.
  fs::create_directories(root / ".autoresearch");
  std::string sha;
  {
    // The identity the queue gives the file (sha256 of its bytes).
    std::string out;
    shell("sha256sum " + shell_quote((root / "experiments/01-faster.patch").string()), &out);
    sha = out.substr(0, 64);
  }
  json state = {{"pid", 999999999},
                {"token", ""},
                {"session", "fake"},
                {"experiment",
                 {{"id", 1},
                  {"title", "Faster"},
                  {"source", {{"kind", "queue"}, {"file", "experiments/01-faster.patch"}}},
                  {"patch_sha256", sha},
                  {"key", sha},
                  {"stage", "pair 3/12"},
                  {"started_at", "x"}}}};
  write_text(root / ".autoresearch/state.json", state.dump());
  run();
  std::vector<json> r = records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["status"], "interrupted");
  EXPECT_EQ(r[0]["reason"], "found unfinished at stage \"pair 3/12\" (the previous run stopped)");
  EXPECT_EQ(r[1]["status"], "keep") << "the interrupted hypothesis is tried again once";
  EXPECT_EQ(r[1]["id"], 2);
  // Recorded once: a further run adds nothing.
  run();
  EXPECT_EQ(records().size(), 2u);
}

// The base is walked only before a keep, against its last trusted state: a change that a
// discarded experiment's benchmark made to the base is still caught before it can help a keep.
TEST_F(LoopTest, ABaseChangedDuringADiscardedExperimentBlocksTheNextKeep) {
  write_text(root / "notes.txt", "notes\n");
  git("add notes.txt");
  git("commit -qm notes");
  queue("01-evil.patch",
        "Title: Slower, and scribbles on the base\n\ndiff --git a/evil.txt b/evil.txt\nnew file mode "
        "100644\n--- /dev/null\n+++ b/evil.txt\n@@ -0,0 +1 @@\n+x\n" +
            diff("speed.txt", "1.0", "1.3"));
  queue("02-faster.patch", patch("Faster", "speed.txt", "1.0", "0.8"));
  auto h = handlers();
  auto bench = h[Kind::benchmark];
  h[Kind::benchmark] = [bench](const Command& c) {
    if (fs::exists(c.cwd / "evil.txt")) write_text(c.cwd.parent_path() / "base" / "notes.txt", "tampered\n");
    return bench(c);
  };
  run(h);
  std::vector<json> r = records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["status"], "discard") << r[0].dump(2);
  EXPECT_EQ(r[1]["status"], "rejected") << r[1].dump(2);
  EXPECT_EQ(r[1]["reason"], "tampering: the benchmark changed notes.txt in the base worktree while it ran");
  EXPECT_EQ(read_text(root / ".autoresearch/wt/base/notes.txt"), "notes\n") << "the base was restored";
  EXPECT_EQ(git_out("rev-parse autoresearch/fake"), git_out("rev-parse HEAD")) << "nothing was kept";
}

// A config edit that protects one more file is no tampering: the base's trusted state is taken
// again with the new globs.
TEST_F(LoopTest, ProtectingAFileMidRunIsNotTakenForTampering) {
  queue("01-slower.patch", patch("Slower", "speed.txt", "1.0", "1.3"));
  queue("02-faster.patch", patch("Faster", "speed.txt", "1.0", "0.8"));
  auto h = handlers();
  auto bench = h[Kind::benchmark];
  h[Kind::benchmark] = [this, bench](const Command& c) {
    if (c.experiment == 1 && c.label == "pair 1 base") {
      std::string cfg = read_text(root / "autoresearch.config.yaml");
      write_text(root / "autoresearch.config.yaml", cfg + "protected: [ok.txt]\n");
    }
    return bench(c);
  };
  run(h);
  std::vector<json> r = records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["status"], "discard") << r[0].dump(2);
  EXPECT_EQ(r[1]["status"], "keep") << r[1].dump(2);
}

TEST_F(LoopTest, ABestThatMovedIsCalibratedAgainWithTheReasonRecorded) {
  write_text(root / "autoresearch.config.yaml",
             "session: fake\nbenchmark: {command: bench, warmup: 0, pause: 0s}\nmetric: {name: t, direction: lower}\n"
             "calibration: {on_start: true, pairs: 4}\n");
  git("add -A");
  git("commit -q -m calibrated");
  queue("01-twice-as-fast.patch", patch("Twice as fast", "speed.txt", "1.0", "0.5"));
  queue("02-slower.patch", patch("Slower", "speed.txt", "0.5", "0.6"));
  run();
  std::vector<json> cal;
  std::ifstream in(root / "results.jsonl");
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line);
    if (j["type"] == "calibration") cal.push_back(j);
  }
  ASSERT_EQ(cal.size(), 2u) << "the start's, and one after the keep halved the level:\n"
                            << read_text(root / "results.jsonl");
  EXPECT_EQ(cal[0]["reason"], "");
  EXPECT_NE(cal[1]["reason"].get<std::string>().find("level moved -"), std::string::npos) << cal[1].dump();
  EXPECT_NE(cal[1]["reason"].get<std::string>().find("(more than 20%)"), std::string::npos) << cal[1].dump();
  EXPECT_TRUE(cal[1].contains("prior"));
  // The second experiment pooled the new calibration's noise.
  std::vector<json> r = records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["status"], "keep") << r[0].dump();
  EXPECT_DOUBLE_EQ(r[1]["noise_prior"]["sd_pair"].get<double>(), cal[1]["prior"]["sd_pair"].get<double>());
}

TEST_F(LoopTest, ABenchmarkWithoutThePrimaryMetricIsACrash) {
  queue("01-faster.patch", patch("Faster", "speed.txt", "1.0", "0.9"));
  auto h = handlers();
  h[Kind::benchmark] = [](const Command&) {
    FakeAnswer a;
    a.metrics = {{"other", 1.0}};
    return a;
  };
  run(h);
  std::vector<json> r = records();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["status"], "crash");
  // Whichever side the random order ran first crashes it.
  const std::string reason = r[0]["reason"];
  EXPECT_TRUE(reason == "benchmark printed no METRIC t on the base (best commit) (pair 1 base)" ||
              reason == "benchmark printed no METRIC t on the candidate (pair 1 candidate)")
      << reason;
}

}  // namespace
}  // namespace ar

namespace ar {
namespace {

// Records every batch the pair loop hands to the executor (one Slurm job each on a cluster).
class BatchingFake : public FakeExecutor {
 public:
  BatchingFake(std::map<Kind, Handler> h, std::shared_ptr<Log> log, std::vector<std::pair<int, size_t>>* batches)
      : FakeExecutor(std::move(h), std::move(log)), m_batches(batches) {}
  void run_batch(const std::vector<Command>& commands,
                 const std::function<bool(std::size_t, exec::CommandResult&)>& take) override {
    m_batches->emplace_back(commands.front().experiment, commands.size());
    exec::Executor::run_batch(commands, take);
  }

 private:
  std::vector<std::pair<int, size_t>>* m_batches;
};

TEST_F(LoopTest, PairsGoToTheExecutorOneBatchPerLook) {
  write_config("decision: {max_pairs: 6, looks: [2, 4, 6], confirmation_pairs: 4}\n");
  git("commit -qam 'looks'");
  queue("01-faster.patch", patch("Ten percent faster", "speed.txt", "1.0", "0.9"));
  std::vector<std::pair<int, size_t>> batches;
  app::Options o;
  o.config_path = root / "autoresearch.config.yaml";
  auto h = handlers();
  app::run(o, progress, [&](const app::ExecutorSetup&, util::FaultPlan&) {
    return std::make_unique<BatchingFake>(h, log, &batches);
  });
  std::vector<json> r = records();
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0]["status"], "keep") << r[0].dump(2);
  const int first = r[0]["blocks"][0]["pairs"];
  size_t runs = 0;
  int pairs = 0;
  int first_batches = 0;
  for (const auto& [experiment, size] : batches) {
    if (experiment != 1) continue;
    runs += size;
    if (pairs < first) {
      // A first-block batch ends at a look: 2, 4 or 6 pairs in.
      pairs += static_cast<int>(size / 2);
      ++first_batches;
      EXPECT_EQ(pairs % 2, 0) << "a batch ended between looks, at pair " << pairs;
    }
  }
  EXPECT_EQ(first_batches, first / 2);
  EXPECT_EQ(pairs, first);
  // Every run went through a batch, and the confirmation block is a batch of its own.
  EXPECT_EQ(runs, calls_of(1, Kind::benchmark).size());
  EXPECT_GT(runs, static_cast<size_t>(2 * first));
}

}  // namespace
}  // namespace ar
