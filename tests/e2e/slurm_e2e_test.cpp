// The Slurm executor end to end, against real daemons: the single-node cluster of
// tests/slurm/start-cluster.sh (munged, slurmctld, slurmd on this machine). Skipped only where
// Slurm's clients are not installed; CI installs and starts the cluster before the tests.

#include "e2e/crash_support.hpp"
#include "e2e/e2e_support.hpp"
#include "exec/slurm_job.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

namespace ar::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

fs::path cluster_dir() {
  const char* d = std::getenv("AUTORESEARCH_SLURM_DIR");
  return d != nullptr && *d != '\0' ? fs::path(d) : fs::path("/var/tmp/autoresearch-slurm");
}

std::string out_of(const std::string& command) {
  std::string out;
  shell(command, &out);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// Session's jobs as "id state name" lines (squeue knows pending and running ones).
std::vector<std::string> queued_jobs() {
  std::vector<std::string> out;
  std::istringstream in(out_of("squeue -h -o '%i %T %j' 2>/dev/null"));
  for (std::string line; std::getline(in, line);) {
    if (line.find(" ar-") != std::string::npos) out.push_back(line);
  }
  return out;
}

std::string job_field(const std::string& job, const std::string& key) {
  std::istringstream in(out_of("scontrol show job -o " + job + " 2>/dev/null"));
  for (std::string word; in >> word;) {
    if (word.rfind(key + "=", 0) == 0) return word.substr(key.size() + 1);
  }
  return {};
}

// The folder of the session's job that has started (started.json written), or empty.
fs::path started_job(const fs::path& repo) {
  std::error_code ec;
  const fs::path dir = repo / ".autoresearch" / "slurm";
  if (!fs::exists(dir, ec)) return {};
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (fs::exists(e.path() / "started.json")) return e.path();
  }
  return {};
}

template <typename F>
bool wait_for(F ready, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (ready()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return ready();
}

class SlurmE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (std::getenv("SLURM_CONF") == nullptr && fs::exists(cluster_dir() / "slurm.conf")) {
      ::setenv("SLURM_CONF", (cluster_dir() / "slurm.conf").c_str(), 1);
    }
  }

  void SetUp() override {
    if (shell("command -v sinfo >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "Slurm's clients (sinfo) are not installed; tests/slurm/start-cluster.sh installs them and "
                      "starts a single-node cluster";
    }
    // Idempotent: starts the cluster when it is not up (root only), else returns at once.
    std::string out;
    const int rc = shell(shell_quote(std::string(AUTORESEARCH_SOURCE_DIR) + "/tests/slurm/start-cluster.sh"), &out);
    ASSERT_EQ(rc, 0) << "the test cluster does not come up:\n" << out;
    if (std::getenv("SLURM_CONF") == nullptr) ::setenv("SLURM_CONF", (cluster_dir() / "slurm.conf").c_str(), 1);
    m_node = out_of("sinfo -h -o %n | head -n1");
    ASSERT_FALSE(m_node.empty());
  }

  // executor.kind slurm on the test partition; `extra` goes after it.
  static std::string slurm_config(const std::string& extra = "") {
    return "executor:\n  kind: slurm\n  partition: autoresearch\n" + extra +
           "decision: {max_pairs: 4, confirmation_pairs: 6}\n";
  }

  TempDir tmp{"autoresearch-slurm-e2e"};
  std::string m_node;
};

