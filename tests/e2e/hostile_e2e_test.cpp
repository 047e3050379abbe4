// Hostile or careless patches (issue 3, item 6) and tampering benchmarks and gates (item 7),
// through the built binary on real temporary repositories.
//
// A hostile patch must be `rejected` with a reason that names the problem before anything is
// written but the saved copy of the patch (inert, under .autoresearch/patches/, for `show`): no
// log, the candidate worktree clean, nothing created outside it.
// A tampering benchmark or gate must end `rejected` with a "tampering:" reason naming the file,
// with both worktrees back at the best commit.

#include "e2e/robust_support.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>

namespace ar::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using robust::Child;
using robust::Ended;

const char* const k_base_wt = ".autoresearch/wt/base";
const char* const k_cand_wt = ".autoresearch/wt/cand";

// True when something (even a dangling symlink) exists at `p`.
bool present(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() != fs::file_type::not_found;
}

// The diff that turns `file` into `content` (or deletes it when `remove`), taken from git and
// the working file put back byte for byte.
std::string diff_of(const FixtureRepo& repo, const std::string& file, const std::string& content, bool remove,
                    const std::string& git_flags = "") {
  fs::path p = repo.root / file;
  std::string old = read_text(p);
  fs::perms mode = fs::status(p).permissions();
  if (remove) {
    fs::remove(p);
  } else {
    write_text(p, content);
  }
  std::string diff = git(repo.root, "diff " + git_flags + " -- " + shell_quote(file));
  write_text(p, old);
  fs::permissions(p, mode);
  // git() trimmed the trailing newline, and for a binary patch the blank line that ends it.
  return diff + (diff.find("GIT binary patch") != std::string::npos ? "\n\n" : "\n");
}

// ---- hostile patches -------------------------------------------------------------------------

struct HostileCase {
  std::string name;
  // Returns the queued file's text; `tmp` is the test's temp dir (for absolute paths).
  std::function<std::string(const FixtureRepo&, const fs::path& tmp)> patch;
  // The reason must contain one of these (libgit2 may refuse some inputs outright: "not a patch").
  std::vector<std::string> reasons;
  // Paths (relative to tmp) that must not exist afterwards.
  std::vector<std::string> must_not_exist;
};

std::string new_file_diff(const std::string& path, const std::string& mode, const std::string& body) {
  return "diff --git a/" + path + " b/" + path + "\nnew file mode " + mode +
         "\nindex 0000000..1111111\n--- /dev/null\n+++ b/" + path + "\n@@ -0,0 +1 @@\n" + body;
}

std::string symlink_diff(const std::string& path, const std::string& target) {
  return new_file_diff(path, "120000", "+" + target + "\n\\ No newline at end of file\n");
}

