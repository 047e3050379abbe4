#include "git/git.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace ar::git {
namespace {

namespace fs = std::filesystem;
using ar::test::read_text;
using ar::test::shell_quote;
using ar::test::TempDir;
using ar::test::write_text;

// The git CLI builds the fixtures, isolated from the developer's own config and environment.
const std::string k_git =
    "env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_SYSTEM=/dev/null "
    "git -c user.name=t -c user.email=t@t -c init.defaultBranch=main";

using ar::test::contains;

std::string numbered_lines(int n) {
  std::string out;
  for (int i = 1; i <= n; ++i) out += "line " + std::to_string(i) + "\n";
  return out;
}

class GitTest : public ::testing::Test {
protected:
  // Runs git in `dir`; a failing fixture command fails the test. Returns the output without the
  // trailing newline.
  std::string git(const std::string& args, const fs::path& dir) {
    std::string out;
    int rc = ar::test::shell("cd " + shell_quote(dir.string()) + " && " + k_git + " " + args, &out);
    if (rc != 0) ADD_FAILURE() << "git " << args << " (in " << dir << ") exited " << rc << ":\n" << out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  std::string git(const std::string& args) { return git(args, m_repo); }

  // A repository with one commit: a.txt (30 numbered lines), b.txt, .gitignore (build/, *.o).
  // Returns the commit id.
  std::string init_repo() {
    fs::create_directories(m_repo);
    git("init -q");
    write_text(m_repo / "a.txt", numbered_lines(30));
    write_text(m_repo / "b.txt", "bee\n");
    write_text(m_repo / ".gitignore", "build/\n*.o\n");
    return commit_all("initial");
  }

  std::string commit_all(const std::string& message) {
    git("add -A");
    git("commit -q -m " + shell_quote(message));
    return git("rev-parse HEAD");
  }

  fs::path wt_path(const std::string& name) const { return m_tmp / "wt" / name; }

  Library m_lib;  // first member: libgit2 outlives every handle below
  TempDir m_tmp;
  fs::path m_repo = m_tmp / "repo";
};

// ---- Repository ------------------------------------------------------------------------------

using GitRepository = GitTest;

TEST_F(GitRepository, DiscoverFindsTheRepositoryFromASubfolder) {
  init_repo();
  fs::create_directories(m_repo / "src" / "deep");
  Repository repo = Repository::discover(m_repo / "src" / "deep");
  EXPECT_TRUE(fs::equivalent(repo.workdir(), m_repo));
  EXPECT_TRUE(fs::equivalent(repo.git_dir(), m_repo / ".git"));
  EXPECT_EQ(to_hex(repo.head_commit()), git("rev-parse HEAD"));
  EXPECT_FALSE(repo.head_detached());
}

TEST_F(GitRepository, DiscoverOutsideAnyRepositoryThrows) {
  fs::create_directories(m_tmp / "plain");
  // TMPDIR itself could sit inside a repository; then there is nothing to test.
  std::string out;
  if (ar::test::shell("cd " + shell_quote((m_tmp / "plain").string()) + " && " + k_git + " rev-parse --git-dir", &out) == 0) {
    GTEST_SKIP() << "the temp folder is inside a git repository";
  }
  EXPECT_THROW(Repository::discover(m_tmp / "plain"), GitError);
}

TEST_F(GitRepository, BareRepositoryIsRefusedWithAClearMessage) {
  fs::create_directories(m_tmp / "bare.git");
  git("init -q --bare", m_tmp / "bare.git");
  try {
    Repository::discover(m_tmp / "bare.git");
    FAIL() << "a bare repository was accepted";
  } catch (const GitError& e) {
    EXPECT_TRUE(contains(e.what(), "bare repository"));
    EXPECT_TRUE(contains(e.what(), "working tree"));
    EXPECT_TRUE(contains(e.what(), (m_tmp / "bare.git").string()));
  }
}

TEST_F(GitRepository, UnbornHeadThrowsSayingThereAreNoCommits) {
  fs::create_directories(m_repo);
  git("init -q");
  Repository repo = Repository::discover(m_repo);
  try {
    (void)repo.head_commit();
    FAIL() << "head_commit on an unborn HEAD returned";
  } catch (const GitError& e) {
    EXPECT_TRUE(contains(e.what(), "no commits"));
  }
}

TEST_F(GitRepository, ResolveReturnsNothingForAMissingRef) {
  std::string head = init_repo();
  Repository repo = Repository::discover(m_repo);
  ASSERT_TRUE(repo.resolve("refs/heads/main").has_value());
  EXPECT_EQ(to_hex(*repo.resolve("refs/heads/main")), head);
  EXPECT_FALSE(repo.resolve("refs/heads/no-such-branch").has_value());
}

TEST_F(GitRepository, EnsureExcludedAddsTheLineOnce) {
  init_repo();
  Repository repo = Repository::discover(m_repo);
  fs::path exclude = m_repo / ".git" / "info" / "exclude";
  // A file that does not end in a newline must not get the pattern glued to its last line.
  write_text(exclude, "# mine\n*.swp");
  repo.ensure_excluded(".autoresearch/");
  repo.ensure_excluded(".autoresearch/");
  EXPECT_EQ(read_text(exclude), "# mine\n*.swp\n.autoresearch/\n");

  // And git honours it: our state folder does not show up as untracked.
  write_text(m_repo / ".autoresearch" / "lock", "x");
  EXPECT_EQ(git("status --porcelain"), "");
}

TEST_F(GitRepository, EnsureExcludedDoesNotMistakeALongerLineForThePattern) {
  init_repo();
  Repository repo = Repository::discover(m_repo);
  fs::path exclude = m_repo / ".git" / "info" / "exclude";
  write_text(exclude, ".autoresearch/old\n");
  repo.ensure_excluded(".autoresearch/");
  EXPECT_EQ(read_text(exclude), ".autoresearch/old\n.autoresearch/\n");
}

TEST_F(GitRepository, EnsureExcludedCreatesAMissingExcludeFile) {
  init_repo();
  fs::remove_all(m_repo / ".git" / "info");
  Repository repo = Repository::discover(m_repo);
  repo.ensure_excluded(".autoresearch/");
  EXPECT_EQ(read_text(m_repo / ".git" / "info" / "exclude"), ".autoresearch/\n");
}

TEST_F(GitRepository, FirstParentChainFollowsFirstParentsNewestFirst) {
  std::string c1 = init_repo();
  write_text(m_repo / "a.txt", "two\n");
  std::string c2 = commit_all("two");
  git("checkout -q -b side " + c1);
  write_text(m_repo / "side.txt", "side\n");
  std::string s1 = commit_all("side");
  git("checkout -q main");
  git("merge -q --no-ff -m merge side");
  std::string m = git("rev-parse HEAD");

  Repository repo = Repository::discover(m_repo);
  std::vector<git_oid> chain = repo.first_parent_chain(from_hex(m), from_hex(c1));
  std::vector<std::string> hexes;
  for (const git_oid& o : chain) hexes.push_back(to_hex(o));
  EXPECT_EQ(hexes, (std::vector<std::string>{m, c2}));  // never the merged side commit s1
  EXPECT_TRUE(repo.first_parent_chain(from_hex(c1), from_hex(c1)).empty());
  // `stop` is not an ancestor: the walk reaches the root and says so.
  EXPECT_THROW(repo.first_parent_chain(from_hex(c2), from_hex(s1)), GitError);
  EXPECT_EQ(repo.commit_message(from_hex(c2)), "two\n");
}

// ---- Worktree::ensure ------------------------------------------------------------------------

using GitWorktree = GitTest;

TEST_F(GitWorktree, EnsureCreatesABranchWorktree) {
  std::string head = init_repo();
  git("branch autoresearch/s");
  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "candidate", wt_path("candidate"), "refs/heads/autoresearch/s", from_hex(head));
  EXPECT_EQ(wt.path(), wt_path("candidate"));
  EXPECT_EQ(wt.head_branch(), "refs/heads/autoresearch/s");
  EXPECT_EQ(to_hex(wt.head_commit()), head);
  EXPECT_EQ(read_text(wt_path("candidate") / "b.txt"), "bee\n");
  EXPECT_EQ(git("symbolic-ref HEAD", wt_path("candidate")), "refs/heads/autoresearch/s");
  EXPECT_EQ(git("status --porcelain", wt_path("candidate")), "");
  EXPECT_TRUE(wt.is_clean());
  // The user's checkout stays on its own branch.
  EXPECT_EQ(git("symbolic-ref HEAD"), "refs/heads/main");
}

TEST_F(GitWorktree, EnsureCreatesADetachedWorktreeAtTheGivenCommit) {
  std::string c1 = init_repo();
  write_text(m_repo / "b.txt", "bee 2\n");
  std::string c2 = commit_all("second");
  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "base", wt_path("base"), std::nullopt, from_hex(c1));
  EXPECT_EQ(wt.head_branch(), "");
  EXPECT_EQ(to_hex(wt.head_commit()), c1);
  EXPECT_EQ(git("rev-parse HEAD", wt_path("base")), c1);
  EXPECT_EQ(read_text(wt_path("base") / "b.txt"), "bee\n");
  std::string out;
  EXPECT_NE(ar::test::shell("cd " + shell_quote(wt_path("base").string()) + " && " + k_git + " symbolic-ref -q HEAD", &out), 0)
      << "HEAD is symbolic: " << out;
  EXPECT_EQ(git("status --porcelain", wt_path("base")), "");
  // No helper branch is left behind, and the main checkout did not move.
  EXPECT_EQ(git("for-each-ref '--format=%(refname)' refs/heads"), "refs/heads/main");
  EXPECT_EQ(git("rev-parse HEAD"), c2);
}

