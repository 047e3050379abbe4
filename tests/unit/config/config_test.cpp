#include "config/config.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

namespace ar::config {
namespace {

using namespace std::chrono_literals;
using ar::test::TempDir;
using ar::test::write_text;

// The smallest valid config: line 1 benchmark, line 2 command, line 3 metric, line 4 name.
const std::string k_minimal =
    "benchmark:\n"
    "  command: ./bench.sh\n"
    "metric:\n"
    "  name: time_ms\n";

class ConfigTest : public ::testing::Test {
protected:
  std::filesystem::path write(const std::string& yaml) {
    write_text(m_file, yaml);
    return m_file;
  }

  Config load_text(const std::string& yaml) { return load(write(yaml)); }

  // The ConfigError message for `yaml`; fails the test when it loads.
  std::string error_for(const std::string& yaml) {
    try {
      load(write(yaml));
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected a ConfigError for:\n" << yaml;
    return {};
  }

  // "<file>:<line>: <message>", the form every load error takes.
  std::string at(int line, const std::string& message) const {
    return m_file.string() + ":" + std::to_string(line) + ": " + message;
  }

  TempDir m_dir;
  std::filesystem::path m_file = m_dir / "autoresearch.config.yaml";
};

// ---- valid configs ---------------------------------------------------------------------------

using ConfigLoad = ConfigTest;

const std::string k_full =
    "session: night-1.v2_x\n"
    "goal: |\n"
    "  Make the parser faster\n"
    "  without using more memory.\n"
    "benchmark:\n"
    "  command: ./bench.sh --quick\n"
    "  timeout: 90s\n"
    "  warmup: 2\n"
    "build:\n"
    "  command: make -j4\n"
    "  timeout: 2h\n"
    "metric:\n"
    "  name: parse_\xC2\xB5s\n"
    "  direction: higher\n"
    "  unit: \xC2\xB5s\n"
    "guards:\n"
    "  - name: rss_kb\n"
    "    tolerance: 2%\n"
    "  - name: throughput.ops\n"
    "    direction: higher\n"
    "    tolerance: 0.1\n"
    "gates:\n"
    "  - name: build\n"
    "    command: make test\n"
    "  - name: drift\n"
    "    command: gates/drift.sh\n"
    "    timeout: 500ms\n"
    "protected: [bench.sh, gates/, '**/*.lock']\n"
    "scope:\n"
    "  - src/**\n"
    "decision:\n"
    "  min_effect: 0.5%\n"
    "  alpha: 0.1\n"
    "  max_pairs: 20\n"
    "  looks: [4, 8, 20]\n"
    "sources:\n"
    "  queue:\n"
    "    dir: patches\n"
    "limits:\n"
    "  max_experiments: 40\n"
    "  max_duration: 8h\n"
    "  max_consecutive_failures: 5\n"
    "  target: 12.5\n";

TEST_F(ConfigLoad, FullConfigReadsEveryKey) {
  const Config c = load_text(k_full);
  EXPECT_EQ(c.path, m_file);
  EXPECT_EQ(c.session, "night-1.v2_x");
  EXPECT_EQ(c.goal, "Make the parser faster\nwithout using more memory.\n");
  EXPECT_EQ(c.benchmark.command, "./bench.sh --quick");
  EXPECT_EQ(c.benchmark.timeout, 90s);
  EXPECT_EQ(c.benchmark.warmup, 2);
  EXPECT_EQ(c.build.command, "make -j4");
  EXPECT_EQ(c.build.timeout, 2h);
  EXPECT_EQ(c.metric.name, "parse_\xC2\xB5s");
  EXPECT_EQ(c.metric.direction, decide::Direction::higher);
  EXPECT_EQ(c.metric.unit, "\xC2\xB5s");
  ASSERT_EQ(c.guards.size(), 2u);
  EXPECT_EQ(c.guards[0].name, "rss_kb");
  EXPECT_EQ(c.guards[0].direction, decide::Direction::lower);
  EXPECT_DOUBLE_EQ(c.guards[0].tolerance, 0.02);
  EXPECT_EQ(c.guards[1].name, "throughput.ops");
  EXPECT_EQ(c.guards[1].direction, decide::Direction::higher);
  EXPECT_DOUBLE_EQ(c.guards[1].tolerance, 0.1);
  ASSERT_EQ(c.gates.size(), 2u);
  EXPECT_EQ(c.gates[0].name, "build");
  EXPECT_EQ(c.gates[0].command, "make test");
  EXPECT_EQ(c.gates[0].timeout, 10min);
  EXPECT_EQ(c.gates[1].name, "drift");
  EXPECT_EQ(c.gates[1].timeout, 500ms);
  EXPECT_EQ(c.protected_paths, (std::vector<std::string>{"bench.sh", "gates/", "**/*.lock"}));
  EXPECT_EQ(c.scope, (std::vector<std::string>{"src/**"}));
  EXPECT_DOUBLE_EQ(c.decision.min_effect, 0.005);
  EXPECT_DOUBLE_EQ(c.decision.alpha, 0.1);
  EXPECT_EQ(c.decision.max_pairs, 20);
  EXPECT_EQ(c.decision.looks, (std::vector<int>{4, 8, 20}));
  EXPECT_EQ(c.sources.queue.dir, "patches");
  EXPECT_EQ(c.limits.max_experiments, 40);
  EXPECT_EQ(c.limits.max_duration, 8h);
  EXPECT_EQ(c.limits.max_consecutive_failures, 5);
  ASSERT_TRUE(c.limits.target.has_value());
  EXPECT_DOUBLE_EQ(*c.limits.target, 12.5);
}

TEST_F(ConfigLoad, ToJsonUsesDurationStringsAndFractions) {
  const nlohmann::json j = to_json(load_text(k_full));
  EXPECT_EQ(j["benchmark"]["timeout"], "90s");
  EXPECT_EQ(j["build"]["timeout"], "2h");
  EXPECT_EQ(j["gates"][1]["timeout"], "500ms");
  EXPECT_EQ(j["limits"]["max_duration"], "8h");
  EXPECT_EQ(j["metric"]["direction"], "higher");
  EXPECT_EQ(j["guards"][0]["direction"], "lower");
  EXPECT_DOUBLE_EQ(j["guards"][0]["tolerance"].get<double>(), 0.02);
  EXPECT_DOUBLE_EQ(j["decision"]["min_effect"].get<double>(), 0.005);
  EXPECT_EQ(j["decision"]["looks"], nlohmann::json::array({4, 8, 20}));
  EXPECT_EQ(j["protected"], nlohmann::json::array({"bench.sh", "gates/", "**/*.lock"}));
  EXPECT_EQ(j["sources"]["queue"]["dir"], "patches");
  EXPECT_DOUBLE_EQ(j["limits"]["target"].get<double>(), 12.5);
  EXPECT_FALSE(j.contains("path"));
}

TEST_F(ConfigLoad, ToJsonOutputLoadsBackToTheSameConfig) {
  // JSON is YAML: the config in force, written out, must mean the same config when read back.
  const nlohmann::json first = to_json(load_text(k_full));
  const nlohmann::json second = to_json(load_text(first.dump(2)));
  EXPECT_EQ(first, second);

  const nlohmann::json minimal = to_json(load_text(k_minimal));
  EXPECT_TRUE(minimal["limits"]["target"].is_null());
  EXPECT_EQ(to_json(load_text(minimal.dump())), minimal);
}

TEST_F(ConfigLoad, MinimalConfigGetsDefaults) {
  const Config c = load_text(k_minimal);
  EXPECT_EQ(c.session, "default");
  EXPECT_EQ(c.goal, "");
  EXPECT_EQ(c.benchmark.timeout, 10min);
  EXPECT_EQ(c.benchmark.warmup, 1);
  EXPECT_EQ(c.build.command, "");
  EXPECT_EQ(c.build.timeout, 30min);
  EXPECT_EQ(c.metric.direction, decide::Direction::lower);
  EXPECT_EQ(c.metric.unit, "");
  EXPECT_TRUE(c.guards.empty());
  EXPECT_TRUE(c.gates.empty());
  EXPECT_TRUE(c.protected_paths.empty());
  EXPECT_TRUE(c.scope.empty());
  EXPECT_DOUBLE_EQ(c.decision.min_effect, 0.01);
  EXPECT_DOUBLE_EQ(c.decision.alpha, 0.05);
  EXPECT_EQ(c.decision.max_pairs, 12);
  EXPECT_EQ(c.decision.looks, (std::vector<int>{2, 4, 6, 8, 10, 12}));
  EXPECT_EQ(c.decision.confirmation_pairs, 12);
  EXPECT_DOUBLE_EQ(c.decision.confirmation_alpha, 0.04);
  EXPECT_EQ(c.benchmark.pause, 3s);
  EXPECT_EQ(c.calibration.pairs, 32);
  EXPECT_EQ(c.sources.queue.dir, "experiments");
  EXPECT_EQ(c.limits.max_experiments, 0);
  EXPECT_EQ(c.limits.max_duration, 0ms);
  EXPECT_EQ(c.limits.max_consecutive_failures, 0);
  EXPECT_FALSE(c.limits.target.has_value());
}

TEST_F(ConfigLoad, ListItemDefaults) {
  const Config c = load_text(k_minimal +
                             "guards:\n"
                             "  - name: rss_kb\n"
                             "gates:\n"
                             "  - {name: tests, command: make check}\n");
  ASSERT_EQ(c.guards.size(), 1u);
  EXPECT_EQ(c.guards[0].direction, decide::Direction::lower);
  EXPECT_DOUBLE_EQ(c.guards[0].tolerance, 0.05);
  ASSERT_EQ(c.gates.size(), 1u);
  EXPECT_EQ(c.gates[0].timeout, 10min);
}

TEST_F(ConfigLoad, EmptySectionsAndListsMeanDefaults) {
  const Config c = load_text(k_minimal +
                             "build:\n"
                             "guards:\n"
                             "gates: []\n"
                             "protected:\n"
                             "decision: {}\n"
                             "sources:\n"
                             "  queue:\n"
                             "limits:\n"
                             "  target: ~\n");
  EXPECT_EQ(c.build.timeout, 30min);
  EXPECT_TRUE(c.guards.empty());
  EXPECT_TRUE(c.gates.empty());
  EXPECT_TRUE(c.protected_paths.empty());
  EXPECT_EQ(c.decision.max_pairs, 12);
  EXPECT_EQ(c.sources.queue.dir, "experiments");
  EXPECT_FALSE(c.limits.target.has_value());
}

// ---- decision schedule ----------------------------------------------------------------------

using ConfigDecision = ConfigTest;

TEST_F(ConfigDecision, MaxPairsAloneLooksAtEveryBlockEnd) {
  EXPECT_EQ(load_text(k_minimal + "decision: {max_pairs: 8}\n").decision.looks, (std::vector<int>{2, 4, 6, 8}));
  EXPECT_EQ(load_text(k_minimal + "decision: {max_pairs: 4}\n").decision.looks, (std::vector<int>{2, 4}));
  // An odd count ends its block: decisions happen only on balanced blocks.
  const Config odd = load_text(k_minimal + "decision: {max_pairs: 7}\n");
  EXPECT_EQ(odd.decision.max_pairs, 8);
  EXPECT_EQ(odd.decision.looks, (std::vector<int>{2, 4, 6, 8}));
}

TEST_F(ConfigDecision, LooksAloneSetMaxPairs) {
  const Config c = load_text(k_minimal + "decision: {looks: [4, 6, 10]}\n");
  EXPECT_EQ(c.decision.looks, (std::vector<int>{4, 6, 10}));
  EXPECT_EQ(c.decision.max_pairs, 10);
}

TEST_F(ConfigDecision, OldOddLooksMoveToTheEndsOfTheirBlocks) {
  // A config written for the old rule keeps working: [3, 5, 7] means [4, 6, 8].
  const Config c = load_text(k_minimal + "decision: {max_pairs: 7, looks: [3, 5, 7]}\n");
  EXPECT_EQ(c.decision.looks, (std::vector<int>{4, 6, 8}));
  EXPECT_EQ(c.decision.max_pairs, 8);
  EXPECT_EQ(load_text(k_minimal + "decision: {looks: [3, 4, 12]}\n").decision.looks, (std::vector<int>{4, 12}));
}

TEST_F(ConfigDecision, ConfirmationBlock) {
  const Config c = load_text(k_minimal + "decision: {confirmation_pairs: 5, confirmation_alpha: 0.1}\n");
  EXPECT_EQ(c.decision.confirmation_pairs, 6);
  EXPECT_DOUBLE_EQ(c.decision.confirmation_alpha, 0.1);
  EXPECT_EQ(load_text(k_minimal + "decision: {confirmation_pairs: 0}\n").decision.confirmation_pairs, 0);
  EXPECT_EQ(error_for(k_minimal + "decision:\n  confirmation_pairs: 2\n"),
            at(6, "decision.confirmation_pairs: must be 0 (no confirmation block) or at least 3, got 2"));
  EXPECT_EQ(error_for(k_minimal + "decision:\n  confirmation_alpha: 0.6\n"),
            at(6, "decision.confirmation_alpha: must be in (0, 0.5], got 0.6"));
  EXPECT_EQ(load_text("benchmark: {command: ./b, pause: 0s}\nmetric: {name: t}\n").benchmark.pause, 0s);
}

TEST_F(ConfigDecision, BenchmarkCpus) {
  EXPECT_EQ(load_text(k_minimal).benchmark.cpus, "auto");
  EXPECT_EQ(load_text("benchmark: {command: ./b, cpus: 2-3}\nmetric: {name: t}\n").benchmark.cpus, "2-3");
  EXPECT_EQ(load_text("benchmark: {command: ./b, cpus: all}\nmetric: {name: t}\n").benchmark.cpus, "all");
  EXPECT_EQ(error_for("benchmark:\n  command: ./b\n  cpus: 3-1\nmetric: {name: t}\n"),
            at(3, "benchmark.cpus: expected auto, all or a CPU list such as 2-3 or 0,2,4-5, got \"3-1\""));
}

TEST_F(ConfigDecision, Executor) {
  const Config plain = load_text(k_minimal);
  EXPECT_EQ(plain.executor.kind, ExecutorKind::local);
  EXPECT_EQ(plain.executor.slots, 1);
  EXPECT_FALSE(to_json(plain).contains("executor"));  // the default leaves old headers as they were
  const Config two = load_text(k_minimal + "executor: {kind: local, slots: 2}\n");
  EXPECT_EQ(two.executor.slots, 2);
  EXPECT_TRUE(two.executor.pause_background);
  EXPECT_EQ(to_json(two)["executor"], nlohmann::json({{"kind", "local"}, {"slots", 2}, {"background", "pause"}}));
  EXPECT_FALSE(load_text(k_minimal + "executor: {slots: 2, background: run}\n").executor.pause_background);
  EXPECT_EQ(error_for(k_minimal + "executor:\n  background: stop\n"),
            at(6, "executor.background: expected pause or run, got \"stop\""));
  const Config slurm = load_text(k_minimal +
                                 "executor:\n  kind: slurm\n  slots: 3\n  partition: debug\n"
                                 "  sbatch_args: --time=10 --exclusive\n  workdir: /scratch/ar\n");
  EXPECT_EQ(slurm.executor.kind, ExecutorKind::slurm);
  EXPECT_EQ(slurm.executor.slots, 3);
  EXPECT_EQ(slurm.executor.partition, "debug");
  EXPECT_EQ(slurm.executor.sbatch_args, (std::vector<std::string>{"--time=10", "--exclusive"}));
  EXPECT_EQ(slurm.executor.workdir, "/scratch/ar");
  EXPECT_EQ(load_text(k_minimal + "executor: {kind: slurm, sbatch_args: [--qos=low, -N 1]}\n").executor.sbatch_args,
            (std::vector<std::string>{"--qos=low", "-N 1"}));
  EXPECT_EQ(load(write(to_json(slurm).dump())).executor.sbatch_args, slurm.executor.sbatch_args);

  EXPECT_EQ(error_for(k_minimal + "executor:\n  kind: cluster\n"),
            at(6, "executor.kind: expected local or slurm, got \"cluster\""));
  EXPECT_EQ(error_for(k_minimal + "executor:\n  slots: 0\n"), at(6, "executor.slots: must be at least 1, got 0"));
  EXPECT_EQ(error_for(k_minimal + "executor:\n  slots: 17\n"), at(6, "executor.slots: at most 16 slots, got 17"));
  EXPECT_EQ(error_for(k_minimal + "executor:\n  slots: 2\n  partition: debug\n"),
            at(7, "executor.partition: only used with kind: slurm"));
  EXPECT_EQ(error_for(k_minimal + "executor:\n  kind: slurm\n  workdir: scratch\n"),
            at(7, "executor.workdir: must be an absolute path, got \"scratch\""));
  EXPECT_NE(error_for(k_minimal + "executor:\n  slot: 2\n").find("did you mean \"slots\""), std::string::npos);
}

TEST_F(ConfigDecision, ScheduleErrors) {
  EXPECT_EQ(error_for(k_minimal + "decision:\n  max_pairs: 2\n"), at(6, "decision.max_pairs: must be at least 3, got 2"));
  EXPECT_EQ(error_for(k_minimal + "decision:\n  looks: [3, 5, 5, 12]\n"),
            at(6, "decision.looks: must be strictly increasing, got 5 after 5"));
  EXPECT_EQ(error_for(k_minimal + "decision:\n  looks:\n    - 3\n    - 1\n"),
            at(8, "decision.looks[1]: must be at least 2, got 1"));
  EXPECT_EQ(error_for(k_minimal + "decision:\n  max_pairs: 12\n  looks: [4, 8]\n"),
            at(7, "decision.looks: the last look (8) must equal decision.max_pairs (12)"));
  EXPECT_EQ(error_for(k_minimal + "decision:\n  looks: []\n"), at(6, "decision.looks: must not be empty"));
  EXPECT_EQ(error_for(k_minimal + "decision:\n  looks: [2]\n"),
            at(6, "decision.looks: the last look is the maximum number of pairs and must be at least 3, got 2"));
  EXPECT_EQ(error_for(k_minimal + "decision:\n  looks: [3, x]\n"),
            at(6, "decision.looks[1]: expected an integer, got \"x\""));
  EXPECT_EQ(error_for(k_minimal + "decision:\n  alpha: 0.7\n"), at(6, "decision.alpha: must be in (0, 0.5], got 0.7"));
  EXPECT_EQ(error_for(k_minimal + "decision:\n  alpha: 0\n"), at(6, "decision.alpha: must be in (0, 0.5], got 0"));
  EXPECT_EQ(error_for(k_minimal + "decision:\n  alpha: five\n"),
            at(6, "decision.alpha: expected a number, got \"five\""));
  EXPECT_DOUBLE_EQ(load_text(k_minimal + "decision: {alpha: 0.5}\n").decision.alpha, 0.5);
}

// ---- errors: each names file, line and key ---------------------------------------------------

using ConfigErrors = ConfigTest;

TEST_F(ConfigErrors, UnknownNestedKeySuggestsTheClosestKey) {
  EXPECT_EQ(error_for("# my session\n"
                      "benchmark:\n"
                      "  command: ./bench.sh\n"
                      "  timout: 5m\n"
                      "metric:\n"
                      "  name: t\n"),
            at(4, "benchmark: unknown key \"timout\" (did you mean \"timeout\"?)"));
}

TEST_F(ConfigErrors, UnknownTopLevelKeySuggestsTheClosestKey) {
  EXPECT_EQ(error_for(k_minimal + "\n\nlimit:\n  max_experiments: 3\n"),
            at(7, "unknown key \"limit\" (did you mean \"limits\"?)"));
  EXPECT_EQ(error_for("benchmarks:\n  command: x\n"), at(1, "unknown key \"benchmarks\" (did you mean \"benchmark\"?)"));
}

TEST_F(ConfigErrors, DidYouMeanCoversEveryLevel) {
  EXPECT_EQ(error_for("benchmark:\n  comand: x\n"), at(2, "benchmark: unknown key \"comand\" (did you mean \"command\"?)"));
  EXPECT_EQ(error_for(k_minimal + "decision:\n  max_pair: 5\n"),
            at(6, "decision: unknown key \"max_pair\" (did you mean \"max_pairs\"?)"));
  EXPECT_EQ(error_for(k_minimal + "gates:\n  - name: a\n    comand: b\n"),
            at(7, "gates[0]: unknown key \"comand\" (did you mean \"command\"?)"));
  EXPECT_EQ(error_for(k_minimal + "guards:\n  - name: a\n    tolerence: 3%\n"),
            at(7, "guards[0]: unknown key \"tolerence\" (did you mean \"tolerance\"?)"));
  EXPECT_EQ(error_for(k_minimal + "sources:\n  queue:\n    dirs: p\n"),
            at(7, "sources.queue: unknown key \"dirs\" (did you mean \"dir\"?)"));
  // Case slips count as close.
  EXPECT_EQ(error_for(k_minimal + "Goal: fast\n"), at(5, "unknown key \"Goal\" (did you mean \"goal\"?)"));
}

TEST_F(ConfigErrors, UnknownKeyFarFromAnyListsTheValidKeys) {
  EXPECT_EQ(error_for(k_minimal + "build:\n  make: all\n"),
            at(6, "build: unknown key \"make\" (valid keys: command, timeout)"));
}

TEST_F(ConfigErrors, BadDirection) {
  EXPECT_EQ(error_for("benchmark:\n  command: x\nmetric:\n  name: t\n  direction: up\n"),
            at(5, "metric.direction: expected \"lower\" or \"higher\", got \"up\""));
  EXPECT_EQ(error_for(k_minimal + "guards:\n  - name: rss\n    direction: down\n"),
            at(7, "guards[0].direction: expected \"lower\" or \"higher\", got \"down\""));
}

TEST_F(ConfigErrors, BadDuration) {
  EXPECT_EQ(error_for("benchmark:\n  command: x\n  timeout: ten minutes\n"),
            at(3, "benchmark.timeout: invalid duration \"ten minutes\" (use 90s, 10m, 2h)"));
  EXPECT_EQ(error_for(k_minimal + "gates:\n  - name: a\n    command: b\n    timeout: 5 min\n"),
            at(8, "gates[0].timeout: invalid duration \"5 min\" (use 90s, 10m, 2h)"));
  EXPECT_EQ(error_for(k_minimal + "limits:\n  max_duration: forever\n"),
            at(6, "limits.max_duration: invalid duration \"forever\" (use 90s, 10m, 2h)"));
}

TEST_F(ConfigErrors, TimeoutsMustBePositive) {
  EXPECT_EQ(error_for("benchmark:\n  command: x\n  timeout: 0s\n"), at(3, "benchmark.timeout: must be positive, got \"0s\""));
  EXPECT_EQ(error_for(k_minimal + "build:\n  timeout: -5m\n"), at(6, "build.timeout: must be positive, got \"-5m\""));
  EXPECT_EQ(error_for(k_minimal + "limits:\n  max_duration: -1h\n"),
            at(6, "limits.max_duration: must not be negative, got \"-1h\""));
  // A zero limit is allowed: it means no limit.
  EXPECT_EQ(load_text(k_minimal + "limits:\n  max_duration: 0\n").limits.max_duration, 0ms);
}

TEST_F(ConfigErrors, BadPercentages) {
  EXPECT_EQ(error_for(k_minimal + "guards:\n  - name: rss\n    tolerance: 5\n"),
            at(7, "guards[0].tolerance: invalid percentage \"5\" (use 1%, 0.5%, or a fraction below 1 such as 0.01)"));
  EXPECT_EQ(error_for(k_minimal + "decision:\n  min_effect: lots\n"),
            at(6, "decision.min_effect: invalid percentage \"lots\" (use 1%, 0.5%, or a fraction below 1 such as 0.01)"));
}

TEST_F(ConfigErrors, MissingRequiredKeysNameTheParentLine) {
  EXPECT_EQ(error_for("goal: x\n"
                      "benchmark:\n"
                      "  timeout: 5m\n"
                      "metric:\n"
                      "  name: t\n"),
            at(2, "benchmark: missing required key \"command\""));
  EXPECT_EQ(error_for("benchmark:\n"
                      "  command: x\n"
                      "\n"
                      "metric:\n"
                      "  unit: ms\n"),
            at(4, "metric: missing required key \"name\""));
  EXPECT_EQ(error_for(k_minimal + "gates:\n  - {name: a, command: c}\n  - command: b\n"),
            at(7, "gates[1]: missing required key \"name\""));
  EXPECT_EQ(error_for(k_minimal + "gates:\n  - name: a\n"), at(6, "gates[0]: missing required key \"command\""));
  EXPECT_EQ(error_for(k_minimal + "guards:\n  - tolerance: 3%\n"), at(6, "guards[0]: missing required key \"name\""));
}

TEST_F(ConfigErrors, MissingSectionsReportLineOne) {
  EXPECT_EQ(error_for("# nothing but a comment\n\ngoal: x\n"), at(1, "benchmark: missing required key \"command\""));
  EXPECT_EQ(error_for(""), at(1, "benchmark: missing required key \"command\""));
  EXPECT_EQ(error_for("\n\nbenchmark:\n  command: x\n"), at(1, "metric: missing required key \"name\""));
}

TEST_F(ConfigErrors, NullOrEmptyRequiredValues) {
  EXPECT_EQ(error_for("benchmark:\nmetric:\n  name: t\n"), at(1, "benchmark: missing required key \"command\""));
  EXPECT_EQ(error_for("benchmark:\n  command:\nmetric:\n  name: t\n"), at(2, "benchmark.command: must not be empty"));
  EXPECT_EQ(error_for("benchmark:\n  command: ''\nmetric:\n  name: t\n"), at(2, "benchmark.command: must not be empty"));
}

TEST_F(ConfigErrors, YamlSyntaxErrorReportsTheParserLine) {
  EXPECT_EQ(error_for("benchmark:\n  command: x\nmetric:\n  name: a: b\nlimits: {}\n"),
            at(4, "invalid YAML: illegal map value"));
  EXPECT_EQ(error_for("benchmark:\n  command: x\n\tmetric: t\n"),
            at(3, "invalid YAML: illegal tab when looking for indentation"));
}

TEST_F(ConfigErrors, TopLevelMustBeAMap) {
  EXPECT_EQ(error_for("# list\n- a\n- b\n"), at(2, "expected a map of settings at the top level, got a list"));
  EXPECT_EQ(error_for("just text\n"), at(1, "expected a map of settings at the top level, got \"just text\""));
}

TEST_F(ConfigErrors, MissingFileNamesPathAndReason) {
  const auto missing = m_dir / "nope" / "autoresearch.config.yaml";
  try {
    load(missing);
    FAIL() << "loaded a missing file";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), missing.string() + ": cannot read config file: No such file or directory");
  }
  try {
    load(m_dir.path());
    FAIL() << "loaded a directory";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), m_dir.path().string() + ": cannot read config file: Is a directory");
  }
}

