// `autoresearch import` on pi-autoresearch sessions made from tests/fixtures/pi-*/ (our own files in
// pi's formats): the flat layout with a two-segment log and tracked scripts, and the .auto/ layout,
// git-ignored, whose log names `combined_µs` while its script prints `combined_us`.

#include "e2e/e2e_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace ar::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using ar::test::contains;

// A git repository holding a copy of the fixture, committed (what .gitignore ignores stays
// untracked, as in a real checkout).
fs::path make_repo(const TempDir& dir, const std::string& fixture) {
  fs::path repo = dir / "repo";
  fs::copy(fs::path(AUTORESEARCH_SOURCE_DIR) / "tests/fixtures" / fixture, repo, fs::copy_options::recursive);
  git(repo, "init -q");
  git(repo, "add -A");
  git(repo, "commit -qm fixture");
  return repo;
}

std::vector<json> journal_lines(const fs::path& repo) {
  std::vector<json> out;
  std::ifstream in(repo / "results.jsonl");
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

TEST(PiImport, FlatLayoutWithTwoSegments) {
  TempDir dir("pi-import");
  fs::path repo = make_repo(dir, "pi-flat");
  const std::string log_before = read_text(repo / "autoresearch.jsonl");
  CliResult r = run_cli(repo, "import");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The pi log is untouched, byte for byte.
  EXPECT_EQ(read_text(repo / "autoresearch.jsonl"), log_before);
  std::string config = read_text(repo / "autoresearch.config.yaml");
  EXPECT_TRUE(contains(config, "command: \"bash autoresearch.sh\""));
  EXPECT_TRUE(contains(config, "name: \"combined_us\""));  // the last segment's metric
  EXPECT_TRUE(contains(config, "after: benchmark"));
  EXPECT_TRUE(contains(config, "shell: bash"));
  EXPECT_TRUE(contains(config, "max_experiments: 30"));
  EXPECT_FALSE(contains(config, "harness:"));  // the scripts are tracked
  // What could not be mapped is listed: the garbage line, the hook line, pi's confidence.
  EXPECT_TRUE(contains(r.output, "not mapped:"));
  EXPECT_TRUE(contains(r.output, "autoresearch.jsonl:10: not a JSON object"));
  EXPECT_TRUE(contains(r.output, "1 hook line(s)"));
  EXPECT_TRUE(contains(r.output, "segment 1 (2 runs, metric \"total_ms\")"));
  EXPECT_TRUE(contains(r.output, "it printed combined_us, parse_us"));

  // History: a header and the six runs as imported experiments.
  std::vector<json> lines = journal_lines(repo);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0]["type"], "header");
  EXPECT_EQ(lines[0]["imported"]["file"], "autoresearch.jsonl");
  EXPECT_EQ(lines[4]["status"], "checks_failed");
  EXPECT_EQ(lines[4]["title"], "Skip the uniq pass by counting in awk");
  EXPECT_EQ(lines[4]["idea"], "i1");

  // Ideas: pi's backlog, with ids, the tried ones marked.
  std::string ideas = read_text(repo / "ideas.md");
  EXPECT_TRUE(contains(ideas, "- Skip the uniq pass by counting in awk [#i1]\n  - autoresearch: tried in "
                              "pi-autoresearch run 4 (imported experiment 4): checks_failed"));
  EXPECT_TRUE(contains(ideas, "- Use LC_ALL=C for every sort [#i2]\n- Read the input once [#i3]\n  - autoresearch: "
                              "tried in pi-autoresearch run 6"));

  // status and show list the history as imported, before any run.
  CliResult st = run_cli(repo, "status");
  ASSERT_EQ(st.exit_code, 0) << st.output;
  EXPECT_TRUE(contains(st.output, "experiments: 0\n"));
  EXPECT_TRUE(contains(st.output,
                       "imported: 6 pi-autoresearch run(s) from autoresearch.jsonl (1 checks_failed, 1 crash, 1 discard, "
                       "3 keep)"));
  EXPECT_TRUE(contains(st.output, "#6   keep          Read the input once  (imported; pi-autoresearch run 6; pi logged "
                                  "combined_us=91000 us (-9.0% against its segment's baseline 100000 us))"));
  CliResult show = run_cli(repo, "show 4");
  ASSERT_EQ(show.exit_code, 0) << show.output;
  EXPECT_TRUE(contains(show.output, "imported: pi-autoresearch run 4, commit b2c3d4e, logged combined_us=61000"));
  EXPECT_TRUE(contains(show.output, "mechanism: counts differ for ties"));

  // Nothing else changed in the checkout, and the dry run's worktree is gone.
  EXPECT_EQ(git(repo, "status --porcelain"), "?? autoresearch.config.yaml\n?? ideas.md\n?? results.jsonl");
  EXPECT_EQ(git(repo, "worktree list --porcelain").find("autoresearch-import"), std::string::npos);

  // Again: refused in one line, unless --force; the history is not imported twice.
  CliResult again = run_cli(repo, "import");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(contains(again.output, "autoresearch.config.yaml exists; pass --force"));
  EXPECT_EQ(std::count(again.output.begin(), again.output.end(), '\n'), 1);
  CliResult forced = run_cli(repo, "import --force --no-dry-run");
  ASSERT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_TRUE(contains(forced.output, "already imported (6 experiments"));
  EXPECT_EQ(journal_lines(repo).size(), 7u);
}