TEST_F(GitWorktree, EnsureReopensAnExistingWorktreeWithoutRecreatingIt) {
  std::string head = init_repo();
  git("branch autoresearch/s");
  Repository repo = Repository::discover(m_repo);
  {
    Worktree first = Worktree::ensure(repo, "candidate", wt_path("candidate"), "refs/heads/autoresearch/s", from_hex(head));
    Worktree base = Worktree::ensure(repo, "base", wt_path("base"), std::nullopt, from_hex(head));
  }
  // A marker survives only if the worktree is opened rather than recreated.
  write_text(wt_path("candidate") / "build" / "marker", "kept");
  write_text(wt_path("base") / "build" / "marker", "kept");

  Worktree again = Worktree::ensure(repo, "candidate", wt_path("candidate"), "refs/heads/autoresearch/s", from_hex(head));
  Worktree base = Worktree::ensure(repo, "base", wt_path("base"), std::nullopt, from_hex(head));
  EXPECT_EQ(again.path(), wt_path("candidate"));
  EXPECT_EQ(base.path(), wt_path("base"));
  EXPECT_EQ(again.head_branch(), "refs/heads/autoresearch/s");
  EXPECT_EQ(base.head_branch(), "");
  EXPECT_TRUE(fs::exists(wt_path("candidate") / "build" / "marker"));
  EXPECT_TRUE(fs::exists(wt_path("base") / "build" / "marker"));
}

