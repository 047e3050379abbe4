#include "session/workspace.hpp"

#include "util/error.hpp"
#include "util/files.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace ar::session {

namespace fs = std::filesystem;

namespace {
constexpr const char* k_protected = "protected:";
const std::string k_harness = "harness:";
// git's names of the two linked worktrees (folders: Paths::cand_wt, Paths::base_wt).
constexpr const char* k_cand_name = "autoresearch-cand";
constexpr const char* k_base_name = "autoresearch-base";

std::string slot_name(int slot, const char* side) {
  return fmt::format("autoresearch-slot{}-{}", slot, side);
}
}  // namespace

bool Workspace::remove(git::Repository& repo, const Paths& paths) {
  bool cand = git::Worktree::remove(repo, k_cand_name, paths.cand_wt);
  bool base = git::Worktree::remove(repo, k_base_name, paths.base_wt);
  bool slots = false;
  for (int k = 1; k <= config::k_max_slots; ++k) {
    slots = git::Worktree::remove(repo, slot_name(k, "cand"), paths.slot_dir(k) / "cand") || slots;
    slots = git::Worktree::remove(repo, slot_name(k, "base"), paths.slot_dir(k) / "base") || slots;
    std::error_code ec;
    if (fs::is_directory(paths.slot_dir(k), ec)) fs::remove_all(paths.slot_dir(k), ec);
  }
  return cand || base || slots;
}

Workspace::Workspace(git::Repository& repo, const Paths& paths, const std::string& branch_ref, const git_oid& best,
                     int slot, std::vector<HarnessFile> harness)
    : m_repo(repo),
      m_paths(paths),
      m_detached_branch(slot == 0 ? std::string() : branch_ref),
      m_cand(slot == 0 ? git::Worktree::ensure(repo, k_cand_name, paths.cand_wt, branch_ref, best)
                       : git::Worktree::ensure(repo, slot_name(slot, "cand"), paths.slot_dir(slot) / "cand",
                                               std::nullopt, best)),
      m_base(slot == 0 ? git::Worktree::ensure(repo, k_base_name, paths.base_wt, std::nullopt, best)
                       : git::Worktree::ensure(repo, slot_name(slot, "base"), paths.slot_dir(slot) / "base",
                                               std::nullopt, best)),
      m_best(best),
      m_harness(std::move(harness)) {
  // ensure() leaves a worktree it opened as it was: a killed run may have left it patched.
  m_cand.reset_hard_clean(best);
  m_base.reset_hard_clean(best);
  install_harness(0);
  install_harness(1);
}

void Workspace::set_harness(std::vector<HarnessFile> files) {
  m_harness = std::move(files);
  install_harness(0);
  install_harness(1);
  m_base_built.clear();      // a build may use them
  m_base_trusted = false;    // the next snapshot takes their new fingerprint
}

bool Workspace::is_harness(const std::string& path) const {
  return std::any_of(m_harness.begin(), m_harness.end(), [&](const HarnessFile& h) { return h.path == path; });
}

void Workspace::install_harness(int i) {
  const fs::path root = side(i).path();
  for (const HarnessFile& h : m_harness) {
    const fs::path dest = root / h.path;
    if (git::file_signature(dest) == h.sha256 &&
        ((fs::status(dest).permissions() & fs::perms::owner_exec) != fs::perms::none) == h.executable) {
      continue;
    }
    // A command may have put a symlink where a folder or the file was: remove it, never follow it.
    fs::path dir = root;
    for (const auto& part : fs::path(h.path).parent_path()) {
      dir /= part;
      std::error_code ec;
      auto st = fs::symlink_status(dir, ec);
      if (fs::is_symlink(st) || (fs::exists(st) && !fs::is_directory(st))) fs::remove_all(dir);
    }
    fs::create_directories(dest.parent_path());
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(dest, ec))) fs::remove_all(dest);
    util::write_file_atomic(dest, h.content, false);  // re-creatable from the checkout
    fs::permissions(dest,
                    h.executable ? fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                       fs::perms::others_read | fs::perms::others_exec
                                 : fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                       fs::perms::others_read);
  }
}

void Workspace::release() {
  if (!m_cand.head_branch().empty()) m_cand.detach();
}

fs::path Workspace::cwd(int i) const {
  return m_paths.in_worktree(i == 0 ? m_base.path() : m_cand.path());
}