TEST_F(ConfigErrors, MessagesUseThePathAsGiven) {
  write(k_minimal + "session: 'a b'\n");
  const auto given = m_dir / "." / "sub" / ".." / "autoresearch.config.yaml";
  std::filesystem::create_directories(m_dir / "sub");
  try {
    load(given);
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              given.string() + ":5: session: \"a b\" may contain only letters, digits, '.', '_' and '-'");
  }
}

TEST_F(ConfigErrors, TypeErrorsNameTheKey) {
  EXPECT_EQ(error_for("benchmark:\n  command:\n    run: x\nmetric:\n  name: t\n"),
            at(2, "benchmark.command: expected a string, got a map"));
  EXPECT_EQ(error_for("benchmark: ./bench.sh\n"), at(1, "benchmark: expected a map, got \"./bench.sh\""));
  EXPECT_EQ(error_for(k_minimal + "protected: gates/\n"), at(5, "protected: expected a list, got \"gates/\""));
  EXPECT_EQ(error_for(k_minimal + "scope:\n  - [src, lib]\n"), at(6, "scope[0]: expected a string, got a list"));
  EXPECT_EQ(error_for(k_minimal + "scope: ['']\n"), at(5, "scope[0]: must not be empty"));
  EXPECT_EQ(error_for(k_minimal + "gates:\n  - tests\n"), at(6, "gates[0]: expected a map, got \"tests\""));
  EXPECT_EQ(error_for(k_minimal + "goal: [a, b]\n"), at(5, "goal: expected a string, got a list"));
  EXPECT_EQ(error_for(k_minimal + "limits:\n  target: high\n"), at(6, "limits.target: expected a number, got \"high\""));
  EXPECT_EQ(error_for(k_minimal + "limits:\n  target: .inf\n"), at(6, "limits.target: expected a number, got \".inf\""));
  EXPECT_EQ(error_for(k_minimal + "limits:\n  max_experiments: 1.5\n"),
            at(6, "limits.max_experiments: expected an integer, got \"1.5\""));
  EXPECT_EQ(error_for(k_minimal + "limits:\n  max_consecutive_failures: -1\n"),
            at(6, "limits.max_consecutive_failures: must be at least 0, got -1"));
  EXPECT_EQ(error_for("benchmark:\n  command: x\n  warmup: -2\n"), at(3, "benchmark.warmup: must be at least 0, got -2"));
  EXPECT_EQ(error_for(k_minimal + "{a: 1}: x\n"), at(5, "keys must be plain names, got a map"));
}

