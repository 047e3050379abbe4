// `autoresearch show N` (issue 13, item 4), `--json` on report and verify (item 5), and the machine
// in the journal header and the report (item 3), through the built binary on a real repository.

#include "e2e/robust_support.hpp"

#include <gtest/gtest.h>

namespace ar::test {
namespace {

using nlohmann::json;

// The JSON document that ends `output` (the test's shell joins stderr's progress lines to it).
json json_at_end(const std::string& output) {
  std::size_t at = output.rfind("\n{\n");
  return json::parse(output.rfind("{\n", 0) == 0 ? output : output.substr(at == std::string::npos ? 0 : at + 1));
}

TEST(ShowE2E, EveryExperimentShowsItsVerdictDiffAndLogRejectedOnesIncluded) {
  TempDir tmp("autoresearch-show");
  FixtureRepo repo(tmp.path());
  repo.queue_change("01-faster.patch", "Title: Faster\nMechanism: less work", "speed.txt", "0.8\n");
  // Rejected at screening: it touches a protected path. Its diff is still kept for `show`.
  repo.queue_change("02-protected.patch", "Title: Loosen the gate", "gates/check.sh", "#!/bin/sh\nexit 0\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -qm queue");
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> records = repo.records();
  ASSERT_EQ(records.size(), 2u) << run.output;
  ASSERT_EQ(records[0]["status"], "keep");
  ASSERT_EQ(records[1]["status"], "rejected");

  CliResult kept = run_cli(repo.root, "show 1");
  ASSERT_EQ(kept.exit_code, 0) << kept.output;
  for (const char* part : {"#1 Faster", "status: keep", "mechanism: less work", "score: -", "over ", "gate check: exit 0",
                           "--- diff (.autoresearch/patches/0001.patch) ---", "+0.8", "--- log (", "METRIC score="}) {
    EXPECT_NE(kept.output.find(part), std::string::npos) << part << "\n" << kept.output;
  }
  CliResult rejected = run_cli(repo.root, "show 2 --diff");
  ASSERT_EQ(rejected.exit_code, 0) << rejected.output;
  EXPECT_EQ(rejected.output.rfind("diff --git a/gates/check.sh b/gates/check.sh", 0), 0u) << rejected.output;
  EXPECT_EQ(rejected.output.find("status:"), std::string::npos) << "--diff prints only the diff";

  CliResult as_json = run_cli(repo.root, "show 2 --json");
  ASSERT_EQ(as_json.exit_code, 0) << as_json.output;
  json j = json::parse(as_json.output);
  EXPECT_EQ(j["record"]["id"], 2);
  EXPECT_EQ(j["record"]["status"], "rejected");
  EXPECT_NE(j["diff"].get<std::string>().find("+exit 0"), std::string::npos);
  EXPECT_TRUE(j["log_tail"].is_null()) << "no command ran for a rejected patch";

  CliResult log = run_cli(repo.root, "show 1 --log");
  EXPECT_EQ(log.output.rfind("==> ", 0), 0u) << log.output;

  CliResult missing = run_cli(repo.root, "show 7");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("results.jsonl: no experiment 7 in session \"e2e\" (2 recorded)"), std::string::npos)
      << missing.output;

  // The machine: in the journal header, and in the report's methodology.
  json header = robust::journal_lines(repo.root).front();
  const json& env = header["environment"];
  EXPECT_GT(env.value("cores", 0), 0) << header.dump(2);
  EXPECT_GT(env.value("memory_kb", 0LL), 0) << header.dump(2);
  EXPECT_EQ(env.value("kernel", "").rfind("Linux ", 0), 0u) << header.dump(2);
  EXPECT_EQ(env["load_average"].size(), 3u) << header.dump(2);
  EXPECT_TRUE(env["compilers"].contains("cc")) << header.dump(2);
  ASSERT_EQ(run_cli(repo.root, "report").exit_code, 0);
  std::string report = read_text(repo.root / "reports/report.md");
  std::size_t machine = report.find("- Machine (as this journal segment started): ");
  ASSERT_NE(machine, std::string::npos) << report;
  std::string line = report.substr(machine, report.find('\n', machine) - machine);
  EXPECT_NE(line.find(std::to_string(env["cores"].get<int>()) + " cores"), std::string::npos) << line;
  EXPECT_NE(line.find("load "), std::string::npos) << line;

  // The data behind the report, and verify's record, as JSON on stdout (progress on stderr).
  CliResult data = run_cli(repo.root, "report --json");
  ASSERT_EQ(data.exit_code, 0) << data.output;
  json r = json_at_end(data.output);
  EXPECT_EQ(r["kept"], json::array({1}));
  EXPECT_EQ(r["experiments"].size(), 2u);
  EXPECT_EQ(r["experiments"][1]["status"], "rejected");
  EXPECT_LT(r["metric"]["change"].get<double>(), -0.1) << r["metric"].dump();
  EXPECT_EQ(r["environment"]["cores"], env["cores"]);
  CliResult verify = run_cli(repo.root, "verify --pairs 3 --json");
  ASSERT_EQ(verify.exit_code, 0) << verify.output;
  json v = json_at_end(verify.output);
  EXPECT_EQ(v["type"], "verify");
  EXPECT_EQ(v["pairs"], 3);
  EXPECT_LT(v["metric"]["effect"].get<double>(), -0.1) << v.dump(2);
}

}  // namespace
}  // namespace ar::test