TEST_F(GitWorktree, EnsureRecreatesAWorktreeWhoseFolderWasDeleted) {
  std::string head = init_repo();
  git("branch autoresearch/s");
  Repository repo = Repository::discover(m_repo);
  {
    Worktree cand = Worktree::ensure(repo, "candidate", wt_path("candidate"), "refs/heads/autoresearch/s", from_hex(head));
    Worktree base = Worktree::ensure(repo, "base", wt_path("base"), std::nullopt, from_hex(head));
  }
  fs::remove_all(wt_path("candidate"));
  fs::remove_all(wt_path("base"));

  Worktree cand = Worktree::ensure(repo, "candidate", wt_path("candidate"), "refs/heads/autoresearch/s", from_hex(head));
  Worktree base = Worktree::ensure(repo, "base", wt_path("base"), std::nullopt, from_hex(head));
  EXPECT_EQ(read_text(wt_path("candidate") / "b.txt"), "bee\n");
  EXPECT_EQ(read_text(wt_path("base") / "b.txt"), "bee\n");
  EXPECT_EQ(cand.head_branch(), "refs/heads/autoresearch/s");
  EXPECT_EQ(to_hex(base.head_commit()), head);
  EXPECT_EQ(git("status --porcelain", wt_path("candidate")), "");
  // git itself sees both as valid worktrees again.
  std::string list = git("worktree list --porcelain");
  EXPECT_TRUE(contains(list, "worktree " + fs::canonical(wt_path("candidate")).string()));
  EXPECT_TRUE(contains(list, "worktree " + fs::canonical(wt_path("base")).string()));
  EXPECT_FALSE(contains(list, "prunable"));
}