TEST(PiImport, DotAutoLayoutIgnoredHarnessAndMetricRename) {
  TempDir dir("pi-import");
  fs::path repo = make_repo(dir, "pi-auto");
  ASSERT_EQ(git(repo, "ls-files .auto"), "");  // git-ignored, as pi's README suggests
  const std::string log_before = read_text(repo / ".auto/log.jsonl");
  CliResult r = run_cli(repo, "import");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_text(repo / ".auto/log.jsonl"), log_before);
  // The dry run found the printed name; the message names both.
  EXPECT_TRUE(contains(r.output, "the log names \"combined_µs\" but .auto/measure.sh prints \"combined_us\""));
  std::string config = read_text(repo / "autoresearch.config.yaml");
  EXPECT_TRUE(contains(config, "name: \"combined_us\""));
  EXPECT_TRUE(contains(config, "unit: \"µs\""));
  EXPECT_TRUE(contains(config, "harness:\n  - \".auto/checks.sh\"\n  - \".auto/lib.sh\"\n  - \".auto/measure.sh\"\n"));
  EXPECT_TRUE(contains(config, "protected:\n  - \".auto\"\n"));
  EXPECT_TRUE(contains(config, "notes: \".auto/prompt.md\""));
  EXPECT_EQ(git(repo, "worktree list --porcelain").find("autoresearch-import"), std::string::npos);
}

TEST(PiImport, SymlinkedIdeasFileIsWrittenThroughNeverReplaced) {
  TempDir dir("pi-import");
  fs::path repo = make_repo(dir, "pi-flat");
  write_text(repo / "notes/shared-ideas.md", "# Shared\n- An idea of mine\n");
  fs::create_symlink("notes/shared-ideas.md", repo / "ideas.md");
  CliResult r = run_cli(repo, "import --no-dry-run");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::is_symlink(repo / "ideas.md"));
  std::string shared = read_text(repo / "notes/shared-ideas.md");
  EXPECT_TRUE(contains(shared, "# Shared\n- An idea of mine [#i1]\n"));
  EXPECT_TRUE(contains(shared, "- Read the input once [#i4]"));
}

TEST(PiImport, DanglingIdeasSymlinkIsRefusedAndNothingWritten) {
  TempDir dir("pi-import");
  fs::path repo = make_repo(dir, "pi-flat");
  fs::create_symlink("gone/ideas.md", repo / "ideas.md");
  CliResult r = run_cli(repo, "import --no-dry-run");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.output, "ideas.md is a symlink to gone/ideas.md, which does not exist"));
  EXPECT_TRUE(fs::is_symlink(repo / "ideas.md"));
  EXPECT_FALSE(fs::exists(repo / "autoresearch.config.yaml"));
  EXPECT_FALSE(fs::exists(repo / "results.jsonl"));
}