std::vector<HostileCase> hostile_cases() {
  std::vector<HostileCase> cases;
  cases.push_back({"DotDotPath",
                   [](const FixtureRepo&, const fs::path&) {
                     return "Title: Escape with dot-dot\n\n" +
                            new_file_diff("../../../escaped.txt", "100644", "+pwned\n");
                   },
                   {"../../../escaped.txt: path leaves the repository (..)"},
                   {"escaped.txt", "repo/escaped.txt", "repo/.autoresearch/escaped.txt"}});
  cases.push_back({"DotDotInsidePath",
                   [](const FixtureRepo&, const fs::path&) {
                     return "Title: Escape mid-path\n\n" +
                            new_file_diff("notes/../../../../escaped2.txt", "100644", "+pwned\n");
                   },
                   {"path leaves the repository (..)"},
                   {"escaped2.txt", "repo/escaped2.txt", "repo/.autoresearch/escaped2.txt"}});
  cases.push_back({"AbsolutePath",
                   [](const FixtureRepo&, const fs::path& tmp) {
                     std::string abs = (tmp / "absolute-target.txt").string();
                     return "Title: Write an absolute path\n\ndiff --git a/" + abs + " b/" + abs +
                            "\nnew file mode 100644\n--- /dev/null\n+++ b/" + abs + "\n@@ -0,0 +1 @@\n+pwned\n";
                   },
                   {": absolute path", "not a patch"},
                   {"absolute-target.txt"}});
  cases.push_back({"IntoDotGit",
                   [](const FixtureRepo&, const fs::path& tmp) {
                     return "Title: Plant a hook\n\n" + new_file_diff(".git/hooks/post-checkout", "100755",
                                                                      "+touch " + (tmp / "hook-ran").string() + "\n");
                   },
                   {".git/hooks/post-checkout: path inside .git/"},
                   {"hook-ran", "repo/.git/hooks/post-checkout"}});
  cases.push_back({"IntoDotAutoresearch",
                   [](const FixtureRepo&, const fs::path&) {
                     return "Title: Edit the loop's state\n\n" +
                            new_file_diff(".autoresearch/evil.txt", "100644", "+pwned\n");
                   },
                   {".autoresearch/evil.txt: path inside .autoresearch/"},
                   {"repo/.autoresearch/evil.txt", "repo/.autoresearch/wt/cand/.autoresearch/evil.txt"}});
  cases.push_back({"SymlinkOutsideRelative",
                   [](const FixtureRepo&, const fs::path&) {
                     return "Title: Link out of the tree\n\n" + symlink_diff("escape-link", "../../outside");
                   },
                   {"symlink escape-link points outside the worktree (../../outside)"},
                   {"repo/escape-link", "repo/.autoresearch/wt/cand/escape-link"}});
  cases.push_back({"SymlinkOutsideAbsolute",
                   [](const FixtureRepo&, const fs::path&) {
                     return "Title: Link to passwd\n\n" + symlink_diff("passwd-link", "/etc/passwd");
                   },
                   {"symlink passwd-link points outside the worktree (/etc/passwd)"},
                   {"repo/passwd-link", "repo/.autoresearch/wt/cand/passwd-link"}});
  cases.push_back({"SymlinkIntoProtected",
                   [](const FixtureRepo&, const fs::path&) {
                     return "Title: Link to the gate\n\n" + symlink_diff("gate-link", "gates/check.sh");
                   },
                   {"symlink gate-link points into protected path gates/check.sh"},
                   {"repo/gate-link", "repo/.autoresearch/wt/cand/gate-link"}});
  cases.push_back({"SymlinkIntoProtectedViaDotDot",
                   [](const FixtureRepo&, const fs::path&) {
                     return "Title: Link to the benchmark, sideways\n\n" +
                            symlink_diff("sub/bench-link", "../bench.sh");
                   },
                   {"symlink sub/bench-link points into protected path bench.sh"},
                   {"repo/sub", "repo/.autoresearch/wt/cand/sub"}});
  cases.push_back({"SymlinkToProtectedDirectory",
                   [](const FixtureRepo&, const fs::path&) {
                     return "Title: Link to the gates folder\n\n" + symlink_diff("gates-link", "gates");
                   },
                   {"symlink gates-link points into protected path gates"},
                   {"repo/.autoresearch/wt/cand/gates-link"}});
  cases.push_back({"WriteThroughASymlinkIntoProtected",
                   [](const FixtureRepo&, const fs::path&) {
                     // The link and a file "inside" it: applied naively, the second write lands in
                     // gates/check.sh.
                     return "Title: Rewrite the gate through a link\n\n" + symlink_diff("gl", "gates") +
                            new_file_diff("gl/pass.sh", "100755", "+exit 0\n");
                   },
                   {"symlink gl points into protected path gates", "gl/pass.sh"},
                   {"repo/.autoresearch/wt/cand/gl", "repo/.autoresearch/wt/cand/gates/pass.sh"}});
  cases.push_back({"RenameOfProtected",
                   [](const FixtureRepo&, const fs::path&) {
                     return std::string(
                         "Title: Move the gate away\n\n"
                         "diff --git a/gates/check.sh b/moved-check.sh\nsimilarity index 100%\n"
                         "rename from gates/check.sh\nrename to moved-check.sh\n");
                   },
                   {"touches protected path gates/check.sh"},
                   {"repo/.autoresearch/wt/cand/moved-check.sh"}});
  cases.push_back({"RenameOntoProtected",
                   [](const FixtureRepo&, const fs::path&) {
                     return std::string(
                         "Title: Replace the benchmark by a rename\n\n"
                         "diff --git a/notes.txt b/bench.sh\nsimilarity index 100%\n"
                         "rename from notes.txt\nrename to bench.sh\n");
                   },
                   {"touches protected path bench.sh"},
                   {}});
  cases.push_back({"DeletionOfProtected",
                   [](const FixtureRepo& repo, const fs::path&) {
                     return "Title: Delete the benchmark\n\n" + diff_of(repo, "bench.sh", "", true);
                   },
                   {"touches protected path bench.sh"},
                   {}});
  cases.push_back({"DeletionOfConfig",
                   [](const FixtureRepo& repo, const fs::path&) {
                     return "Title: Delete the config\n\n" + diff_of(repo, "autoresearch.config.yaml", "", true);
                   },
                   {"touches protected path autoresearch.config.yaml (autoresearch's own file)"},
                   {}});
  cases.push_back({"BinaryPatchOfProtected",
                   [](const FixtureRepo& repo, const fs::path&) {
                     std::string binary("#!/bin/sh\nexit 0\n\0\x01\x02\xff binary", 28);
                     std::string d = diff_of(repo, "gates/check.sh", binary, false, "--binary");
                     if (d.find("GIT binary patch") == std::string::npos)
                       throw std::runtime_error("no binary diff: " + d);
                     return "Title: Binary gate\n\n" + d;
                   },
                   {"touches protected path gates/check.sh"},
                   {}});
  cases.push_back({"Prose",
                   [](const FixtureRepo&, const fs::path&) {
                     return std::string(
                         "Title: Thoughts\n\nWe could make the benchmark faster by caching the\n"
                         "results. Someone should try that.\n");
                   },
                   {"not a patch: no diff found in experiments/01-hostile.patch"},
                   {}});
  cases.push_back({"GarbledDiff",
                   [](const FixtureRepo&, const fs::path&) {
                     // The hunk announces three lines and has one.
                     return std::string(
                         "Title: Half a diff\n\ndiff --git a/notes.txt b/notes.txt\n--- a/notes.txt\n"
                         "+++ b/notes.txt\n@@ -1,3 +1,3 @@\n-notes\n");
                   },
                   {"not a patch"},
                   {}});
  return cases;
}

