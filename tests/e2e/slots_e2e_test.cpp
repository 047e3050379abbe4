// Executor slots (issue 12, item 1): with `executor: {slots: 2}` the next candidates are applied,
// built and gated while one is measured, and the session ends exactly as a serial run: the same
// statuses in the same order, the same commits on the session branch. A candidate prepared before
// a keep is prepared again on the new best. `status` shows the slots. A kill -9 loses nothing.

#include "e2e/crash_support.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <sstream>
#include <thread>

namespace ar::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Ids 1..6 in queue order, and what each must end as (serial and slots alike).
const std::vector<std::pair<std::string, std::string>> k_expected = {
    {"experiments/01-faster.patch", "keep"},        {"experiments/02-noop.patch", "discard"},
    {"experiments/03-gate.patch", "checks_failed"}, {"experiments/04-slower-less.patch", "keep"},
    {"experiments/05-conflict.patch", "apply_failed"}, {"experiments/06-noop.patch", "discard"},
};

// The fixture's benchmark with 0.2% noise (the statuses above are certain), a build and a gate
// that take a while (so preparation overlaps measurement), and six queued patches. 05 applies to
// the start commit and to the best after 01, but not after 04 is kept: with slots it is prepared
// while 04 is measured, and must be applied again (and fail) once 04 is kept.
// Every command holds for 30 s when the file `hold` names it as "<kind>:<experiment id>".
struct SlotsRepo {
  FixtureRepo fixture;
  fs::path hold;
  std::string start;
  Checkout before;

  SlotsRepo(const fs::path& tmp, int slots)
      : fixture(tmp, "build:\n  command: ./build.sh\n  timeout: 60s\n"
                     "decision:\n  looks: [3, 5, 7]\n  max_pairs: 7\n"
                     "executor:\n  kind: local\n  slots: " +
                         std::to_string(slots) + "\n"),
        hold(tmp / "hold") {
    const fs::path& root = fixture.root;
    auto holds = [&](const std::string& kind) {
      return "if [ \"$(cat " + shell_quote(hold.string()) + " 2>/dev/null)\" = \"" + kind +
             ":$AUTORESEARCH_EXPERIMENT\" ]; then sleep 30; fi\n";
    };
    write_text(root / "build.sh", "#!/bin/sh\n" + holds("build") + "sleep 0.4\ntrue\n");
    std::string gate = read_text(root / "gates/check.sh");
    write_text(root / "gates/check.sh", "#!/bin/sh\n" + holds("gate") + "sleep 0.2\n" + gate.substr(gate.find('\n') + 1));
    std::string bench = read_text(root / "bench.sh");
    bench.replace(bench.find("0.01*z"), 6, "0.002*z");
    write_text(root / "bench.sh", bench);
    shell("chmod +x " + shell_quote((root / "build.sh").string()));
    fixture.queue_change("01-faster.patch", "Title: Ten percent faster", "speed.txt", "0.9\n");
    fixture.queue_change("02-noop.patch", "Title: Reword the notes", "notes.txt", "notes, reworded\n");
    fixture.queue_change("03-gate.patch", "Title: Break the gate", "ok.txt", "not ok\n");
    fixture.queue_change("04-slower-less.patch", "Title: Less slow", "slow.txt", "0.8\n");
    fixture.queue_change("05-conflict.patch", "Title: Slow changed another way", "slow.txt", "1.1\n");
    fixture.queue_change("06-noop.patch", "Title: Other notes", "notes.txt", "other notes\n");
    git(root, "add -A");
    git(root, "commit -q -m 'build, holds, queue'");
    write_text(root / "scratch.txt", "the user's untracked file\n");
    start = git(root, "rev-parse HEAD");
    before = checkout_of(root);
  }
  const fs::path& root() const { return fixture.root; }
  // The session branch past the start: each commit's subject and change, oldest first (the
  // trees differ by the config's executor line).
  std::string branch() const {
    return git(root(), "log --reverse --format=%s -p " + start + "..autoresearch/e2e");
  }
};

std::string log_of(const fs::path& log) {
  return fs::exists(log) ? read_text(log) : std::string("(no log)");
}

