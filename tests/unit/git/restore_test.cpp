// The fast paths of git/restore.cpp: after a patch (modify, add, delete, rename, in subfolders)
// and a benchmark's untracked output, restoring the known paths leaves the worktree exactly as a
// full reset --hard plus clean would, and a detached worktree follows a new commit the same way.

#include "git/git.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace ar::git {
namespace {

namespace fs = std::filesystem;
using test::read_text;
using test::shell_quote;
using test::write_text;

class GitRestore : public ::testing::Test {
 protected:
  std::string git(const std::string& args, const fs::path& dir) { return test::git_in(dir, args); }
  std::string git(const std::string& args) { return git(args, m_repo); }

  // main: a.txt, b.txt, keep/c.txt, old/name.txt, .gitignore; side: a.txt changed, b.txt deleted,
  // new/deep/n.txt added, old/name.txt renamed to moved/name.txt.
  void two_commits() {
    fs::create_directories(m_repo);
    git("init -q");
    write_text(m_repo / "a.txt", "alpha\n");
    write_text(m_repo / "b.txt", "bee\n");
    write_text(m_repo / "keep" / "c.txt", "sea\n");
    write_text(m_repo / "old" / "name.txt", "a file that moves, long enough to be seen as a rename\n");
    write_text(m_repo / ".gitignore", "build/\n");
    git("add -A");
    git("commit -q -m one");
    m_main = git("rev-parse HEAD");
    git("checkout -q -b side");
    write_text(m_repo / "a.txt", "alpha two\n");
    fs::remove(m_repo / "b.txt");
    write_text(m_repo / "new" / "deep" / "n.txt", "new\n");
    git("mv old/name.txt moved-name.txt");
    git("add -A");
    git("commit -q -m two");
    m_side = git("rev-parse HEAD");
    git("checkout -q main");
    git("branch autoresearch/s");
  }

  Library m_lib;
  test::TempDir m_tmp{"autoresearch-restore"};
  fs::path m_repo = m_tmp.path() / "repo";
  std::string m_main, m_side;
};

TEST_F(GitRestore, RestoringThePatchedPathsAndUntrackedFilesUndoesAnAppliedPatch) {
  two_commits();
  std::string patch = git("diff main side") + "\n";
  Repository repo = Repository::discover(m_repo);
  Worktree wt =
      Worktree::ensure(repo, "cand", m_tmp.path() / "wt" / "cand", "refs/heads/autoresearch/s", from_hex(m_main));
  ApplyOutcome applied = apply_patch(wt, patch);
  ASSERT_TRUE(applied.ok);
  write_text(wt.path() / "out" / "result.txt", "a benchmark's output\n");
  write_text(wt.path() / "build" / "prog", "ignored\n");
  Worktree::Scan scan = wt.scan({});
  // The patch is in the working tree only: its added files are untracked, the index is HEAD's.
  EXPECT_EQ(scan.untracked, (std::vector<std::string>{"moved-name.txt", "new/deep/n.txt", "out/result.txt"}));
  EXPECT_TRUE(wt.index_changes(from_hex(m_main)).empty());
  std::vector<std::string> changed = applied.paths;
  std::sort(changed.begin(), changed.end());
  EXPECT_EQ(changed, (std::vector<std::string>{"a.txt", "b.txt", "moved-name.txt", "new/deep/n.txt", "old/name.txt"}));

  wt.restore_paths(from_hex(m_main), changed, scan.untracked);
  EXPECT_EQ(git("status --porcelain --untracked-files=all", wt.path()), "");
  EXPECT_EQ(git("rev-parse HEAD", wt.path()), m_main);
  EXPECT_EQ(read_text(wt.path() / "a.txt"), "alpha\n");
  EXPECT_EQ(read_text(wt.path() / "b.txt"), "bee\n");
  EXPECT_EQ(read_text(wt.path() / "old" / "name.txt"), "a file that moves, long enough to be seen as a rename\n");
  EXPECT_FALSE(fs::exists(wt.path() / "new")) << "emptied folders go too";
  EXPECT_FALSE(fs::exists(wt.path() / "out"));
  EXPECT_FALSE(fs::exists(wt.path() / "moved-name.txt"));
  EXPECT_EQ(read_text(wt.path() / "build" / "prog"), "ignored\n") << "ignored build outputs stay";
}

TEST_F(GitRestore, ADetachedWorktreeFollowsANewCommitByTheTreeDiff) {
  two_commits();
  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "base", m_tmp.path() / "wt" / "base", std::nullopt, from_hex(m_main));
  write_text(wt.path() / "build" / "prog", "ignored\n");
  std::vector<std::string> paths = tree_changes(wt.get(), from_hex(m_main), from_hex(m_side));
  wt.restore_paths(from_hex(m_side), paths, {});
  EXPECT_EQ(git("rev-parse HEAD", wt.path()), m_side);
  EXPECT_EQ(git("symbolic-ref -q HEAD || echo detached", wt.path()), "detached");
  EXPECT_EQ(git("status --porcelain --untracked-files=all", wt.path()), "");
  EXPECT_EQ(read_text(wt.path() / "a.txt"), "alpha two\n");
  EXPECT_FALSE(fs::exists(wt.path() / "b.txt"));
  EXPECT_EQ(read_text(wt.path() / "new" / "deep" / "n.txt"), "new\n");
  EXPECT_EQ(read_text(wt.path() / "build" / "prog"), "ignored\n");
}

TEST_F(GitRestore, AScanSeesChangedTrackedFilesAndProtectedOnesLikeTheFullFingerprint) {
  two_commits();
  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "base", m_tmp.path() / "wt" / "base", std::nullopt, from_hex(m_main));
  auto clean = wt.protected_fingerprint({"keep/**"});
  EXPECT_EQ(clean, wt.fingerprint({"keep/**"})) << "a clean worktree: the index-only fingerprint is the full one";
  write_text(wt.path() / "a.txt", "tampered\n");
  write_text(wt.path() / "keep" / "c.txt", "tampered\n");
  Worktree::Scan scan = wt.scan({"keep/**"});
  EXPECT_EQ(scan.fingerprint.count("changed:a.txt"), 1u);
  EXPECT_NE(scan.fingerprint.at("protected:keep/c.txt"), clean.at("protected:keep/c.txt"));
}

}  // namespace
}  // namespace ar::git