// Cases where the product is known to fall short of issue 3 item 6 (see the final report); the
// tests still check that nothing escaped, then skip with the evidence.
std::string known_bug(const std::string& name) {
  if (name == "AbsolutePath") {
    return "an absolute path in a git diff (\"diff --git a//abs b//abs\", \"+++ b//abs\") is not rejected: "
           "libgit2 1.5's parser drops the leading slash, so screen_paths() sees the relative path \"abs\" and the "
           "patch is applied inside the candidate worktree and measured (git apply refuses the same patch: "
           "\"invalid path\")";
  }
  return "";
}

// gtest prints a parameter by its name rather than its bytes.
void PrintTo(const HostileCase& c, std::ostream* os) {
  *os << c.name;
}

class HostilePatchE2E : public ::testing::TestWithParam<HostileCase> {
 protected:
  TempDir tmp{"autoresearch-hostile"};
};

TEST_P(HostilePatchE2E, IsRejectedBeforeAnythingIsWritten) {
  const HostileCase& c = GetParam();
  FixtureRepo repo(tmp.path());
  std::string start = git(repo.root, "rev-parse HEAD");
  repo.queue_raw("01-hostile.patch", c.patch(repo, tmp.path()));
  std::string checkout_status = git(repo.root, "status --porcelain --untracked-files=all");

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> records = repo.records();
  ASSERT_EQ(records.size(), 1u) << run.output;
  const json& r = records[0];
  if (std::string bug = known_bug(c.name); !bug.empty() && r["status"] != "rejected") {
    // It got through screening; at least nothing may have been written outside the worktree.
    for (const std::string& rel : c.must_not_exist) EXPECT_FALSE(present(tmp / rel)) << rel;
    for (const char* wt : {k_base_wt, k_cand_wt}) EXPECT_EQ(robust::worktree_status(repo.root / wt), "") << wt;
    GTEST_SKIP() << "BUG: " << bug << "; status " << r["status"] << ", files " << r["files"].dump();
  }
  EXPECT_EQ(r["status"], "rejected") << r.dump(2);
  std::string reason = r.value("reason", "");
  bool named = false;
  for (const std::string& want : c.reasons) named = named || reason.find(want) != std::string::npos;
  EXPECT_TRUE(named) << "reason: " << reason << "\nexpected one of: " << ::testing::PrintToString(c.reasons);

  // Nothing was written but the saved copy of the patch: no command ran, no file appeared anywhere.
  // The saved copy is the diff that was screened (one never read is not saved).
  if (!r.value("diff_sha256", "").empty()) {
    ASSERT_TRUE(r.contains("patch_file")) << r.dump(2);
    std::string saved = read_text(repo.root / r["patch_file"].get<std::string>());
    EXPECT_FALSE(saved.empty());
    EXPECT_NE(read_text(repo.root / "experiments/01-hostile.patch").find(saved), std::string::npos) << saved;
  }
  EXPECT_FALSE(fs::exists(repo.root / ".autoresearch/logs/0001.log"));
  EXPECT_TRUE(r["gates"].empty()) << r.dump(2);
  for (const std::string& rel : c.must_not_exist) EXPECT_FALSE(present(tmp / rel)) << rel;
  for (const char* wt : {k_base_wt, k_cand_wt}) {
    EXPECT_EQ(git(repo.root / wt, "rev-parse HEAD"), start) << wt;
    EXPECT_EQ(robust::worktree_status(repo.root / wt), "") << wt;
  }
  EXPECT_EQ(git(repo.root, "rev-parse autoresearch/e2e"), start);
  EXPECT_EQ(git(repo.root, "status --porcelain --untracked-files=all -- . ':!results.jsonl' ':!reports'"),
            checkout_status);
  // The protected files in the user's checkout are what they were.
  EXPECT_EQ(git(repo.root, "diff --stat HEAD -- gates bench.sh autoresearch.config.yaml"), "");
}

