#pragma once
// RAII wrappers over libgit2 and the handful of repository operations the loop needs. The product
// never shells out to `git`.
//
// Errors: a failing libgit2 call that means the repository is unusable throws ar::GitError (via
// check_git) with libgit2's message; expected outcomes (a patch that does not apply) are returned
// as values. Call Library once per process (main) before anything else here.

#include "util/error.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <git2.h>

namespace ar::git {

class GitError : public Error {
public:
  using Error::Error;
};

// git_libgit2_init / git_libgit2_shutdown for the lifetime of the object.
class Library {
public:
  Library();
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
};

// Throws GitError("<what>: <libgit2 message>") when rc < 0. Returns rc otherwise.
int check_git(int rc, std::string_view what);

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using RepoPtr = std::unique_ptr<git_repository, Deleter<git_repository, git_repository_free>>;
using CommitPtr = std::unique_ptr<git_commit, Deleter<git_commit, git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, Deleter<git_tree, git_tree_free>>;
using RefPtr = std::unique_ptr<git_reference, Deleter<git_reference, git_reference_free>>;
using IndexPtr = std::unique_ptr<git_index, Deleter<git_index, git_index_free>>;
using DiffPtr = std::unique_ptr<git_diff, Deleter<git_diff, git_diff_free>>;
using WorktreePtr = std::unique_ptr<git_worktree, Deleter<git_worktree, git_worktree_free>>;
using SignaturePtr = std::unique_ptr<git_signature, Deleter<git_signature, git_signature_free>>;
using StatusListPtr = std::unique_ptr<git_status_list, Deleter<git_status_list, git_status_list_free>>;
using ObjectPtr = std::unique_ptr<git_object, Deleter<git_object, git_object_free>>;

std::string to_hex(const git_oid& oid);
git_oid from_hex(const std::string& hex);

class Repository {
public:
  // Opens the repository containing `path` (searching upwards). Throws GitError with a message
  // that says what to do for a bare repository.
  static Repository discover(const std::filesystem::path& path);

  git_repository* get() const { return m_repo.get(); }
  std::filesystem::path workdir() const;
  std::filesystem::path git_dir() const;  // the common dir for a worktree

  // The commit HEAD points at; throws with a clear message on an unborn HEAD.
  git_oid head_commit() const;
  bool head_detached() const;
  bool is_shallow() const;
  std::optional<git_oid> resolve(const std::string& ref_name) const;  // refs/heads/x, HEAD, ...
  void set_ref(const std::string& ref_name, const git_oid& oid, const std::string& log_message);
  void delete_ref(const std::string& ref_name);

  // First-parent chain from `tip` back to (excluding) `stop`; newest first. Throws when `stop`
  // is not reached.
  std::vector<git_oid> first_parent_chain(const git_oid& tip, const git_oid& stop) const;
  std::string commit_message(const git_oid& oid) const;

  // Adds `pattern` to $GIT_DIR/info/exclude unless already there: ignores our state folder without
  // touching the user's .gitignore.
  void ensure_excluded(const std::string& pattern);

  // Whether `rel_path` (relative to the working tree) is in the index: false for an untracked or
  // ignored file. Throws GitError when the index cannot be read.
  bool is_tracked(const std::string& rel_path) const;

private:
  explicit Repository(RepoPtr repo) : m_repo(std::move(repo)) {}
  RepoPtr m_repo;
};

// A linked worktree under our control. The candidate worktree has the session branch checked out
// (so a keep is an ordinary commit on it); the base worktree has a detached HEAD at the best
// commit.
class Worktree {
public:
  // Opens the linked worktree `name` at `path` when it exists and is valid, else (re)creates it.
  // With `branch_ref` the worktree checks out that branch (a worktree left detached, as a run
  // leaves the candidate, is attached to it again); otherwise it is detached at `commit`. Throws
  // GitError when the branch is checked out in another worktree (the user's checkout).
  static Worktree ensure(Repository& main, const std::string& name,
                         const std::filesystem::path& path,
                         const std::optional<std::string>& branch_ref, const git_oid& commit);

  // Removes the linked worktree `name` (git's record of it and its folder `path`) when it exists;
  // returns whether anything was there. Throws GitError when git refuses.
  static bool remove(Repository& main, const std::string& name, const std::filesystem::path& path);

  git_repository* get() const { return m_repo.get(); }
  const std::filesystem::path& path() const { return m_path; }

  git_oid head_commit() const;
  // HEAD's symbolic target ("refs/heads/...") or empty when detached.
  std::string head_branch() const;
  // Detaches HEAD at the commit it is at (files and index untouched): the branch it named is then
  // free to be checked out elsewhere.
  void detach();

  // reset --hard to `commit` (moving HEAD, or the branch HEAD points at) and delete every untracked
  // file that is not ignored. Ignored files (build outputs) stay so builds can be incremental.
  void reset_hard_clean(const git_oid& commit);

  // Moves HEAD (the branch it points at) to `commit`, keeping index and files: what was committed
  // on top of `commit` becomes uncommitted changes again.
  void reset_soft(const git_oid& commit);

  // True when the worktree has no staged, modified or untracked (non-ignored) files.
  bool is_clean() const;

  // What a benchmark or gate must not change: every tracked file whose working copy differs from
  // the index (with a hash of its content), plus a content hash of every tracked file matching
  // `protected_globs` (a size and mtime signature for files over 16 MiB). Two equal fingerprints
  // taken around a command mean it left the tracked tree and the protected files alone.
  std::map<std::string, std::string> fingerprint(const std::vector<std::string>& protected_globs) const;