TEST_F(ConfigErrors, DuplicateKeysAreErrors) {
  EXPECT_EQ(error_for("benchmark:\n  command: a\n  timeout: 1m\n  command: b\n"),
            at(4, "benchmark: duplicate key \"command\" (first on line 2)"));
}

TEST_F(ConfigErrors, GateNamesMustBeUnique) {
  EXPECT_EQ(error_for(k_minimal +
                      "gates:\n"
                      "  - name: tests\n"
                      "    command: make test\n"
                      "  - name: tests\n"
                      "    command: make check\n"),
            at(8, "gates[1].name: duplicate gate name \"tests\" (first on line 6)"));
  EXPECT_EQ(error_for(k_minimal + "guards:\n  - name: rss\n  - name: rss\n"),
            at(7, "guards[1].name: duplicate guard \"rss\" (first on line 6)"));
}

TEST_F(ConfigErrors, SweepsAndSourcesAreValidated) {
  EXPECT_EQ(error_for(k_minimal + "sources:\n  queue: {dir: p}\n  sweeps:\n    - file: a.c\n"),
            at(8, "sources.sweeps[0]: missing required key \"name\""));
  EXPECT_EQ(error_for(k_minimal + "sources:\n  sweeps:\n    - {name: n, file: a.c, pattern: 'x (a)(b)', values: [1]}\n"),
            at(7, "sources.sweeps[0].pattern: needs exactly one capture group, has 2"));
  EXPECT_EQ(error_for(k_minimal + "sources:\n  sweeps:\n    - {name: n, file: a.c, pattern: 'x (\\d+)', values: []}\n"),
            at(7, "sources.sweeps[0].values: must list at least one value"));
  EXPECT_EQ(error_for(k_minimal + "sources:\n  sweeps:\n    - {name: n, file: ../x.c, pattern: 'x (\\d+)', values: [1]}\n"),
            at(7, "sources.sweeps[0].file: \"../x.c\" must be a path inside the repository (no absolute path, no \"..\", "
                  "not in .git/ or .autoresearch/)"));
  EXPECT_EQ(error_for(k_minimal + "sources:\n  order: [queue, agent]\n"),
            at(6, "sources.order[1]: expected queue, sweeps or proposer, got \"agent\""));
  EXPECT_EQ(error_for(k_minimal + "sources:\n  proposer:\n    comand: x\n"),
            at(7, "sources.proposer: unknown key \"comand\" (did you mean \"command\"?)"));
  EXPECT_EQ(error_for(k_minimal + "sources:\n  sweep: []\n"),
            at(6, "sources: unknown key \"sweep\" (did you mean \"sweeps\"?)"));
}