// The job's side without Slurm: `autoresearch exec-block` runs a spec's commands in order through
// the LocalExecutor (sandbox off here), stops at the first failure, scans METRIC lines, and its
// subreaper ends a daemon a run left behind with setsid (which Slurm's pgid tracking misses).
TEST(ExecBlock, RunsTheBlockStopsAtTheFirstFailureAndReapsDaemons) {
  TempDir tmp{"autoresearch-exec-block"};
  const fs::path folder = tmp.path() / "job";
  fs::create_directories(folder);
  const fs::path daemon_pid = tmp.path() / "daemon.pid";
  exec::BlockSpec spec;
  spec.session = "s";
  spec.token = "t0k3n";
  spec.experiment = 3;
  spec.sandbox.mode = config::SandboxMode::off;
  auto cmd = [&](const std::string& label, const std::string& command) {
    exec::Command c = exec::make_command(exec::Kind::benchmark, label, 3, 0, command, tmp.path(), 10s);
    c.scan_metrics = true;
    return c;
  };
  spec.commands = {cmd("pair 1 base", "echo chatter; echo METRIC score=3; echo METRIC score=5; echo METRIC score=4"),
                   cmd("pair 1 candidate", "setsid sh -c 'echo $$ > " + daemon_pid.string() +
                                               "; exec sleep 300' </dev/null >/dev/null 2>&1 & while [ ! -s " +
                                               daemon_pid.string() + " ]; do sleep 0.01; done; echo METRIC score=2"),
                   cmd("pair 2 base", "echo METRIC score=x1; exit 7"), cmd("pair 2 candidate", "echo never")};
  exec::write_spec(folder, spec);
  CliResult r = run_cli(tmp.path(), "exec-block " + shell_quote(folder.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::optional<exec::BlockResult> got = exec::read_result(folder);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->complete);
  ASSERT_EQ(got->results.size(), 3u);                 // stopped at the failed run
  EXPECT_EQ(got->results[0].metrics.at("score"), 4);  // the median of the run's values
  EXPECT_EQ(got->results[1].metrics.at("score"), 2);
  EXPECT_EQ(got->results[2].process.exit_code, 7);
  ASSERT_EQ(got->results[2].rejected.size(), 1u);
  EXPECT_NE(read_text(exec::run_log_path(folder, 0)).find("chatter"), std::string::npos);
  EXPECT_FALSE(fs::exists(exec::run_log_path(folder, 3)));
  // The daemon left the run's process group and session; the runner's subreaper still ended it.
  ASSERT_TRUE(fs::exists(daemon_pid));
  const std::string pid = out_of("cat " + shell_quote(daemon_pid.string()));
  EXPECT_TRUE(wait_for(
      [&] {
        return !fs::exists("/proc/" + pid) || out_of("awk '{print $3}' /proc/" + pid + "/stat 2>/dev/null") == "Z";
      },
      5s))
      << "daemon " << pid << " survived the block";
}

std::map<std::string, json> by_file(const std::vector<json>& records) {
  std::map<std::string, json> out;
  for (const json& r : records) out[r["source"]["file"].get<std::string>()] = r;
  return out;
}

// A session of four patches on Slurm with `executor_extra` (slots); checks the statuses, and that
// every measured record names the node and Slurm jobs that really ran its runs.
void check_session(const fs::path& dir, const std::string& config, const std::string& node, bool slots,
                   const std::function<void(FixtureRepo&)>& adjust = {}) {
  FixtureRepo repo(dir, config);
  if (adjust) adjust(repo);
  repo.queue_change("01-faster.patch", "Title: Ten percent faster", "speed.txt", "0.9\n");
  repo.queue_change("02-slower.patch", "Title: Ten percent slower", "slow.txt", "1.1\n");
  repo.queue_change("03-gate.patch", "Title: Break the gate", "ok.txt", "not ok\n");
  repo.queue_change("04-crash.patch", "Title: Crash the benchmark", "crash.txt", "boom\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m 'queue patches'");

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto r = by_file(repo.records());
  ASSERT_EQ(r.size(), 4u) << run.output;
  EXPECT_EQ(r["experiments/01-faster.patch"]["status"], "keep") << r["experiments/01-faster.patch"].dump();
  EXPECT_EQ(r["experiments/02-slower.patch"]["status"], "discard");
  EXPECT_EQ(r["experiments/03-gate.patch"]["status"], "checks_failed");
  EXPECT_EQ(r["experiments/04-crash.patch"]["status"], "crash");
  EXPECT_NE(r["experiments/04-crash.patch"]["reason"].get<std::string>().find("exit 139"), std::string::npos);
  EXPECT_FALSE(r["experiments/03-gate.patch"].contains("slurm_jobs"));  // gates run here, not as jobs

  for (const char* file :
       {"experiments/01-faster.patch", "experiments/02-slower.patch", "experiments/04-crash.patch"}) {
    SCOPED_TRACE(file);
    const json& rec = r[file];
    ASSERT_TRUE(rec.contains("slurm_jobs")) << rec.dump();
    std::set<std::string> ids;
    for (const json& j : rec["slurm_jobs"]) {
      EXPECT_EQ(j["node"], node);
      ids.insert(j["id"].get<std::string>());
      // Slurm itself knows the job: it ran our block runner under the session's job name.
      EXPECT_EQ(job_field(j["id"], "JobName").rfind("ar-000", 0), 0u) << j.dump();
      EXPECT_EQ(job_field(j["id"], "JobState"), "COMPLETED") << j.dump();
    }
    // With slots, each was prepared in a slot of its own.
    EXPECT_EQ(rec.contains("slot"), slots) << rec.dump();
    if (rec["status"] == "crash") continue;
    EXPECT_EQ(rec["node"], node);
    // Every run names its node and job; the looks are separate jobs.
    for (const json& run_row : rec["runs"]) {
      ASSERT_EQ(run_row.size(), 9u) << run_row.dump();
      EXPECT_EQ(run_row[7], node);
      EXPECT_EQ(ids.count(run_row[8].get<std::string>()), 1u) << run_row.dump();
    }
    // A keep has a first block and a confirmation block: two looks at least, each its own job.
    if (rec["status"] == "keep") {
      EXPECT_GE(ids.size(), 2u) << rec["slurm_jobs"].dump();
    }
  }
  // Jobs are collected: nothing is left in the durable list, and good jobs leave no folder.
  EXPECT_EQ(json::parse(read_text(repo.root / ".autoresearch/slurm/jobs.json"))["jobs"].size(), 0u);
  // The runs' output came back into the experiment's log.
  EXPECT_NE(read_text(repo.root / ".autoresearch/logs/0001.log").find("slurm job"), std::string::npos);
  EXPECT_NE(read_text(repo.root / ".autoresearch/logs/0001.log").find("METRIC score="), std::string::npos);
}

TEST_F(SlurmE2E, SessionRunsItsBlocksAsJobsAndRecordsNodeAndJobs) {
  check_session(tmp.path(), slurm_config(), m_node, false);
}

// Two slots: the next candidate is applied, built and gated while one is measured on the cluster;
// the verdicts are the serial ones.
// With a build, the slot that kept swaps its worktrees (the kept candidate's is the new base):
// the jobs must confine each side to its worktree as it is now. Every benchmark run writes a stamp
// into its own worktree, which the sandbox refuses in the other one.
TEST_F(SlurmE2E, TwoSlotsGiveTheSameVerdicts) {
  check_session(tmp.path(), slurm_config("  slots: 2\nbuild:\n  command: \"true\"\n"), m_node, true,
                [](FixtureRepo& repo) {
                  std::string cfg = read_text(repo.root / "autoresearch.config.yaml");
                  const std::string from = "  command: COUNTER=";
                  cfg.replace(cfg.find(from), from.size(), "  command: touch ran.stamp && COUNTER=");
                  write_text(repo.root / "autoresearch.config.yaml", cfg);
                  write_text(repo.root / ".gitignore", "ran.stamp\n");
                  git(repo.root, "add -A");
                  git(repo.root, "commit -qm 'benchmark writes a stamp'");
                });
}

// Makes every benchmark run sleep `seconds` first while `marker` exists, so a test can act while
// a job runs.
void make_sleepy(FixtureRepo& repo, const fs::path& marker, int seconds) {
  std::string cfg = read_text(repo.root / "autoresearch.config.yaml");
  const std::string from = "  command: COUNTER=";
  cfg.replace(cfg.find(from), from.size(),
              "  command: if [ -f " + shell_quote(marker.string()) + " ]; then sleep " + std::to_string(seconds) +
                  "; fi; COUNTER=");
  const std::string timeout = "  timeout: 20s\n  warmup";
  cfg.replace(cfg.find(timeout), timeout.size(), "  timeout: 150s\n  warmup");
  write_text(repo.root / "autoresearch.config.yaml", cfg);
  write_text(marker, "sleep\n");
  git(repo.root, "commit -qam 'sleepy benchmark'");
}

TEST_F(SlurmE2E, JobCancelledFromOutsideIsRecordedWithTheReason) {
  const fs::path marker = tmp.path() / "slow";
  FixtureRepo repo(tmp.path(), slurm_config());
  make_sleepy(repo, marker, 60);
  repo.queue_change("01-faster.patch", "Title: Ten percent faster", "speed.txt", "0.9\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m 'queue'");
  const fs::path log = tmp.path() / "run.log";
  pid_t pid = start_run(repo.root, "", log);
  fs::path folder;
  ASSERT_TRUE(wait_for([&] { return !(folder = started_job(repo.root)).empty(); }, 60s)) << read_text(log);
  const std::string job = json::parse(read_text(folder / "started.json"))["job"];
  ASSERT_FALSE(job.empty());
  ASSERT_EQ(shell("scancel " + job), 0);
  RunEnd end = wait_run(pid, 60s);
  ASSERT_TRUE(end.exited) << end.describe() << read_text(log);
  auto records = repo.records();
  ASSERT_EQ(records.size(), 1u) << read_text(log);
  EXPECT_EQ(records[0]["status"], "crash") << records[0].dump();
  const std::string reason = records[0]["reason"];
  EXPECT_NE(reason.find("slurm job " + job), std::string::npos) << reason;
  EXPECT_NE(reason.find("was cancelled"), std::string::npos) << reason;
  EXPECT_NE(reason.find("CANCELLED"), std::string::npos) << reason;
  // It had started, so it was not submitted again.
  EXPECT_EQ(read_text(log).find("submitting it once more"), std::string::npos) << read_text(log);
  ASSERT_EQ(records[0]["slurm_jobs"].size(), 1u) << records[0].dump();
  EXPECT_EQ(records[0]["slurm_jobs"][0]["id"], job);
}

TEST_F(SlurmE2E, JobCancelledBeforeItStartedIsSubmittedOnceMore) {
  // Every job is submitted held; the test cancels the first and releases the others.
  FixtureRepo repo(tmp.path(), slurm_config("  sbatch_args: [--hold]\n"));
  repo.queue_change("01-faster.patch", "Title: Ten percent faster", "speed.txt", "0.9\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m 'queue'");
  const fs::path log = tmp.path() / "run.log";
  pid_t pid = start_run(repo.root, "", log);
  std::set<std::string> seen;
  std::string cancelled;
  RunEnd end;
  const auto until = std::chrono::steady_clock::now() + 120s;
  while (!try_reap(pid, end) && std::chrono::steady_clock::now() < until) {
    for (const std::string& line : queued_jobs()) {
      std::istringstream in(line);
      std::string id, state, name;
      in >> id >> state >> name;
      if (state != "PENDING" || !seen.insert(id).second) continue;
      if (cancelled.empty()) {
        cancelled = id;
        shell("scancel " + id);
      } else {
        shell("scontrol release " + id);
      }
    }
    std::this_thread::sleep_for(100ms);
  }
  if (!end.exited && end.signal == 0) end = kill_run(pid);
  ASSERT_TRUE(end.exited && end.code == 0) << end.describe() << read_text(log);
  ASSERT_FALSE(cancelled.empty());
  EXPECT_NE(read_text(log).find("slurm job " + cancelled), std::string::npos) << read_text(log);
  EXPECT_NE(read_text(log).find("before it started; submitting it once more"), std::string::npos) << read_text(log);
  auto records = repo.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["status"], "keep") << records[0].dump();
  for (const json& j : records[0]["slurm_jobs"]) EXPECT_NE(j["id"], cancelled);
}