// ---- reset_hard_clean, is_clean --------------------------------------------------------------

using GitReset = GitTest;

TEST_F(GitReset, ResetHardCleanRestoresTrackedFilesRemovesUntrackedKeepsIgnored) {
  std::string head = init_repo();
  git("branch autoresearch/s");
  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "candidate", wt_path("candidate"), "refs/heads/autoresearch/s", from_hex(head));
  const fs::path& p = wt.path();

  write_text(p / "a.txt", "scribbled\n");
  fs::remove(p / "b.txt");
  write_text(p / "staged.txt", "staged\n");
  git("add staged.txt", p);
  write_text(p / "new.txt", "untracked\n");
  write_text(p / "newdir" / "sub" / "deep.txt", "untracked, nested\n");
  write_text(p / "build" / "out.bin", "ignored build output\n");
  write_text(p / "x.o", "ignored object\n");
  ASSERT_FALSE(wt.is_clean());

  wt.reset_hard_clean(from_hex(head));
  EXPECT_EQ(read_text(p / "a.txt"), numbered_lines(30));
  EXPECT_EQ(read_text(p / "b.txt"), "bee\n");
  EXPECT_FALSE(fs::exists(p / "staged.txt"));
  EXPECT_FALSE(fs::exists(p / "new.txt"));
  EXPECT_FALSE(fs::exists(p / "newdir")) << "the emptied untracked folders must go too";
  EXPECT_EQ(read_text(p / "build" / "out.bin"), "ignored build output\n");
  EXPECT_EQ(read_text(p / "x.o"), "ignored object\n");
  EXPECT_TRUE(wt.is_clean());
  EXPECT_EQ(git("status --porcelain --untracked-files=all", p), "");
}

TEST_F(GitReset, ResetHardCleanMovesTheCheckedOutBranchBack) {
  std::string c1 = init_repo();
  write_text(m_repo / "c.txt", "added later\n");
  std::string c2 = commit_all("add c");
  git("branch autoresearch/s " + c2);
  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "candidate", wt_path("candidate"), "refs/heads/autoresearch/s", from_hex(c2));
  ASSERT_TRUE(fs::exists(wt.path() / "c.txt"));

  wt.reset_hard_clean(from_hex(c1));
  EXPECT_EQ(git("rev-parse refs/heads/autoresearch/s"), c1);
  EXPECT_EQ(wt.head_branch(), "refs/heads/autoresearch/s");
  EXPECT_FALSE(fs::exists(wt.path() / "c.txt"));
  EXPECT_TRUE(wt.is_clean());
  EXPECT_EQ(git("rev-parse HEAD"), c2);  // the main checkout is not involved
}

TEST_F(GitReset, IsCleanSeesEveryKindOfChangeButIgnoredFiles) {
  std::string head = init_repo();
  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "base", wt_path("base"), std::nullopt, from_hex(head));
  const fs::path& p = wt.path();
  EXPECT_TRUE(wt.is_clean());

  write_text(p / "build" / "ignored.bin", "x");
  EXPECT_TRUE(wt.is_clean()) << "ignored files do not make a worktree dirty";

  write_text(p / "a.txt", "modified\n");
  EXPECT_FALSE(wt.is_clean());
  wt.reset_hard_clean(from_hex(head));
  EXPECT_TRUE(wt.is_clean());

  write_text(p / "deep" / "er" / "untracked.txt", "x");
  EXPECT_FALSE(wt.is_clean());
  wt.reset_hard_clean(from_hex(head));
  EXPECT_TRUE(wt.is_clean());

  // Staged, then the working file restored: only the index differs from HEAD.
  write_text(p / "b.txt", "staged change\n");
  git("add b.txt", p);
  write_text(p / "b.txt", "bee\n");
  EXPECT_FALSE(wt.is_clean());
}

