// git/merge.cpp: finding the commit a stale patch was written against (base-commit trailer, the
// blobs of its index lines) and merging it three-way onto a newer HEAD, on real repositories.

#include "git/git.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace ar::git {
namespace {

namespace fs = std::filesystem;
using test::read_text;
using test::shell_quote;
using test::write_text;

std::string lines_with(int changed, const std::string& value) {
  std::string out;
  for (int i = 1; i <= 12; ++i) out += fmt::format("line {}={}\n", i, i == changed ? value : "1");
  return out;
}

class GitMerge : public ::testing::Test {
 protected:
  std::string git(const std::string& args, const fs::path& dir) { return test::git_in(dir, args); }
  std::string git(const std::string& args) { return git(args, m_repo); }

  // start: f.txt with 12 lines; next: line 3 changed. The patch (against start) changes line 5,
  // whose context includes line 3: it no longer applies to next.
  void SetUp() override {
    fs::create_directories(m_repo);
    git("init -q");
    write_text(m_repo / "f.txt", lines_with(0, ""));
    git("add -A");
    git("commit -q -m start");
    m_start = git("rev-parse HEAD");
    write_text(m_repo / "f.txt", lines_with(5, "2"));
    m_patch = git("diff") + "\n";
    write_text(m_repo / "f.txt", lines_with(3, "2"));
    git("commit -q -am next");
    m_next = git("rev-parse HEAD");
    git("branch autoresearch/s");
  }

  Library m_lib;
  test::TempDir m_tmp{"autoresearch-merge"};
  fs::path m_repo = m_tmp.path() / "repo";
  std::string m_start, m_next, m_patch;
};

TEST_F(GitMerge, TheBaseComesFromTheTrailerElseFromTheIndexLines) {
  Repository repo = Repository::discover(m_repo);
  std::vector<git_oid> candidates{from_hex(m_next), from_hex(m_start)};
  std::optional<git_oid> by_blobs = patch_base(repo, m_patch, candidates);
  ASSERT_TRUE(by_blobs);
  EXPECT_EQ(to_hex(*by_blobs), m_start);
  // The trailer wins, even over a matching candidate; an unknown one is ignored.
  std::optional<git_oid> by_trailer = patch_base(repo, m_patch + "base-commit: " + m_next + "\n", candidates);
  ASSERT_TRUE(by_trailer);
  EXPECT_EQ(to_hex(*by_trailer), m_next);
  EXPECT_EQ(to_hex(*patch_base(repo, m_patch + "base-commit: " + std::string(40, 'a') + "\n", candidates)), m_start);
  // No index lines and no trailer: nothing to go by.
  EXPECT_FALSE(patch_base(repo, "--- a/f.txt\n+++ b/f.txt\n@@ -1 +1 @@\n-line 1=1\n+line 1=3\n", candidates));
}

TEST_F(GitMerge, AStalePatchMergesIntoTheWorkingTreeAndAConflictNamesTheFile) {
  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "cand", m_tmp.path() / "wt" / "cand", "refs/heads/autoresearch/s",
                                 from_hex(m_next));
  ApplyOutcome direct = apply_patch(wt, m_patch);
  ASSERT_FALSE(direct.ok) << "the fixture's patch must be stale";
  ApplyOutcome merged = apply_merged(wt, m_patch, from_hex(m_start));
  ASSERT_TRUE(merged.ok) << merged.error;
  EXPECT_EQ(merged.paths, std::vector<std::string>{"f.txt"});
  std::string both = lines_with(3, "2");
  both.replace(both.find("line 5=1"), 8, "line 5=2");
  EXPECT_EQ(read_text(wt.path() / "f.txt"), both);
  EXPECT_EQ(git("diff --cached --name-only", wt.path()), "") << "the index is left alone";

  wt.reset_hard_clean(from_hex(m_next));
  // Written against start, line 3 becomes 9; next made it 2.
  write_text(m_repo / "f.txt", lines_with(3, "9"));
  std::string against_start = git("diff " + m_start + " -- f.txt") + "\n";
  git("checkout -q -- f.txt");
  ApplyOutcome conflict = apply_merged(wt, against_start, from_hex(m_start));
  EXPECT_FALSE(conflict.ok);
  EXPECT_EQ(conflict.error, "conflict in f.txt");
  EXPECT_TRUE(wt.is_clean());
}

}  // namespace
}  // namespace ar::git