TEST_F(SlurmE2E, KilledOrchestratorsJobsAreCancelledAndEachExperimentRecordedOnce) {
  const fs::path marker = tmp.path() / "slow";
  FixtureRepo repo(tmp.path(), slurm_config());
  make_sleepy(repo, marker, 60);
  repo.queue_change("01-faster.patch", "Title: Ten percent faster", "speed.txt", "0.9\n");
  repo.queue_change("02-slower.patch", "Title: Ten percent slower", "slow.txt", "1.1\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m 'queue'");
  const fs::path log = tmp.path() / "run.log";
  pid_t pid = start_run(repo.root, "", log);
  fs::path folder;
  ASSERT_TRUE(wait_for([&] { return !(folder = started_job(repo.root)).empty(); }, 60s)) << read_text(log);
  const std::string job = json::parse(read_text(folder / "started.json"))["job"];
  kill_run(pid);
  // The job outlives the orchestrator: Slurm runs it on.
  EXPECT_EQ(job_field(job, "JobState"), "RUNNING");
  fs::remove(marker);  // the second run's benchmark is quick

  CliResult again = run_cli(repo.root, "run");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("cancelled job " + job + " of the previous run"), std::string::npos) << again.output;
  EXPECT_EQ(job_field(job, "JobState"), "CANCELLED");
  EXPECT_EQ(json::parse(read_text(repo.root / ".autoresearch/slurm/jobs.json"))["jobs"].size(), 0u);
  std::map<int, int> ids;
  std::map<std::string, std::vector<std::string>> statuses;
  for (const json& r : repo.records()) {
    ++ids[r["id"].get<int>()];
    statuses[r["source"]["file"]].push_back(r["status"]);
  }
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << "experiment " << id << " recorded " << n << " times";
  // The killed experiment is recorded once as interrupted, then tried again.
  EXPECT_EQ(statuses["experiments/01-faster.patch"], (std::vector<std::string>{"interrupted", "keep"}));
  EXPECT_EQ(statuses["experiments/02-slower.patch"], (std::vector<std::string>{"discard"}));
}