// A pi log renamed to results.jsonl, or lying beside it, stops nothing.
TEST(PiImport, RenamedPiLogDoesNotStopStatusOrReport) {
  TempDir dir("pi-import");
  fs::path repo = make_repo(dir, "pi-flat");
  write_text(repo / "autoresearch.config.yaml",
             "session: plain\nbenchmark:\n  command: echo METRIC combined_us=1\nmetric:\n  name: combined_us\n");
  fs::copy_file(repo / "autoresearch.jsonl", repo / "results.jsonl");
  for (const char* cmd : {"status", "report"}) {
    CliResult r = run_cli(repo, cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd << ": " << r.output;
    EXPECT_FALSE(contains(r.output, "missing field")) << cmd;
  }
  EXPECT_EQ(read_text(repo / "results.jsonl"), read_text(repo / "autoresearch.jsonl"));
  // import refuses to write its history into the pi log itself.
  CliResult imp = run_cli(repo, "import --force --no-dry-run --log results.jsonl");
  EXPECT_EQ(imp.exit_code, 1);
  EXPECT_TRUE(contains(imp.output, "is the pi log itself"));
  // run too: it warns, starts its segment after the pi lines, and stops when there is nothing to try.
  fs::remove_all(repo / "experiments");
  write_text(repo / "autoresearch.config.yaml", read_text(repo / "autoresearch.config.yaml") +
                                                    "calibration:\n  on_start: false\n");
  CliResult run = run_cli(repo, "run");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "line(s) of a pi-autoresearch log"));
  EXPECT_TRUE(contains(run.output, "no more hypotheses"));
}

std::vector<json> queue_records(const fs::path& repo) {
  std::vector<json> out;
  for (const json& l : journal_lines(repo)) {
    if (l.value("type", "") == "experiment" && l["source"].value("kind", "") != "import") out.push_back(l);
  }
  return out;
}

std::string gate_tail(const json& record) {
  std::string out;
  for (const json& g : record.value("gates", json::array())) out += g.value("name", "") + ": " + g.value("tail", "") + "\n";
  return out;
}