// (source file, status) of every record, in journal order; ids must be 1..n.
std::vector<std::pair<std::string, std::string>> outcomes(const std::vector<json>& records) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].value("id", 0), static_cast<int>(i) + 1);
    out.emplace_back(records[i]["source"].value("file", ""), records[i].value("status", ""));
  }
  return out;
}

void expect_slots_clean(const fs::path& root, int slots, const std::string& tip) {
  for (int k = 1; k <= slots; ++k) {
    for (const char* side : {"base", "cand"}) {
      fs::path wt = root / ".autoresearch" / ("slot-" + std::to_string(k)) / side;
      ASSERT_TRUE(fs::exists(wt)) << wt;
      EXPECT_EQ(git(wt, "status --porcelain --untracked-files=all"), "") << wt;
      EXPECT_EQ(git(wt, "rev-parse HEAD"), tip) << wt;
    }
  }
}

class SlotsE2E : public ::testing::Test {
 protected:
  TempDir tmp{"autoresearch-slots"};
};

TEST_F(SlotsE2E, TwoSlotsEndExactlyAsOneSlot) {
  SlotsRepo serial(tmp / "serial", 1);
  CliResult one = run_cli(serial.root(), "run");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const std::vector<json> serial_records = serial.fixture.records();
  ASSERT_EQ(outcomes(serial_records), k_expected);
  EXPECT_FALSE(fs::exists(serial.root() / ".autoresearch/slot-1")) << "slots 1 runs as before: no slot worktrees";
  for (const json& r : serial_records) EXPECT_FALSE(r.contains("slot")) << r.dump();

  // slots 2, while `status` is polled: at some moment both slots hold an experiment.
  SlotsRepo two(tmp / "two", 2);
  fs::path log = tmp / "two.log";
  pid_t pid = start_run(two.root(), "", log);
  bool both_busy = false;
  std::string status_text;
  RunEnd end;
  while (!try_reap(pid, end)) {
    CliResult st = run_cli(two.root(), "status --json");
    json s = json::parse(st.output, nullptr, false);
    if (!s.is_discarded() && s.value("running", false) && s["slots"].is_array() && s["slots"].size() == 2) {
      int busy = 0;
      for (const json& k : s["slots"]) busy += k.value("id", 0) > 0 ? 1 : 0;
      if (busy == 2 && !both_busy) {
        both_busy = true;
        status_text = run_cli(two.root(), "status").output;
      }
    }
    std::this_thread::sleep_for(milliseconds(30));
  }
  ASSERT_TRUE(end.exited && end.code == 0) << end.describe() << "\n" << log_of(log);
  EXPECT_TRUE(both_busy) << "status never showed two busy slots";
  if (both_busy && status_text.find("  running: ") != std::string::npos) {
    EXPECT_NE(status_text.find("slot 1:"), std::string::npos) << status_text;
    EXPECT_NE(status_text.find("slot 2:"), std::string::npos) << status_text;
  }

  const std::vector<json> records = two.fixture.records();
  EXPECT_EQ(outcomes(records), outcomes(serial_records));
  EXPECT_EQ(two.branch(), serial.branch());
  ASSERT_EQ(two.branch().empty(), false);

  // Every record names its slot and what it was prepared on; 02 was prepared on the start while
  // 01 was measured, and again on 01's commit once 01 was kept; 05 likewise after 04's keep,
  // where it no longer applies.
  std::string kept1 = records[0].value("commit", "");
  std::string kept4 = records[3].value("commit", "");
  ASSERT_FALSE(kept1.empty());
  for (const json& r : records) {
    if (r.value("status", "") == "rejected") continue;
    ASSERT_TRUE(r.contains("slot")) << r.dump();
    EXPECT_GE(r["slot"].value("slot", 0), 1);
  }
  EXPECT_EQ(records[1]["slot"]["prepared_on"], json::array({two.start, kept1})) << records[1].dump();
  EXPECT_EQ(records[4]["slot"]["prepared_on"].back(), kept4) << records[4].dump();
  EXPECT_EQ(records[4]["slot"]["prepared_on"].size(), 2u) << records[4].dump();
  std::string log2 = read_text(two.root() / ".autoresearch/logs/0002.log");
  // Its preparation on the start was stopped when 01 was kept (wherever it was: applied, building
  // or done) and ran again, built and gated, on 01's commit.
  const size_t again = log2.find("apply, build and gates again");
  ASSERT_NE(again, std::string::npos) << log2;
  const std::string after = log2.substr(again);
  EXPECT_NE(after.find("[build candidate] exit 0"), std::string::npos) << log2;
  EXPECT_NE(after.find("[gate check] exit 0"), std::string::npos) << log2;
  // Base builds: one per slot at the start, then one per keep: the slot that kept takes its
  // candidate's build as its base (and the next candidate), only the other slot builds its base.
  size_t base_builds = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(two.root() / ".autoresearch/logs")) {
    if (e.path().filename().string().rfind("run-", 0) != 0) continue;
    std::istringstream lines(read_text(e.path()));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("==> [build base ", 0) == 0 && line.find("] exit 0 in ") != std::string::npos) ++base_builds;
    }
  }
  EXPECT_GE(base_builds, 1u);
  EXPECT_LE(base_builds, 4u) << "2 slots, 2 keeps";

  const std::string tip = git(two.root(), "rev-parse autoresearch/e2e");
  expect_slots_clean(two.root(), 2, tip);
  for (const char* wt : {".autoresearch/wt/base", ".autoresearch/wt/cand"}) {
    EXPECT_EQ(git(two.root() / wt, "rev-parse HEAD"), tip) << wt;
    EXPECT_EQ(git(two.root() / wt, "status --porcelain --untracked-files=all"), "") << wt;
  }
  EXPECT_TRUE(checkout_of(two.root()) == two.before);
}