TEST_F(ConfigErrors, SessionMustBeABranchNamePart) {
  EXPECT_EQ(error_for("session: my/session\n" + k_minimal),
            at(1, "session: \"my/session\" may contain only letters, digits, '.', '_' and '-'"));
  EXPECT_EQ(error_for("session: ''\n" + k_minimal),
            at(1, "session: \"\" may contain only letters, digits, '.', '_' and '-'"));
  EXPECT_EQ(error_for("session: a..b\n" + k_minimal),
            at(1, "session: \"a..b\" is not a valid git branch name part (no leading '.', no '..', no '.lock' ending)"));
  EXPECT_EQ(error_for("session: x.lock\n" + k_minimal),
            at(1, "session: \"x.lock\" is not a valid git branch name part (no leading '.', no '..', no '.lock' ending)"));
}

TEST_F(ConfigErrors, MetricNamesMustBeMeasurable) {
  EXPECT_EQ(error_for("benchmark:\n  command: x\nmetric:\n  name: p95 latency\n"),
            at(4, "metric.name: \"p95 latency\" is not a valid METRIC name (letters, digits, '_', '.', 'µ')"));
  EXPECT_EQ(error_for(k_minimal + "guards:\n  - name: rss-kb\n"),
            at(6, "guards[0].name: \"rss-kb\" is not a valid METRIC name (letters, digits, '_', '.', 'µ')"));
}