  // The fingerprint and the untracked (not ignored) files, from one walk of the worktree.
  struct Scan {
    std::map<std::string, std::string> fingerprint;
    std::vector<std::string> untracked;
  };
  Scan scan(const std::vector<std::string>& protected_globs) const;
  // The fingerprint of a worktree known to match its index (no tracked file changed): only the
  // protected files are read, from the index's list; nothing else is walked.
  std::map<std::string, std::string> protected_fingerprint(const std::vector<std::string>& protected_globs) const;

  // Paths whose index entry differs from `commit`'s tree (added, deleted, modified, both sides of
  // a rename). Reads the index and the tree only.
  std::vector<std::string> index_changes(const git_oid& commit) const;

  // Puts `paths` back as `commit` has them, in the index and the files (a path `commit` lacks is
  // removed), moves HEAD (detached, or the branch HEAD names when `branch` is true) to `commit`,
  // and deletes the `untracked` files. With the right `paths` (index_changes and, for a HEAD move,
  // the tree diff) this equals reset_hard_clean without walking the tree.
  void restore_paths(const git_oid& commit, const std::vector<std::string>& paths,
                     const std::vector<std::string>& untracked);

  // Commits the index on top of HEAD, moving the branch HEAD points at when `update_head`;
  // otherwise only creates the commit object. Returns the new commit.
  git_oid commit_index(const std::string& message, bool update_head);

  // Stages every change in the working tree (new files included, ignored excluded), like
  // `git add -A`.
  void stage_all();
  // Stages `paths` as the working tree has them: a present file is added (even when ignored), a
  // missing one loses its index entry.
  void stage_paths(const std::vector<std::string>& paths);

private:
  Worktree(RepoPtr repo, std::filesystem::path path) : m_repo(std::move(repo)), m_path(std::move(path)) {}
  RepoPtr m_repo;
  std::filesystem::path m_path;
};

// What a tamper check compares for one file: a content hash (a size and mtime signature over 16
// MiB), "link:<target>" for a symlink, "<missing>" when absent.
std::string file_signature(const std::filesystem::path& file);

// Paths that differ between the trees of two commits.
std::vector<std::string> tree_changes(git_repository* repo, const git_oid& from, const git_oid& to);

// One file a patch touches, as git reads it.
struct PatchFile {
  std::string old_path;  // empty for an added file
  std::string new_path;  // empty for a deleted file
  char status = 'M';     // A, D, M, R (renamed), C (copied), T (type change)
  bool binary = false;
  int new_mode = 0;      // 0120000 for a symlink
  std::string link_target;  // for a symlink: where it points (the added blob's content)
};

struct ParsedPatch {
  bool ok = false;
  std::string error;           // why it is not a patch
  std::vector<PatchFile> files;
};

// Parses a git-format diff (see sources/patch_file.hpp for turning plain diffs into this form).
// An added or deleted empty file may come as git writes it, without "---"/"+++" lines.
ParsedPatch parse_patch(std::string_view git_diff);

struct ApplyOutcome {
  bool ok = false;
  std::string error;               // "src/a.c hunk 2: <libgit2 message>"
  std::vector<std::string> paths;  // when ok: every path the patch touched (both names of a rename)
};

// Applies a git-format diff to the worktree's files only, as an agent's edits would be: the index
// stays at HEAD, so `git diff` shows the change and added files are untracked until staged.
ApplyOutcome apply_patch(Worktree& wt, std::string_view git_diff);

// The commit a patch was written against: its `base-commit:` trailer when that commit exists,
// else the first of `candidates` (newest first) whose blobs match every abbreviated preimage id
// of the patch's `index <old>..<new>` lines; nullopt when neither says.
std::optional<git_oid> patch_base(const Repository& repo, std::string_view git_diff,
                                  const std::vector<git_oid>& candidates);

// A three-way merge of a patch that no longer applies to the worktree's HEAD: the patch is applied
// to `base` (the commit it was written against) in memory, and the result merged onto HEAD
// (libgit2's git_merge_trees, `base` the ancestor). On success the merged change is written to
// the worktree's files only, like apply_patch, and `paths` lists what it touched. A conflict fails
// with error "conflict in <file>[, <file>...]"; a patch that does not apply to `base` either fails
// with apply_patch's error.
ApplyOutcome apply_merged(Worktree& wt, std::string_view git_diff, const git_oid& base);

// True when the tree of `commit` has an entry at `path`.
bool tree_has_path(const Repository& repo, const git_oid& commit, const std::string& path);

// The diff from HEAD to the working tree (new files included), as git-format patch text.
std::string diff_head_to_workdir(Worktree& wt);

// ---- review branches (review.cpp): commits built from trees, no worktree involved --------------

git_oid tree_id(const Repository& repo, const git_oid& commit);
// A tree: `base`'s, with each of `paths` as `source` has it (removed where `source` has none).
git_oid tree_with_paths(const Repository& repo, const git_oid& base, const git_oid& source,
                        const std::vector<std::string>& paths);
// A commit of `tree` on `parent`, signed as the repository's user (else as autoresearch); no ref moves.
git_oid commit_tree_on(Repository& repo, const git_oid& parent, const git_oid& tree, const std::string& message);
// The change from `parent` to `commit`, reverted on top of `onto`'s tree (no fuzz: every hunk's
// context must match, as `git apply` without --3way): the resulting tree, or why it does not apply.
struct RevertOutcome {
  bool ok = false;
  git_oid tree{};
  std::string error;
};
RevertOutcome revert_onto(const Repository& repo, const git_oid& commit, const git_oid& parent, const git_oid& onto);
// The full names of the refs that start with `prefix` ("refs/heads/autoresearch-review/s/").
std::vector<std::string> refs_under(const Repository& repo, const std::string& prefix);

} // namespace ar::git