// ---- patches ---------------------------------------------------------------------------------

using GitPatch = GitTest;

TEST_F(GitPatch, ApplyPatchModifiesAddsAndDeletesInTheWorkingTreeOnly) {
  std::string head = init_repo();
  git("checkout -q -b side");
  write_text(m_repo / "a.txt", "line 0\n" + numbered_lines(30));
  fs::remove(m_repo / "b.txt");
  write_text(m_repo / "src" / "c.txt", "brand new\n");
  commit_all("side change");
  git("checkout -q main");
  std::string patch = git("diff main side") + "\n";

  git("branch autoresearch/s");
  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "candidate", wt_path("candidate"), "refs/heads/autoresearch/s", from_hex(head));
  ApplyOutcome out = apply_patch(wt, patch);
  ASSERT_TRUE(out.ok) << out.error;

  const fs::path& p = wt.path();
  EXPECT_EQ(read_text(p / "a.txt"), "line 0\n" + numbered_lines(30));
  EXPECT_FALSE(fs::exists(p / "b.txt"));
  EXPECT_EQ(read_text(p / "src" / "c.txt"), "brand new\n");
  // As an agent's edits: nothing staged, so `git diff` (a drift check) sees the change; the new
  // file is untracked. Staging the touched paths gives exactly the side commit.
  EXPECT_EQ(git("diff --cached --name-status", p), "");
  EXPECT_EQ(git("diff --name-status", p), "M\ta.txt\nD\tb.txt");
  EXPECT_EQ(git("status --porcelain", p), " M a.txt\n D b.txt\n?? src/");
  EXPECT_EQ(out.paths, (std::vector<std::string>{"a.txt", "b.txt", "src/c.txt"}));
  wt.stage_paths(out.paths);
  EXPECT_EQ(git("diff --cached --stat side", p), "");
  EXPECT_EQ(git("status --porcelain", p), "M  a.txt\nD  b.txt\nA  src/c.txt");
}

TEST_F(GitPatch, ApplyPatchNamesTheFileAndTheHunkThatFails) {
  std::string head = init_repo();
  git("branch autoresearch/s");
  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "candidate", wt_path("candidate"), "refs/heads/autoresearch/s", from_hex(head));
  // Hunk 1 matches; hunk 2's preimage appears nowhere in a.txt.
  const std::string patch =
      "diff --git a/a.txt b/a.txt\n"
      "--- a/a.txt\n"
      "+++ b/a.txt\n"
      "@@ -1,3 +1,3 @@\n"
      " line 1\n"
      "-line 2\n"
      "+LINE 2\n"
      " line 3\n"
      "@@ -20,3 +20,3 @@\n"
      " line 20\n"
      "-line twenty-one\n"
      "+LINE 21\n"
      " line 22\n";
  ApplyOutcome out = apply_patch(wt, patch);
  EXPECT_FALSE(out.ok);
  EXPECT_TRUE(contains(out.error, "a.txt"));
  EXPECT_TRUE(contains(out.error, "hunk 2"));
  EXPECT_FALSE(contains(out.error, "hunk 1"));
}

TEST_F(GitPatch, ApplyPatchToAMissingFileNamesIt) {
  std::string head = init_repo();
  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "base", wt_path("base"), std::nullopt, from_hex(head));
  const std::string patch =
      "diff --git a/src/nope.c b/src/nope.c\n"
      "--- a/src/nope.c\n"
      "+++ b/src/nope.c\n"
      "@@ -1 +1 @@\n"
      "-a\n"
      "+b\n";
  ApplyOutcome out = apply_patch(wt, patch);
  EXPECT_FALSE(out.ok);
  EXPECT_TRUE(contains(out.error, "src/nope.c"));
  EXPECT_TRUE(wt.is_clean());
}