INSTANTIATE_TEST_SUITE_P(Kinds, HostilePatchE2E, ::testing::ValuesIn(hostile_cases()),
                         [](const ::testing::TestParamInfo<HostileCase>& p) { return p.param.name; });

// A plain diff naming an absolute file ("+++ /abs/x") is read the way `git apply` (-p1) reads it:
// as the repository path "abs/x". Whatever the verdict, nothing may be written outside the worktree.
TEST(HostilePatchPlainE2E, PlainDiffWithAnAbsoluteNameWritesNothingOutside) {
  TempDir tmp{"autoresearch-hostile"};
  FixtureRepo repo(tmp.path(), "decision:\n  max_pairs: 3\n  looks: [3]\n");
  std::string abs = (tmp / "plain-absolute.txt").string();
  repo.queue_raw("01-plain.patch",
                 "Title: Plain diff to an absolute path\n\n--- /dev/null\n+++ " + abs + "\n@@ -0,0 +1 @@\n+pwned\n");
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> records = repo.records();
  ASSERT_EQ(records.size(), 1u) << run.output;
  EXPECT_FALSE(present(abs));
  if (records[0]["status"] != "rejected") {
    ASSERT_EQ(records[0]["files"].size(), 1u) << records[0].dump(2);
    EXPECT_EQ(records[0]["files"][0], abs.substr(1)) << records[0].dump(2);
  }
  for (const char* wt : {k_base_wt, k_cand_wt}) EXPECT_EQ(robust::worktree_status(repo.root / wt), "") << wt;
}

// A link to the worktree root is not itself a protected path, but writing through it would reach
// one. Either the patch is rejected, or it is applied without anything landing in gates/ (libgit2
// then makes "r" a real folder). A gate that fails when gates/pass.sh exists tells which.
TEST(HostilePatchLinkE2E, WritingThroughALinkToTheRootNeverReachesAProtectedFolder) {
  TempDir tmp{"autoresearch-hostile"};
  FixtureRepo repo(tmp.path(), "decision:\n  max_pairs: 3\n  looks: [3]\n");
  write_text(repo.root / "gates/check.sh",
             "#!/bin/sh\n[ ! -e gates/pass.sh ] || exit 7\ngrep -qx ok ok.txt || exit 4\n");
  git(repo.root, "commit -q -am gate");
  repo.queue_raw("01-through-root.patch", "Title: Reach the gates through the root\n\n" + symlink_diff("r", ".") +
                                              new_file_diff("r/gates/pass.sh", "100755", "+exit 0\n"));
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> records = repo.records();
  ASSERT_EQ(records.size(), 1u) << run.output;
  const json& r = records[0];
  EXPECT_NE(r["status"], "checks_failed") << "gates/pass.sh was written through the link: " << r.dump(2);
  for (const char* wt : {k_base_wt, k_cand_wt}) EXPECT_EQ(robust::worktree_status(repo.root / wt), "") << wt;
}

