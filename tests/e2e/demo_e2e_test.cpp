// The demo session shipped at the repository root, run end to end on a copy of the repository:
// every queued patch must end in the status it was written to demonstrate.

#include "e2e/e2e_support.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <vector>

#include <fmt/format.h>

namespace ar::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST(DemoE2E, EveryDemoPatchEndsInItsExpectedStatus) {
  TempDir tmp("autoresearch-demo");
  fs::path repo = tmp / "repo";
  fs::create_directories(repo);
  // The tracked files of this source tree, with their edits in the working tree, except what the
  // demo itself writes when it is run in this checkout (its journal, ideas.md marks, reports):
  // those as committed, so a demo run before the tests leaves this test as a fresh clone has it.
  // Untracked files (.autoresearch/, an archived results.demo.jsonl) are never copied, and the
  // copy is a new repository, so the checkout's autoresearch/demo branch is not seen either.
  auto demo_output = [](const std::string& rel) {
    return rel == "results.jsonl" || rel == "ideas.md" || rel.rfind("reports/", 0) == 0;
  };
  std::string files = git(AUTORESEARCH_SOURCE_DIR, "ls-files");
  size_t pos = 0;
  while (pos < files.size()) {
    size_t end = files.find('\n', pos);
    if (end == std::string::npos) end = files.size();
    std::string rel = files.substr(pos, end - pos);
    pos = end + 1;
    fs::path src = fs::path(AUTORESEARCH_SOURCE_DIR) / rel;
    fs::create_directories((repo / rel).parent_path());
    if (demo_output(rel)) {
      std::string out;
      int rc = shell("cd " + shell_quote(AUTORESEARCH_SOURCE_DIR) +
                         " && GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_SYSTEM=/dev/null git show " +
                         shell_quote("HEAD:" + rel) + " > " + shell_quote((repo / rel).string()),
                     &out);
      ASSERT_EQ(rc, 0) << rel << ": " << out;
      continue;
    }
    if (!fs::exists(src)) continue;  // deleted in the working tree
    fs::copy_file(src, repo / rel, fs::copy_options::overwrite_existing);
  }
  git(repo, "init -q");
  git(repo, "add -A");
  git(repo, "commit -q -m demo");

  CliResult run = run_cli(repo, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::cout << run.output;

  std::map<std::string, json> by_file;
  std::vector<json> sweeps, proposals;
  std::string journal = read_text(repo / "results.jsonl");
  pos = 0;
  while (pos < journal.size()) {
    size_t end = journal.find('\n', pos);
    json r = json::parse(journal.substr(pos, end - pos));
    pos = end + 1;
    if (r["type"] != "experiment") continue;
    std::string kind = r["source"]["kind"];
    if (kind == "queue") by_file[r["source"]["file"].get<std::string>()] = r;
    if (kind == "sweep") sweeps.push_back(r);
    if (kind == "proposer") proposals.push_back(r);
  }
  ASSERT_EQ(by_file.size(), 8u);
  // Past its queue the demo sweeps the bucket count, then asks the example proposer.
  ASSERT_EQ(sweeps.size(), 3u);
  for (const json& r : sweeps) {
    EXPECT_EQ(r["asi"]["sweep"], "buckets");
    EXPECT_TRUE(r.contains("metric")) << r.dump();
  }
  // How many proposals run depends on the plateau rule (10 experiments without a keep), hence on
  // the verdicts; the first proposal always runs and is measured.
  ASSERT_GE(proposals.size(), 1u);
  EXPECT_EQ(proposals[0]["title"], "Classify bytes with ASCII range checks instead of isalpha and tolower");
  EXPECT_TRUE(proposals[0].contains("metric")) << proposals[0].dump();
  // The proposer got a context with the experiments before it.
  std::string ctx = read_text(repo / ".autoresearch/context" / fmt::format("{:04d}.json", proposals[0]["id"].get<int>()));
  json c = json::parse(ctx);
  EXPECT_GE(c["recent_experiments"].size(), 11u);
  EXPECT_FALSE(c["dead_ends"].empty());
  // Ideas got ids; the proposal linked to i3 marked it.
  std::string ideas = read_text(repo / "ideas.md");
  EXPECT_NE(ideas.find("[#i3]"), std::string::npos) << ideas;
  EXPECT_NE(ideas.find(fmt::format("in experiment {}", proposals[0]["id"].get<int>())), std::string::npos) << ideas;
  auto status = [&](const std::string& f) { return by_file.at("experiments/" + f)["status"].get<std::string>(); };
  EXPECT_EQ(status("01-fnv1a-hash.patch"), "keep");
  std::string noop = status("02-rename-ranking-array.patch");
  EXPECT_TRUE(noop == "discard" || noop == "inconclusive") << noop;
  // A real regression on a real, noisy machine: a dead end when its interval shows it, else
  // inconclusive (underpowered); never kept.
  std::string slower = status("03-l1-sized-table.patch");
  EXPECT_TRUE(slower == "discard" || slower == "inconclusive") << slower;
  EXPECT_EQ(status("04-block-reads.patch"), "keep");
  EXPECT_EQ(status("05-skip-tolower.patch"), "checks_failed");
  EXPECT_EQ(status("06-open-addressing.patch"), "crash");
  EXPECT_EQ(status("07-gate-compare-words-only.patch"), "rejected");
  EXPECT_EQ(status("08-getc-unlocked.patch"), "apply_failed");

  CliResult report = run_cli(repo, "report");
  ASSERT_EQ(report.exit_code, 0) << report.output;
  std::string md = read_text(repo / "reports/report.md");
  EXPECT_NE(md.find("Hash words with FNV-1a"), std::string::npos);
  EXPECT_NE(md.find("Read input in 64 KiB blocks"), std::string::npos);
}

} // namespace
} // namespace ar::test