// ---- durations and percentages --------------------------------------------------------------

TEST(ConfigDuration, ParsesEveryUnit) {
  EXPECT_EQ(parse_duration("500ms"), Duration(500));
  EXPECT_EQ(parse_duration("90s"), Duration(90'000));
  EXPECT_EQ(parse_duration("10m"), Duration(600'000));
  EXPECT_EQ(parse_duration("2h"), Duration(7'200'000));
  EXPECT_EQ(parse_duration("1d"), Duration(86'400'000));
  EXPECT_EQ(parse_duration("45"), Duration(45'000));  // bare: seconds
  EXPECT_EQ(parse_duration("1.5s"), Duration(1'500));
  EXPECT_EQ(parse_duration("0.25h"), Duration(900'000));
  EXPECT_EQ(parse_duration("0"), Duration(0));
}

TEST(ConfigDuration, RejectsMalformedText) {
  for (const char* bad : {"", "s", "ten minutes", "10 m", "10min", "10M", "5x", "1e3s", "-5s", "0x10s", "1.5ms",
                          "inf", "nans", "99999999999999d", "+5s"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(ConfigDuration, FormatsTheShortestExactForm) {
  EXPECT_EQ(format_duration(Duration(0)), "0s");
  EXPECT_EQ(format_duration(Duration(250)), "250ms");
  EXPECT_EQ(format_duration(Duration(1'500)), "1.5s");
  EXPECT_EQ(format_duration(Duration(1'250)), "1.25s");
  EXPECT_EQ(format_duration(Duration(90'000)), "90s");
  EXPECT_EQ(format_duration(Duration(60'000)), "1m");
  EXPECT_EQ(format_duration(Duration(600'000)), "10m");
  EXPECT_EQ(format_duration(Duration(5'400'000)), "90m");
  EXPECT_EQ(format_duration(Duration(7'200'000)), "2h");
  EXPECT_EQ(format_duration(Duration(86'400'000)), "1d");
  EXPECT_EQ(format_duration(Duration(129'600'000)), "36h");
  EXPECT_EQ(format_duration(Duration(60'001)), "60.001s");
  EXPECT_EQ(format_duration(Duration(-90'000)), "-90s");
}

TEST(ConfigDuration, FormatAndParseRoundTrip) {
  for (long long ms : {1LL, 999LL, 1'000LL, 1'001LL, 61'000LL, 3'600'000LL, 90'061'001LL, 172'800'000LL}) {
    EXPECT_EQ(parse_duration(format_duration(Duration(ms))), Duration(ms)) << ms;
  }
}

TEST(ConfigPercent, ParsesPercentAndFractions) {
  EXPECT_DOUBLE_EQ(*parse_percent("1%"), 0.01);
  EXPECT_DOUBLE_EQ(*parse_percent("0.5%"), 0.005);
  EXPECT_DOUBLE_EQ(*parse_percent("0%"), 0.0);
  EXPECT_DOUBLE_EQ(*parse_percent("150%"), 1.5);
  EXPECT_DOUBLE_EQ(*parse_percent("0.05"), 0.05);
  EXPECT_DOUBLE_EQ(*parse_percent("0"), 0.0);
}

TEST(ConfigPercent, RejectsAmbiguousOrMalformedText) {
  for (const char* bad : {"", "%", "5", "1", "1.0", "-1%", "-0.1", "abc", "5 %", "5%%", "1e", "inf%", "nan"}) {
    EXPECT_FALSE(parse_percent(bad).has_value()) << bad;
  }
}

// ---- the starter config ---------------------------------------------------------------------

using ConfigStarter = ConfigTest;

TEST_F(ConfigStarter, LoadsWithoutError) {
  const Config c = load_text(starter_config());
  EXPECT_EQ(c.benchmark.command, "./bench.sh");
  EXPECT_EQ(c.metric.name, "time_ms");
  EXPECT_FALSE(c.protected_paths.empty());
}

TEST_F(ConfigStarter, ShowsTheDefaults) {
  // Everything but the placeholders and the protected list is what an empty config would give.
  nlohmann::json starter = to_json(load_text(starter_config()));
  nlohmann::json defaults = to_json(load_text(k_minimal));
  for (auto* j : {&starter, &defaults}) {
    (*j)["benchmark"].erase("command");
    (*j)["metric"].erase("name");
    j->erase("protected");
  }
  EXPECT_EQ(starter, defaults);
}

TEST_F(ConfigStarter, DocumentsEveryKey) {
  const std::string text = starter_config();
  for (const char* key : {"session:", "goal:", "benchmark:", "command:", "timeout:", "warmup:", "build:", "metric:",
                          "name:", "direction:", "unit:", "guards:", "tolerance:", "gates:", "protected:", "scope:",
                          "decision:", "min_effect:", "alpha:", "max_pairs:", "looks:", "sources:", "queue:", "dir:",
                          "limits:", "max_experiments:", "max_duration:", "max_consecutive_failures:", "target:"}) {
    EXPECT_NE(text.find(key), std::string::npos) << key;
  }
  // One comment per setting line: every line holding a key also explains it.
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    const bool is_setting = line.find(':') != std::string::npos && line.rfind('#', 0) != 0;
    const bool is_section_header = !line.empty() && line.back() == ':';
    if (is_setting && !is_section_header) {
      EXPECT_NE(line.find(" # "), std::string::npos) << line;
    }
  }
}

// ---- gates after the benchmark, harness files ------------------------------------------------

TEST_F(ConfigLoad, GateAfterBenchmarkAndHarness) {
  Config c = load_text(k_minimal +
                       "gates:\n"
                       "  - name: unit\n"
                       "    command: make test\n"
                       "  - name: output\n"
                       "    command: ./check.sh\n"
                       "    after: benchmark\n"
                       "harness: [.auto/measure.sh, ./tools//run.sh]\n");
  ASSERT_EQ(c.gates.size(), 2u);
  EXPECT_FALSE(c.gates[0].after_benchmark);
  EXPECT_TRUE(c.gates[1].after_benchmark);
  ASSERT_EQ(c.harness.size(), 2u);
  EXPECT_EQ(c.harness[0].path, ".auto/measure.sh");
  EXPECT_EQ(c.harness[1].path, "tools/run.sh");
  EXPECT_EQ(c.harness[0].line, 11);
  nlohmann::json j = to_json(c);
  EXPECT_FALSE(j["gates"][0].contains("after"));  // the default is not written: no new segment on upgrade
  EXPECT_EQ(j["gates"][1]["after"], "benchmark");
  EXPECT_EQ(j["harness"], nlohmann::json::array({".auto/measure.sh", "tools/run.sh"}));
  EXPECT_FALSE(to_json(load_text(k_minimal)).contains("harness"));
}

TEST_F(ConfigErrors, GateAfterAndHarnessAreChecked) {
  EXPECT_EQ(error_for(k_minimal + "gates:\n  - name: a\n    command: b\n    after: build\n"),
            at(8, "gates[0].after: expected benchmark (leave the key out to run the gate before the benchmark), "
                  "got \"build\""));
  EXPECT_EQ(error_for(k_minimal + "gates:\n  - name: a\n    command: b\n    aftr: benchmark\n"),
            at(8, "gates[0]: unknown key \"aftr\" (did you mean \"after\"?)"));
  EXPECT_EQ(error_for(k_minimal + "harness:\n  - ../outside.sh\n"),
            at(6, "harness[0]: \"../outside.sh\" must be a path inside the repository (no absolute path, no "
                  "\"..\", not in .git/ or .autoresearch/)"));
  EXPECT_EQ(error_for(k_minimal + "harness: [/abs/measure.sh]\n"),
            at(5, "harness[0]: \"/abs/measure.sh\" must be a path inside the repository (no absolute path, no "
                  "\"..\", not in .git/ or .autoresearch/)"));
  EXPECT_EQ(error_for(k_minimal + "harness:\n  - a.sh\n  - ./a.sh\n"),
            at(7, "harness[1]: \"a.sh\" is listed twice (first on line 6)"));
  EXPECT_EQ(error_for(k_minimal + "harnes: [a.sh]\n"), at(5, "unknown key \"harnes\" (did you mean \"harness\"?)"));
}

TEST_F(ConfigTest, ExecutorDefaultsToOneLocalSlot) {
  const Config c = load_text(k_minimal);
  EXPECT_EQ(c.executor.kind, ExecutorKind::local);
  EXPECT_EQ(c.executor.slots, 1);
  EXPECT_FALSE(to_json(c).contains("executor"));  // no new journal segment for the default
}

TEST_F(ConfigTest, ExecutorSlurmKeys) {
  const Config c = load_text(k_minimal +
                             "executor:\n  kind: slurm\n  partition: batch\n  sbatch_args: [--exclusive, "
                             "--constraint=fast]\n  workdir: /shared/ar\n");
  EXPECT_EQ(c.executor.kind, ExecutorKind::slurm);
  EXPECT_EQ(c.executor.partition, "batch");
  EXPECT_EQ(c.executor.sbatch_args, (std::vector<std::string>{"--exclusive", "--constraint=fast"}));
  EXPECT_EQ(c.executor.workdir, "/shared/ar");
  EXPECT_EQ(to_json(c)["executor"]["kind"], "slurm");
}

TEST_F(ConfigTest, ExecutorErrorsNameTheKey) {
  EXPECT_NE(error_for(k_minimal + "executor: {kind: lsf}\n").find("executor.kind: expected local or slurm"),
            std::string::npos);
  EXPECT_NE(error_for(k_minimal + "executor: {kind: local, partition: batch}\n")
                .find("executor.partition: only used with kind: slurm"),
            std::string::npos);
  EXPECT_NE(error_for(k_minimal + "executor: {knd: slurm}\n").find("did you mean \"kind\""), std::string::npos);
  EXPECT_NE(error_for(k_minimal + "executor: {slots: 0}\n").find("executor.slots"), std::string::npos);
}

} // namespace
} // namespace ar::config

namespace ar::config {
namespace {

// `reference` (issue 13, item 2): a revision or a command, exactly one, validated like the rest.
TEST_F(ConfigLoad, ReferenceIsACommitOrACommand) {
  EXPECT_FALSE(load_text(k_minimal).reference.set());
  Config c = load_text(k_minimal + "reference:\n  commit: v1.0\n");
  EXPECT_EQ(c.reference.commit, "v1.0");
  EXPECT_TRUE(c.reference.command.empty());
  EXPECT_EQ(to_json(c)["reference"]["commit"], "v1.0");
  c = load_text(k_minimal + "reference:\n  command: ./old.sh\n");
  EXPECT_EQ(c.reference.command, "./old.sh");
  EXPECT_FALSE(to_json(load_text(k_minimal)).contains("reference"));
}

TEST_F(ConfigErrors, ReferenceNeedsExactlyOneOfCommitOrCommand) {
  EXPECT_EQ(error_for(k_minimal + "reference:\n  commit: v1\n  command: ./old.sh\n"),
            at(5, "reference: give exactly one of commit (a revision) or command (a benchmark command)"));
  EXPECT_EQ(error_for(k_minimal + "reference:\n  comit: v1\n"),
            at(6, "reference: unknown key \"comit\" (did you mean \"commit\"?)"));
  EXPECT_EQ(error_for(k_minimal + "refrence:\n  commit: v1\n"),
            at(5, "unknown key \"refrence\" (did you mean \"reference\"?)"));
}

}  // namespace
}  // namespace ar::config