// Over 100 MB: rejected by its size, never read (the orchestrator's peak RSS says so).
TEST(HostilePatchSizeE2E, OversizedPatchIsRejectedWithoutBeingRead) {
  TempDir tmp{"autoresearch-hostile"};
  FixtureRepo repo(tmp.path());
  std::string start = git(repo.root, "rev-parse HEAD");
  {
    fs::create_directories(repo.root / "experiments");
    std::ofstream out(repo.root / "experiments/01-huge.patch", std::ios::binary);
    std::string line = "Title: huge\n";
    std::string junk(1 << 20, 'j');
    for (size_t i = 0; i < junk.size(); i += 64) junk[i] = '\n';
    out << line;
    for (int mb = 0; mb < 101; ++mb) out << junk;
  }
  ASSERT_GT(fs::file_size(repo.root / "experiments/01-huge.patch"), 100u << 20);

  Child child = robust::start(repo.root, {"run"}, tmp / "run.log");
  Ended end = robust::finish(child, std::chrono::seconds(60));
  ASSERT_TRUE(end.exited && end.code == 0) << end.describe() << "\n" << child.output();
  std::vector<json> records = repo.records();
  ASSERT_EQ(records.size(), 1u) << child.output();
  EXPECT_EQ(records[0]["status"], "rejected");
  EXPECT_NE(records[0].value("reason", "").find("over the 100 MB limit"), std::string::npos) << records[0].dump(2);
  RecordProperty("orchestrator_peak_rss_kb", std::to_string(end.max_rss_kb));
  EXPECT_LT(end.max_rss_kb, 100 * 1024) << "peak RSS " << end.max_rss_kb << " KiB: the patch was read";
  EXPECT_FALSE(records[0].contains("patch_file"));
  EXPECT_EQ(robust::worktree_status(repo.root / k_cand_wt), "");
  EXPECT_EQ(git(repo.root / k_cand_wt, "rev-parse HEAD"), start);

  // It is known by name and size from then on: a second run does not try it again.
  CliResult again = run_cli(repo.root, "run");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(repo.records().size(), 1u);
}

// All the kinds queued together, then a clean patch: the loop goes on and measures it.
TEST(HostilePatchQueueE2E, ACleanPatchAfterTheHostileOnesRunsNormally) {
  TempDir tmp{"autoresearch-hostile"};
  FixtureRepo repo(tmp.path());
  std::vector<HostileCase> cases = hostile_cases();
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string name = (i < 9 ? "0" : "") + std::to_string(i + 1) + "-hostile.patch";
    repo.queue_raw(name, cases[i].patch(repo, tmp.path()));
  }
  repo.queue_change("99-clean.patch", "Title: Ten percent faster\nMechanism: the score scales with speed.txt",
                    "speed.txt", "0.9\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m queue");

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> records = repo.records();
  ASSERT_EQ(records.size(), cases.size() + 1) << run.output;
  for (size_t i = 0; i < cases.size(); ++i) {
    if (!known_bug(cases[i].name).empty() && records[i]["status"] != "rejected") continue;  // reported there
    EXPECT_EQ(records[i]["status"], "rejected") << cases[i].name << ": " << records[i].dump(2);
  }
  const json& clean = records.back();
  EXPECT_EQ(clean["source"]["file"], "experiments/99-clean.patch");
  EXPECT_EQ(clean["status"], "keep") << clean.dump(2);
  EXPECT_GE(clean.value("pairs", 0), 3);
  ASSERT_TRUE(clean.contains("commit"));
  for (const char* wt : {k_base_wt, k_cand_wt}) {
    EXPECT_EQ(git(repo.root / wt, "rev-parse HEAD"), clean["commit"].get<std::string>()) << wt;
    EXPECT_EQ(robust::worktree_status(repo.root / wt), "") << wt;
  }
  EXPECT_EQ(git(repo.root, "show autoresearch/e2e:speed.txt"), "0.9");
  // The session branch holds exactly the kept commit, and it changes speed.txt only.
  EXPECT_EQ(git(repo.root, "rev-list autoresearch/e2e ^HEAD"), clean["commit"].get<std::string>());
  EXPECT_EQ(git(repo.root, "diff --name-only HEAD autoresearch/e2e"), "speed.txt");
  for (const char* outside : {"escaped.txt", "escaped2.txt", "absolute-target.txt", "plain-absolute.txt", "hook-ran"}) {
    EXPECT_FALSE(present(tmp / outside)) << outside;
  }
}

// ---- tampering -------------------------------------------------------------------------------

class TamperingE2E : public ::testing::Test {
 protected:
  TempDir tmp{"autoresearch-tamper"};