// The whole way a pi user goes: import, then run, with no script edited. The broken-output patch
// would be kept at -64% if the checks ran before the benchmark (they would read no output, or a
// stale one); the dependency bump passes a drift check that looks at the index.
TEST(PiImport, FlatSessionRunsUnchangedAfterImport) {
  TempDir dir("pi-import");
  fs::path repo = make_repo(dir, "pi-flat");
  const std::string log_before = read_text(repo / "autoresearch.jsonl");
  CliResult imp = run_cli(repo, "import");
  ASSERT_EQ(imp.exit_code, 0) << imp.output;
  CliResult run = run_cli(repo, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> recs = queue_records(repo);
  ASSERT_EQ(recs.size(), 3u) << run.output;
  EXPECT_EQ(recs[0]["id"], 7);  // after the six imported ones
  EXPECT_EQ(recs[0]["title"], "Report only the top three words");
  EXPECT_EQ(recs[0]["status"], "checks_failed") << recs[0].dump(1);
  EXPECT_TRUE(contains(gate_tail(recs[0]), "out/analysis.txt differs")) << recs[0].dump(1);
  EXPECT_EQ(recs[1]["status"], "checks_failed") << recs[1].dump(1);
  EXPECT_TRUE(contains(gate_tail(recs[1]), "deps.lock changed")) << recs[1].dump(1);
  EXPECT_EQ(recs[2]["status"], "keep") << recs[2].dump(1);
  EXPECT_EQ(read_text(repo / "autoresearch.jsonl"), log_before);

  CliResult st = run_cli(repo, "status");
  ASSERT_EQ(st.exit_code, 0) << st.output;
  EXPECT_TRUE(contains(st.output, "experiments: 3 (2 checks_failed, 1 keep)"));
  EXPECT_TRUE(contains(st.output, "imported: 6 pi-autoresearch run(s) from autoresearch.jsonl"));
  CliResult js = run_cli(repo, "status --json");
  json s = json::parse(js.output);
  EXPECT_EQ(s["imported"]["experiments"], 6);
  CliResult rep = run_cli(repo, "report");
  ASSERT_EQ(rep.exit_code, 0) << rep.output;
  std::string report = read_text(repo / "reports/report.md");
  EXPECT_TRUE(contains(report, "## Imported history"));
  EXPECT_TRUE(contains(report, "| 4 | Skip the uniq pass by counting in awk | checks_failed |"));
  std::string dead = read_text(repo / "reports/dead-ends.md");
  EXPECT_TRUE(contains(dead, "Sort with a larger buffer (experiment 2)"));  // an imported discard
  EXPECT_TRUE(contains(dead, "Upgrade toylib to 1.3.0 (experiment 8)"));
}

// The .auto/ layout, git-ignored: the harness is copied into the worktrees, the metric is the
// printed name, and the proposer's context carries the imported history.
TEST(PiImport, DotAutoSessionRunsUnchangedAndTheProposerSeesTheHistory) {
  TempDir dir("pi-import");
  fs::path repo = make_repo(dir, "pi-auto");
  CliResult imp = run_cli(repo, "import");
  ASSERT_EQ(imp.exit_code, 0) << imp.output;
  // A proposer that changes nothing, so that a context is built, and a limit that stops after it.
  std::string config = read_text(repo / "autoresearch.config.yaml");
  size_t at = config.find("  proposer:\n");
  ASSERT_NE(at, std::string::npos);
  config.insert(at + 12, "    command: \"true\"\n");
  config += "limits:\n  max_experiments: 4\n";
  write_text(repo / "autoresearch.config.yaml", config);
  CliResult run = run_cli(repo, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> recs = queue_records(repo);
  ASSERT_EQ(recs.size(), 4u) << run.output;
  EXPECT_EQ(recs[0]["status"], "checks_failed") << recs[0].dump(1);
  EXPECT_TRUE(contains(gate_tail(recs[0]), "out/analysis.txt differs"));
  EXPECT_EQ(recs[1]["status"], "checks_failed") << recs[1].dump(1);
  EXPECT_TRUE(contains(gate_tail(recs[1]), "deps.lock changed"));
  EXPECT_EQ(recs[2]["status"], "keep") << recs[2].dump(1);
  EXPECT_EQ(recs[3]["source"]["kind"], "proposer");
  // The context the proposer got.
  char name[16];
  std::snprintf(name, sizeof name, "%04d", recs[3]["id"].get<int>());
  std::string md = read_text(repo / ".autoresearch/context" / (std::string(name) + ".md"));
  EXPECT_TRUE(contains(md, "## Imported history (3 runs of a pi-autoresearch session, .auto/log.jsonl"));
  EXPECT_TRUE(contains(md, "Drop the secondary sort key — checks_failed"));
  EXPECT_TRUE(contains(md, "Objective: lower combined_µs."));  // .auto/prompt.md as notes
  json ctx = json::parse(read_text(repo / ".autoresearch/context" / (std::string(name) + ".json")));
  EXPECT_EQ(ctx["imported"]["experiments"], 3);
  // The imported discard is a dead end the proposer is told about.
  bool discard_listed = false;
  for (const json& d : ctx["dead_ends"]) discard_listed |= d.value("title", "") == "Use LC_ALL=C for every sort";
  EXPECT_TRUE(discard_listed) << ctx["dead_ends"].dump(1);
  CliResult st = run_cli(repo, "status");
  EXPECT_TRUE(contains(st.output, "imported: 3 pi-autoresearch run(s) from .auto/log.jsonl"));
}

}  // namespace
}  // namespace ar::test