// kill -9 while experiment 2 is being prepared (its build held) and experiment 1 is measured or
// just recorded: the restart records 2 as interrupted once, retries it, and the session ends as
// an uninterrupted one would, with every worktree clean and nothing of the killed run alive.
TEST_F(SlotsE2E, KilledWhileSlotsWorkThenResumed) {
  SlotsRepo repo(tmp.path(), 2);
  write_text(repo.hold, "build:2");
  fs::path log = tmp / "killed.log";
  pid_t pid = start_run(repo.root(), "", log);
  std::string token;
  bool held = false;
  auto deadline = std::chrono::steady_clock::now() + seconds(120);
  while (!held && std::chrono::steady_clock::now() < deadline) {
    json state = read_state_file(repo.root());
    token = state.value("token", "");
    if (state["experiment"].is_object() && state["experiment"].value("id", 0) == 2) {
      for (const std::string& p : processes_with_token(token)) {
        if (p.substr(p.find(' ') + 1).rfind("sleep 30", 0) == 0) held = true;
      }
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(held) << log_of(log);
  RunEnd killed = kill_run(pid);
  ASSERT_EQ(killed.signal, SIGKILL) << killed.describe();
  fs::remove(repo.hold);

  CliResult again = run_cli(repo.root(), "run");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  JournalLines j = read_journal(repo.root() / "results.jsonl");
  EXPECT_TRUE(j.bad.empty()) << j.bad.front();
  expect_session_consistent(repo.root(), "e2e", repo.start, j.experiments);
  // 1 as planned, 2 interrupted, then 2..6 as planned.
  std::vector<std::pair<std::string, std::string>> want = {k_expected[0], {k_expected[1].first, "interrupted"}};
  want.insert(want.end(), k_expected.begin() + 1, k_expected.end());
  EXPECT_EQ(outcomes(j.experiments), want);
  expect_slots_clean(repo.root(), 2, git(repo.root(), "rev-parse autoresearch/e2e"));
  EXPECT_TRUE(checkout_of(repo.root()) == repo.before) << git(repo.root(), "status --porcelain");
  std::vector<std::string> alive = survivors({token}, milliseconds(2000));
  EXPECT_TRUE(alive.empty()) << "still running: " << alive.front();
}

}  // namespace
}  // namespace ar::test
