#pragma once
// The two worktrees of a session and the one place that moves them.
//
// Invariant between experiments: the candidate (session branch checked out) and the base
// (detached) are both clean at the best commit. Every path that leaves an experiment (revert,
// keep, failure, interrupt) goes through revert(), keep() or restore() here.
//
// Tampering: a command must not change tracked files of its worktree or protected files. A full
// check walks the worktree (git status against the index); a quick check only re-reads the
// protected files. The pipeline takes full snapshots at stage boundaries and quick checks after
// each benchmark run (DESIGN §10 "Tamper checks" says where and why).
//
// Moves are cheap when the state of a side is known (no command ran since it was last reset or
// checked): only the paths that differ are restored. Otherwise, or after tampering, the side is
// reset and cleaned in full.

#include "git/git.hpp"
#include "session/harness.hpp"
#include "session/paths.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ar::session {

class Workspace {
 public:
  // Opens (or recreates) both worktrees at `best`, cleans them and writes the harness files into
  // both. `slot` 0 is the session's own pair (Paths::base_wt, cand_wt; the candidate has the
  // session branch checked out); slot k >= 1 is executor slot k (Paths::slot_dir(k)): both
  // detached, and keep() moves the branch itself.
  Workspace(git::Repository& repo, const Paths& paths, const std::string& branch_ref, const git_oid& best,
            int slot = 0, std::vector<HarnessFile> harness = {});

  // Removes both worktrees of the session and those of every slot (folders and git's records);
  // returns whether there was any. No run may be using them (the caller holds the run lock, or is
  // the run and is done with them).
  static bool remove(git::Repository& repo, const Paths& paths);

  // Another pair kept a commit (or the best moved otherwise): both worktrees are reset in full to
  // `best`; the base needs a build again.
  void follow(const git_oid& best);

  git::Worktree& side(int i) { return i == 0 ? m_base : m_cand; }
  std::filesystem::path cwd(int i) const;  // where commands run in side i (the config's folder)
  const git_oid& best() const { return m_best; }

  // Applies the patch to the candidate's working tree (not its index, as an agent's edits): a gate's
  // `git diff` sees it. The paths it touched are tracked here until the candidate is settled.
  git::ApplyOutcome apply(const std::string& patch);
  // After apply() failed: the patch applied to `base` and merged three-way onto the best commit
  // (git::apply_merged), into the candidate's working tree.
  git::ApplyOutcome apply_merged(const std::string& patch, const git_oid& base);
  // Stages the applied patch's paths (added files included) and commits them on the session
  // branch; the new commit is the best. Returns the commit. revert() then settles both worktrees
  // on it.
  git_oid keep(const std::string& message);
  // Candidate back to the best commit (tracked files, index and untracked files); the base too
  // when it was tampered with or is not at the best commit (after a keep).
  void revert();
  // Both worktrees back to the best commit, whatever happened (failures, interrupts, verify).
  void restore();
  // Moves the base worktree to `commit` (verify measures the start commit there).
  void move_base(const git_oid& commit);
  // Slot pairs only, after keep() and revert(): the candidate worktree, whose build ran on exactly
  // the tree just kept, becomes the base, built, and the old base becomes the candidate, so the new
  // best needs no base build. The two folders change roles (side(i), cwd(i) follow them); the
  // caller swaps its sandbox's worktrees too. The new base's state now is its trusted one.
  void swap_sides(const std::vector<std::string>& protected_globs);
  // The candidate's change against the best commit as a patch (commits a proposer made are taken
  // back as plain changes first; `made_commits` says whether there were any); the candidate is
  // left clean at the best commit.
  std::string take_edit(bool& made_commits);

  // Harness files (session/harness.hpp): written into both worktrees now and after every move;
  // fingerprinted in every tamper check as "harness:<path>". A new set invalidates the base build.
  void set_harness(std::vector<HarnessFile> files);
  const std::vector<HarnessFile>& harness() const { return m_harness; }

  // When a command is done with the worktrees: the candidate's HEAD is detached at the best
  // commit, so no worktree holds the session branch and the user can check it out. The next
  // Workspace attaches it again.
  void release();

  // Build bookkeeping: the base needs a build after it moved.
  bool base_built() const { return m_base_built == git::to_hex(m_best) && m_base_at_best; }
  void mark_base_built() { m_base_built = git::to_hex(m_best); }

  // Tampering. snapshot() records the state side i must keep (without a walk when the state is
  // known; the base keeps its last trusted state); check() walks the side, compares and returns
  // the first path that changed; quick_check() does so for the protected files only.
  void snapshot(int i, const std::vector<std::string>& protected_globs);
  // After the base was built: its state now (a build may change tracked files) is the trusted one.
  void trust_base(const std::vector<std::string>& protected_globs);
  std::optional<std::string> check(int i, const std::vector<std::string>& protected_globs);
  std::optional<std::string> quick_check(int i) const;
  void mark_tampered(int i) { m_tampered[i] = true; }
  // A command ran in side i: what its files are is no longer known until the next check().
  void ran_command(int i) { m_known[i] = false; }

 private:
  void set_fingerprint(int i, std::map<std::string, std::string> fingerprint);
  // `fingerprint` with the patched paths of side i as "patched:<path>" entries (their content as
  // the patch left it, whether tracked or added) instead of "changed:<path>".
  // ... and the harness files as "harness:<path>".
  std::map<std::string, std::string> with_patched(int i, std::map<std::string, std::string> fingerprint);
  // Writes each harness file into side i unless it is there as it should be; never through a
  // symlink a command may have left in its place.
  void install_harness(int i);
  bool is_harness(const std::string& path) const;
  static std::optional<std::string> first_difference(const std::map<std::string, std::string>& before,
                                                     const std::map<std::string, std::string>& now);
  void settle(int i, const git_oid& from);
  void reset_slow(int i);
  git::Repository& m_repo;
  const Paths& m_paths;
  std::string m_detached_branch;  // slots: the branch keep() moves (their candidate is detached)
  git::Worktree m_cand;
  git::Worktree m_base;
  git_oid m_best;
  bool m_base_at_best = true;
  std::string m_base_built;
  std::map<std::string, std::string> m_fingerprint[2];
  std::vector<std::string> m_quick_keys[2];  // fingerprint keys quick_check() re-reads (protected, harness)
  bool m_tampered[2] = {false, false};
  // m_known[i]: every tracked file of side i but the patched ones matches its index, the patched
  // ones are as the patch left them, and the untracked (not ignored)
  // files are exactly m_untracked[i]; then a move needs no walk (see settle()).
  bool m_known[2] = {true, true};
  std::vector<std::string> m_untracked[2];
  std::vector<std::string> m_patched[2];  // paths an applied patch changed in the working tree
  std::vector<HarnessFile> m_harness;
  bool m_base_trusted = false;               // m_fingerprint[0] is the base's trusted state
  std::vector<std::string> m_trusted_globs;  // the protected globs it was taken with (the config may change)
};

}  // namespace ar::session