git_oid Workspace::keep(const std::string& message) {
  // The patch lives in the working tree: stage exactly its paths (added files included, nothing a
  // build or benchmark left beside them), then commit.
  m_cand.stage_paths(m_patched[1]);
  std::vector<std::string>& untracked = m_untracked[1];
  untracked.erase(std::remove_if(untracked.begin(), untracked.end(),
                                 [&](const std::string& u) {
                                   return std::find(m_patched[1].begin(), m_patched[1].end(), u) !=
                                          m_patched[1].end();
                                 }),
                  untracked.end());
  git_oid commit = m_cand.commit_index(message, true);
  if (!m_detached_branch.empty()) m_repo.set_ref(m_detached_branch, commit, "autoresearch: keep");
  m_best = commit;
  m_base_at_best = false;  // revert() moves it
  return commit;
}

git::ApplyOutcome Workspace::apply(const std::string& patch) {
  git::ApplyOutcome out = git::apply_patch(m_cand, patch);
  if (!out.ok) m_known[1] = false;  // whatever libgit2 left behind goes by the slow path
  m_patched[1] = out.paths;
  return out;
}

git::ApplyOutcome Workspace::apply_merged(const std::string& patch, const git_oid& base) {
  git::ApplyOutcome out = git::apply_merged(m_cand, patch, base);
  if (!out.ok) m_known[1] = false;
  m_patched[1] = out.paths;
  return out;
}

void Workspace::reset_slow(int i) {
  if (i == 0) m_base_trusted = false;
  side(i).reset_hard_clean(m_best);
  m_known[i] = true;
  m_untracked[i].clear();
  m_patched[i].clear();
  install_harness(i);
}