TEST_F(GitPatch, ParsePatchListsFilesWithStatusesAndBinary) {
  init_repo();
  write_text(m_repo / "moved.txt", "some content that stays the same across the rename\n");
  write_text(m_repo / "bin.dat", std::string("\x00\x01\x02\x03 binary", 10));
  commit_all("more files");
  git("checkout -q -b side");
  write_text(m_repo / "a.txt", numbered_lines(31));
  fs::remove(m_repo / "b.txt");
  write_text(m_repo / "new.txt", "new\n");
  fs::rename(m_repo / "moved.txt", m_repo / "renamed.txt");
  write_text(m_repo / "bin.dat", std::string("\x00\x09\x08\x07 binary", 10));
  fs::create_symlink("a.txt", m_repo / "link");
  commit_all("everything");
  std::string patch = git("diff -M --binary main side") + "\n";

  ParsedPatch parsed = parse_patch(patch);
  ASSERT_TRUE(parsed.ok) << parsed.error;
  auto find = [&](const std::string& new_path, const std::string& old_path) -> const PatchFile* {
    for (const PatchFile& f : parsed.files) {
      if (f.new_path == new_path && f.old_path == old_path) return &f;
    }
    ADD_FAILURE() << "no entry " << old_path << " -> " << new_path << " in:\n" << patch;
    return nullptr;
  };
  EXPECT_EQ(parsed.files.size(), 6u);
  if (const PatchFile* f = find("a.txt", "a.txt")) {
    EXPECT_EQ(f->status, 'M');
    EXPECT_FALSE(f->binary);
  }
  if (const PatchFile* f = find("", "b.txt")) {
    EXPECT_EQ(f->status, 'D');
  }
  if (const PatchFile* f = find("new.txt", "")) {
    EXPECT_EQ(f->status, 'A');
  }
  if (const PatchFile* f = find("renamed.txt", "moved.txt")) {
    EXPECT_EQ(f->status, 'R');
  }
  if (const PatchFile* f = find("bin.dat", "bin.dat")) {
    EXPECT_EQ(f->status, 'M');
    EXPECT_TRUE(f->binary);
  }
  if (const PatchFile* f = find("link", "")) {
    EXPECT_EQ(f->status, 'A');
    EXPECT_EQ(f->new_mode, 0120000);
  }
}

TEST_F(GitPatch, ParsePatchOfGarbageIsNotOk) {
  for (const std::string& text : {std::string("this is not a diff\njust words\n"), std::string(),
                                 std::string("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-only\n")}) {
    ParsedPatch parsed = parse_patch(text);
    EXPECT_FALSE(parsed.ok) << "accepted: " << text;
    EXPECT_FALSE(parsed.error.empty()) << "no reason for: " << text;
  }
}

TEST_F(GitPatch, DiffHeadToWorkdirIncludesNewFilesAndReappliesElsewhere) {
  std::string head = init_repo();
  git("branch autoresearch/s");
  Repository repo = Repository::discover(m_repo);
  Worktree cand = Worktree::ensure(repo, "candidate", wt_path("candidate"), "refs/heads/autoresearch/s", from_hex(head));
  Worktree base = Worktree::ensure(repo, "base", wt_path("base"), std::nullopt, from_hex(head));
  write_text(cand.path() / "a.txt", numbered_lines(29));
  write_text(cand.path() / "fresh" / "new.txt", "new content\n");
  write_text(cand.path() / "build" / "ignored.o", "not part of any diff\n");

  std::string diff = diff_head_to_workdir(cand);
  EXPECT_TRUE(contains(diff, "diff --git a/fresh/new.txt b/fresh/new.txt"));
  EXPECT_TRUE(contains(diff, "+new content"));
  EXPECT_TRUE(contains(diff, "-line 30"));
  EXPECT_FALSE(contains(diff, "ignored.o"));

  ParsedPatch parsed = parse_patch(diff);
  ASSERT_TRUE(parsed.ok) << parsed.error;
  ASSERT_EQ(parsed.files.size(), 2u);

  ApplyOutcome out = apply_patch(base, diff);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(read_text(base.path() / "fresh" / "new.txt"), "new content\n");
  EXPECT_EQ(read_text(base.path() / "a.txt"), numbered_lines(29));
}