TEST_F(SlurmE2E, NodeGoingDownMidJobGivesAClearReason) {
  const fs::path marker = tmp.path() / "slow";
  FixtureRepo repo(tmp.path(), slurm_config());
  make_sleepy(repo, marker, 90);
  repo.queue_change("01-faster.patch", "Title: Ten percent faster", "speed.txt", "0.9\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m 'queue'");
  const fs::path log = tmp.path() / "run.log";
  pid_t pid = start_run(repo.root, "", log);
  fs::path folder;
  ASSERT_TRUE(wait_for([&] { return !(folder = started_job(repo.root)).empty(); }, 60s)) << read_text(log);
  const json started = json::parse(read_text(folder / "started.json"));
  const std::string job = started["job"];
  const std::string slurmd_pid = out_of("cat " + shell_quote((cluster_dir() / "slurmd.pid").string()));
  ASSERT_FALSE(slurmd_pid.empty());
  ASSERT_EQ(shell("kill -9 " + slurmd_pid), 0);
  RunEnd end = wait_run(pid, 90s);
  // Whatever happened, the node comes back for the next test, and the runner the dead slurmd
  // left behind stops.
  ::kill(started["pid"].get<int>(), SIGTERM);
  std::string out;
  EXPECT_EQ(shell(shell_quote(std::string(AUTORESEARCH_SOURCE_DIR) + "/tests/slurm/start-cluster.sh"), &out), 0) << out;
  ASSERT_TRUE(end.exited) << end.describe() << read_text(log);
  auto records = repo.records();
  ASSERT_EQ(records.size(), 1u) << read_text(log);
  EXPECT_EQ(records[0]["status"], "crash") << records[0].dump();
  const std::string reason = records[0]["reason"];
  EXPECT_NE(reason.find("slurm job " + job + " on node " + m_node), std::string::npos) << reason;
  EXPECT_NE(reason.find("NODE_FAIL"), std::string::npos) << reason;
}

}  // namespace
}  // namespace ar::test