  // Replaces the fixture's benchmark by `prologue` + the original script, commits, and queues a
  // patch that adds `marker_file` (so a benchmark can tell the candidate from the base).
  void setup(FixtureRepo& repo, const std::string& prologue, const std::string& marker_file) {
    std::string bench = read_text(repo.root / "bench.sh");
    robust::write_script(repo.root / "bench.sh", "#!/bin/sh\n" + prologue + bench.substr(bench.find('\n') + 1));
    git(repo.root, "add -A");
    git(repo.root, "commit -q -m tamper-setup");
    repo.queue_change("01-marker.patch", "Title: Add " + marker_file, marker_file, "marker\n");
    git(repo.root, "add -A");
    git(repo.root, "commit -q -m queue");
  }

  // Runs to the end and returns the single record after checking the shared expectations.
  json run_and_check(FixtureRepo& repo, const std::string& file, const std::string& side) {
    std::string start = git(repo.root, "rev-parse HEAD");
    std::string user_config = read_text(repo.root / "autoresearch.config.yaml");
    CliResult run = run_cli(repo.root, "run");
    EXPECT_EQ(run.exit_code, 0) << run.output;
    std::vector<json> records = repo.records();
    if (records.size() != 1u) {
      ADD_FAILURE() << "expected one record\n" << run.output;
      return json::object();
    }
    const json& r = records[0];
    EXPECT_EQ(r["status"], "rejected") << r.dump(2);
    std::string reason = r.value("reason", "");
    EXPECT_EQ(reason.rfind("tampering:", 0), 0u) << reason;
    EXPECT_NE(reason.find(file), std::string::npos) << reason;
    EXPECT_NE(reason.find("in the " + side + " worktree"), std::string::npos) << reason;
    // Both worktrees are back at the best commit (nothing was kept), clean.
    for (const char* wt : {k_base_wt, k_cand_wt}) {
      EXPECT_EQ(git(repo.root / wt, "rev-parse HEAD"), start) << wt;
      EXPECT_EQ(robust::worktree_status(repo.root / wt), "") << wt;
    }
    EXPECT_EQ(git(repo.root, "rev-parse autoresearch/e2e"), start);
    EXPECT_EQ(read_text(repo.root / "autoresearch.config.yaml"), user_config);
    return r;
  }
};

TEST_F(TamperingE2E, GateRewritingItsOwnScript) {
  FixtureRepo repo(tmp.path());
  write_text(repo.root / "gates/check.sh",
             "#!/bin/sh\necho 'exit 0  # the gate now always passes' >> gates/check.sh\n"
             "grep -qx ok ok.txt || exit 4\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m gate");
  repo.queue_change("01-noop.patch", "Title: A no-op", "notes.txt", "changed\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m queue");
  json r = run_and_check(repo, "gates/check.sh", "candidate");
  EXPECT_NE(r.value("reason", "").find("gate check"), std::string::npos) << r.dump(2);
  EXPECT_FALSE(r.contains("metric") && r["metric"].contains("base")) << "measured after tampering";
}

TEST_F(TamperingE2E, BenchmarkEditingTheConfig) {
  FixtureRepo repo(tmp.path());
  setup(repo, "[ -f tamper-marker ] && echo '# loosened by the benchmark' >> autoresearch.config.yaml\n",
        "tamper-marker");
  run_and_check(repo, "autoresearch.config.yaml", "candidate");
}

TEST_F(TamperingE2E, BenchmarkChangingTheMetricSource) {
  FixtureRepo repo(tmp.path());
  // The candidate "improves" its own score by rewriting what the metric is computed from.
  setup(repo, "[ -f tamper-marker ] && echo 0.5 > speed.txt\n", "tamper-marker");
  run_and_check(repo, "speed.txt", "candidate");
}

TEST_F(TamperingE2E, BenchmarkChangingTheBaseTree) {
  FixtureRepo repo(tmp.path());
  // Only where the marker is absent, i.e. in the base worktree: it slows the base down so the
  // candidate looks better.
  setup(repo, "[ -f tamper-marker ] || echo 2.0 > slow.txt\n", "tamper-marker");
  run_and_check(repo, "slow.txt", "base");
}

TEST_F(TamperingE2E, BenchmarkRewritingItself) {
  FixtureRepo repo(tmp.path());
  setup(repo, "[ -f tamper-marker ] && echo '# rewritten' >> bench.sh\n", "tamper-marker");
  run_and_check(repo, "bench.sh", "candidate");
}

}  // namespace
}  // namespace ar::test