// ---- commits ---------------------------------------------------------------------------------

using GitCommit = GitTest;

TEST_F(GitCommit, CommitIndexMovesTheSessionBranchAndLeavesTheMainCheckoutAlone) {
  std::string head = init_repo();
  git("branch autoresearch/s");
  // The person is mid-edit in their checkout: an unstaged change and a staged new file.
  write_text(m_repo / "a.txt", "user is editing\n");
  write_text(m_repo / "user.txt", "staged by the user\n");
  git("add user.txt");
  const std::string status_before = git("status --porcelain");
  const std::string staged_before = git("diff --cached");
  const std::string unstaged_before = git("diff");
  ASSERT_NE(status_before, "");

  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "candidate", wt_path("candidate"), "refs/heads/autoresearch/s", from_hex(head));
  const std::string patch =
      "diff --git a/b.txt b/b.txt\n"
      "--- a/b.txt\n"
      "+++ b/b.txt\n"
      "@@ -1 +1 @@\n"
      "-bee\n"
      "+buzz\n";
  ApplyOutcome ap = apply_patch(wt, patch);
  ASSERT_TRUE(ap.ok) << ap.error;
  wt.stage_paths(ap.paths);
  git_oid made = wt.commit_index("Use buzz\n\nMechanism: louder\n", true);

  EXPECT_EQ(git("rev-parse refs/heads/autoresearch/s"), to_hex(made));
  EXPECT_EQ(to_hex(wt.head_commit()), to_hex(made));
  EXPECT_EQ(git("rev-parse " + to_hex(made) + "^"), head);
  EXPECT_EQ(git("show " + to_hex(made) + ":b.txt"), "buzz");
  EXPECT_EQ(repo.commit_message(made), "Use buzz\n\nMechanism: louder\n");
  EXPECT_TRUE(wt.is_clean());

  EXPECT_EQ(git("rev-parse HEAD"), head);
  EXPECT_EQ(git("symbolic-ref HEAD"), "refs/heads/main");
  EXPECT_EQ(git("status --porcelain"), status_before);
  EXPECT_EQ(git("diff --cached"), staged_before);
  EXPECT_EQ(git("diff"), unstaged_before);
  EXPECT_EQ(read_text(m_repo / "a.txt"), "user is editing\n");
  EXPECT_EQ(read_text(m_repo / "b.txt"), "bee\n");
}

TEST_F(GitCommit, CommitIndexWithoutUpdateHeadOnlyCreatesTheObject) {
  std::string head = init_repo();
  git("branch autoresearch/s");
  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "candidate", wt_path("candidate"), "refs/heads/autoresearch/s", from_hex(head));
  write_text(wt.path() / "new.txt", "x\n");
  wt.stage_all();
  git_oid made = wt.commit_index("detached commit", false);

  EXPECT_NE(to_hex(made), head);
  EXPECT_EQ(git("rev-parse refs/heads/autoresearch/s"), head);
  EXPECT_EQ(to_hex(wt.head_commit()), head);
  EXPECT_EQ(git("rev-parse " + to_hex(made) + "^"), head);
  EXPECT_EQ(git("show " + to_hex(made) + ":new.txt"), "x");
}

TEST_F(GitCommit, StageAllStagesNewModifiedAndDeletedButNotIgnored) {
  std::string head = init_repo();
  git("branch autoresearch/s");
  Repository repo = Repository::discover(m_repo);
  Worktree wt = Worktree::ensure(repo, "candidate", wt_path("candidate"), "refs/heads/autoresearch/s", from_hex(head));
  const fs::path& p = wt.path();
  write_text(p / "a.txt", "changed\n");
  fs::remove(p / "b.txt");
  write_text(p / "dir" / "n.txt", "new\n");
  write_text(p / "build" / "out.o", "ignored\n");
  wt.stage_all();
  EXPECT_EQ(git("diff --cached --name-status", p), "M\ta.txt\nD\tb.txt\nA\tdir/n.txt");
  EXPECT_EQ(git("status --porcelain", p), "M  a.txt\nD  b.txt\nA  dir/n.txt");
}

} // namespace
} // namespace ar::git
