// Patches cannot write through symlinks (issue 10, item 3): a path whose folder is a symlink
// already in the tree, or one the same patch adds, is refused before anything is written; so are
// `.gitmodules` and gitlinks. Through the built binary on real repositories.

#include "e2e/e2e_support.hpp"

#include <gtest/gtest.h>

namespace ar::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string new_file(const std::string& path, const std::string& mode, const std::string& body) {
  return "diff --git a/" + path + " b/" + path + "\nnew file mode " + mode +
         "\nindex 0000000..1111111\n--- /dev/null\n+++ b/" + path + "\n@@ -0,0 +1 @@\n" + body;
}

class SymlinkE2E : public ::testing::Test {
 protected:
  TempDir tmp{"autoresearch-symlink"};

  // Commits a symlink `name -> target` into the fixture, queues `patch`, runs, and returns the
  // single record after the checks every case shares.
  json run_with_link(FixtureRepo& repo, const std::string& name, const std::string& target, const std::string& patch) {
    if (!name.empty()) {
      fs::create_symlink(target, repo.root / name);
      git(repo.root, "add " + shell_quote(name));
      git(repo.root, "commit -q -m link");
    }
    repo.queue_raw("01-through.patch", "Title: Write through a link\n\n" + patch);
    git(repo.root, "add -A");
    git(repo.root, "commit -q -m queue");
    std::string start = git(repo.root, "rev-parse HEAD");
    CliResult run = run_cli(repo.root, "run");
    EXPECT_EQ(run.exit_code, 0) << run.output;
    std::vector<json> r = repo.records();
    if (r.size() != 1u) {
      ADD_FAILURE() << "expected one record\n" << run.output;
      return json::object();
    }
    EXPECT_EQ(r[0]["status"], "rejected") << r[0].dump(2);
    // Nothing is written for a refused patch but its inert copy, kept for `show`.
    EXPECT_EQ(r[0].value("patch_file", ".autoresearch/patches/").rfind(".autoresearch/patches/", 0), 0u) << r[0].dump(2);
    EXPECT_EQ(git(repo.root, "rev-parse autoresearch/e2e"), start);
    EXPECT_EQ(git(repo.root / ".autoresearch/wt/cand", "status --porcelain --untracked-files=all"), "");
    return r[0];
  }
};

TEST_F(SymlinkE2E, ATrackedSymlinkToAFolderOutsideIsNotWrittenThrough) {
  FixtureRepo repo(tmp.path());
  fs::create_directories(tmp.path() / "outside");
  json r =
      run_with_link(repo, "ext", (tmp.path() / "outside").string(), new_file("ext/pwned.txt", "100644", "+pwned\n"));
  EXPECT_EQ(r.value("reason", ""), "ext/pwned.txt: goes through the symlink ext in the tree");
  EXPECT_FALSE(fs::exists(tmp.path() / "outside" / "pwned.txt"));
}

TEST_F(SymlinkE2E, ATrackedSymlinkUpIntoTheUsersCheckoutIsNotWrittenThrough) {
  FixtureRepo repo(tmp.path());
  // From .autoresearch/wt/cand/up, ../../.. is the user's checkout.
  json r = run_with_link(repo, "up", "../../..", new_file("up/pwned.txt", "100644", "+pwned\n"));
  EXPECT_EQ(r.value("reason", ""), "up/pwned.txt: goes through the symlink up in the tree");
  EXPECT_FALSE(fs::exists(repo.root / "pwned.txt"));
}

TEST_F(SymlinkE2E, ALinkThePatchAddsIsNotWrittenThroughEither) {
  FixtureRepo repo(tmp.path());
  std::string link = new_file("docs-link", "120000", "+notes-dir\n\\ No newline at end of file\n");
  json r = run_with_link(repo, "", "", link + new_file("docs-link/x.txt", "100644", "+x\n"));
  EXPECT_EQ(r.value("reason", ""), "docs-link/x.txt: goes through the symlink docs-link that the patch adds");
}

TEST_F(SymlinkE2E, SubmodulesAreRefused) {
  FixtureRepo repo(tmp.path());
  json a = run_with_link(repo, "", "",
                         new_file(".gitmodules", "100644", "+[submodule \"x\"]\n") +
                             new_file("x", "160000", "+Subproject commit 1111111111111111111111111111111111111111\n"));
  std::string reason = a.value("reason", "");
  EXPECT_TRUE(reason == ".gitmodules: submodules are not supported in experiments" ||
              reason == "x: a gitlink (submodule); submodules are not supported in experiments" ||
              reason.rfind("not a patch", 0) == 0)
      << reason;
}

}  // namespace
}  // namespace ar::test