// Side i to the best commit. `from` is the commit its HEAD is at now.
void Workspace::settle(int i, const git_oid& from) {
  if (!m_known[i] || m_tampered[i]) {
    reset_slow(i);
    return;
  }
  git::Worktree& wt = side(i);
  // What differs from the best commit: the index against its HEAD (an applied patch), and the
  // tree of its HEAD against the best (a keep the base has not followed yet).
  // What differs from the best commit: the paths a patch changed in the working tree, the index
  // against its HEAD, and the tree of its HEAD against the best (a keep the base has not
  // followed yet).
  std::vector<std::string> paths = wt.index_changes(from);
  paths.insert(paths.end(), m_patched[i].begin(), m_patched[i].end());
  if (git_oid_equal(&from, &m_best) == 0) {
    std::vector<std::string> moved = git::tree_changes(wt.get(), from, m_best);
    paths.insert(paths.end(), moved.begin(), moved.end());
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  std::vector<std::string>& untracked = m_untracked[i];
  untracked.erase(std::remove_if(untracked.begin(), untracked.end(), [&](const std::string& u) { return is_harness(u); }),
                  untracked.end());
  wt.restore_paths(m_best, paths, untracked);
  m_untracked[i].clear();
  m_patched[i].clear();
  install_harness(i);
  if (i == 0) m_base_trusted = false;
}

void Workspace::revert() {
  settle(1, m_cand.head_commit());
  m_tampered[1] = false;
  if (m_tampered[0] || !m_base_at_best) {
    settle(0, m_base.head_commit());
    if (m_tampered[0]) m_base_built.clear();
    m_base_at_best = true;
    m_tampered[0] = false;
  }
}

void Workspace::restore() {
  reset_slow(1);
  reset_slow(0);
  m_base_at_best = true;
  m_tampered[0] = m_tampered[1] = false;
}

void Workspace::follow(const git_oid& best) {
  m_best = best;
  reset_slow(1);
  reset_slow(0);
  m_base_at_best = true;
  m_tampered[0] = m_tampered[1] = false;
}

void Workspace::move_base(const git_oid& commit) {
  m_base_trusted = false;
  m_base.reset_hard_clean(commit);
  m_known[0] = true;
  m_untracked[0].clear();
  m_patched[0].clear();
  install_harness(0);
  m_base_at_best = git_oid_equal(&commit, &m_best) != 0;
  m_base_built.clear();
}

void Workspace::swap_sides(const std::vector<std::string>& protected_globs) {
  if (m_detached_branch.empty() || !m_base_at_best || m_tampered[0] || m_tampered[1] || !m_patched[1].empty()) {
    throw Error(fmt::format("{}: the worktrees cannot change roles: not both clean at the best commit",
                            m_cand.path().string()));
  }
  std::swap(m_base, m_cand);
  std::swap(m_fingerprint[0], m_fingerprint[1]);
  std::swap(m_quick_keys[0], m_quick_keys[1]);
  std::swap(m_known[0], m_known[1]);
  std::swap(m_untracked[0], m_untracked[1]);
  std::swap(m_patched[0], m_patched[1]);
  mark_base_built();
  trust_base(protected_globs);
}

std::string Workspace::take_edit(bool& made_commits) {
  // An agent that commits (aider does by default) would move the session branch: take its commits
  // back as plain changes, so the branch only ever holds kept experiments.
  git_oid head = m_cand.head_commit();
  made_commits = git_oid_equal(&head, &m_best) == 0;
  if (made_commits) m_cand.reset_soft(m_best);
  // Harness files are never part of a proposal (they are untracked: gone, they are not in the diff).
  for (const HarnessFile& h : m_harness) {
    std::error_code ec;
    fs::remove(m_cand.path() / h.path, ec);
  }
  std::string diff = git::diff_head_to_workdir(m_cand);
  reset_slow(1);
  return diff;
}

void Workspace::set_fingerprint(int i, std::map<std::string, std::string> fingerprint) {
  m_fingerprint[i] = std::move(fingerprint);
  m_quick_keys[i].clear();
  for (const auto& [key, value] : m_fingerprint[i]) {
    if (key.rfind(k_protected, 0) == 0 || key.rfind(k_harness, 0) == 0) m_quick_keys[i].push_back(key);
  }
}

std::map<std::string, std::string> Workspace::with_patched(int i, std::map<std::string, std::string> fingerprint) {
  for (const std::string& p : m_patched[i]) {
    fingerprint.erase("changed:" + p);
    fingerprint["patched:" + p] = git::file_signature(side(i).path() / p);
  }
  for (const HarnessFile& h : m_harness) {
    fingerprint.erase("changed:" + h.path);
    fingerprint[k_harness + h.path] = git::file_signature(side(i).path() / h.path);
  }
  return fingerprint;
}

void Workspace::snapshot(int i, const std::vector<std::string>& protected_globs) {
  // The base keeps the state it was last trusted in (clean at the best commit, or as its build
  // left it): a change made since, by any experiment, still shows at its next full check.
  if (i == 0 && m_base_trusted && protected_globs == m_trusted_globs) return;
  // A side in a known state has no changed tracked file: only the protected files need reading.
  // A side in a known state has no changed tracked file but the patched ones: only the protected
  // files and those need reading.
  set_fingerprint(i, with_patched(i, m_known[i] ? side(i).protected_fingerprint(protected_globs)
                                                 : side(i).scan(protected_globs).fingerprint));
  if (i == 0) {
    m_base_trusted = true;
    m_trusted_globs = protected_globs;
  }
}

void Workspace::trust_base(const std::vector<std::string>& protected_globs) {
  git::Worktree::Scan scan = m_base.scan(protected_globs);
  set_fingerprint(0, with_patched(0, std::move(scan.fingerprint)));
  m_untracked[0] = std::move(scan.untracked);
  m_known[0] = true;
  for (const auto& [key, value] : m_fingerprint[0]) m_known[0] = m_known[0] && key.rfind("changed:", 0) != 0;
  m_base_trusted = true;
  m_trusted_globs = protected_globs;
}

std::optional<std::string> Workspace::first_difference(const std::map<std::string, std::string>& before,
                                                       const std::map<std::string, std::string>& now) {
  for (const auto& [key, value] : now) {
    auto it = before.find(key);
    if (it == before.end() || it->second != value) return key.substr(key.find(':') + 1);
  }
  for (const auto& [key, value] : before) {
    if (now.count(key) == 0) return key.substr(key.find(':') + 1);
  }
  return std::nullopt;
}

std::optional<std::string> Workspace::check(int i, const std::vector<std::string>& protected_globs) {
  git::Worktree::Scan scan = side(i).scan(protected_globs);
  scan.fingerprint = with_patched(i, std::move(scan.fingerprint));
  std::optional<std::string> changed = first_difference(m_fingerprint[i], scan.fingerprint);
  bool tracked_changed = false;
  for (const auto& [key, value] : scan.fingerprint) tracked_changed |= key.rfind("changed:", 0) == 0;
  m_known[i] = !tracked_changed && !changed;
  m_untracked[i] = std::move(scan.untracked);
  return changed;
}

std::optional<std::string> Workspace::quick_check(int i) const {
  const git::Worktree& wt = i == 0 ? m_base : m_cand;
  for (const std::string& key : m_quick_keys[i]) {
    const std::string path = key.substr(key.find(':') + 1);
    if (git::file_signature(wt.path() / path) != m_fingerprint[i].at(key)) return path;
  }
  return std::nullopt;
}

}  // namespace ar::session
