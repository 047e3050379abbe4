// The fast paths that move a worktree without walking it: after an experiment the loop knows
// exactly what differs (the index against the best commit, and the untracked files its last scan
// saw), so it restores those paths only. reset_hard_clean (git.cpp) stays the slow, always-right
// path for anything unexpected.

#include "git/git.hpp"
#include "git/internal.hpp"

#include "util/error.hpp"
#include "util/glob.hpp"

#include <set>

#include <fmt/format.h>

namespace ar::git {

namespace fs = std::filesystem;

namespace {

using detail::tree_of;

void collect(git_diff* diff, std::set<std::string>& out) {
  size_t n = git_diff_num_deltas(diff);
  for (size_t i = 0; i < n; ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff, i);
    if (d->old_file.path != nullptr) out.insert(d->old_file.path);
    if (d->new_file.path != nullptr) out.insert(d->new_file.path);
  }
}

void remove_with_empty_parents(const fs::path& root, const fs::path& file) {
  std::error_code ec;
  fs::remove_all(file, ec);
  if (ec) throw GitError(fmt::format("{}: cannot remove {}: {}", root.string(), file.string(), ec.message()));
  for (fs::path dir = file.parent_path(); dir != root && dir.string().size() > root.string().size();
       dir = dir.parent_path()) {
    if (!fs::is_empty(dir, ec) || ec) break;
    fs::remove(dir, ec);
  }
}

}  // namespace

Worktree::Scan Worktree::scan(const std::vector<std::string>& protected_globs) const {
  Scan out;
  git_status_options so = GIT_STATUS_OPTIONS_INIT;
  so.show = GIT_STATUS_SHOW_WORKDIR_ONLY;
  so.flags =
      GIT_STATUS_OPT_EXCLUDE_SUBMODULES | GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
  git_status_list* list = nullptr;
  check_git(git_status_list_new(&list, m_repo.get(), &so), fmt::format("{}: status", m_path.string()));
  StatusListPtr owned(list);
  size_t n = git_status_list_entrycount(list);
  for (size_t i = 0; i < n; ++i) {
    const git_status_entry* e = git_status_byindex(list, i);
    if (e->index_to_workdir == nullptr) continue;
    if ((e->status & GIT_STATUS_WT_NEW) != 0) {
      if (e->index_to_workdir->new_file.path != nullptr) out.untracked.emplace_back(e->index_to_workdir->new_file.path);
      continue;
    }
    const char* path = e->index_to_workdir->old_file.path;
    if (path != nullptr) out.fingerprint[std::string("changed:") + path] = file_signature(m_path / path);
  }
  auto prot = protected_fingerprint(protected_globs);
  out.fingerprint.insert(prot.begin(), prot.end());
  return out;
}

std::map<std::string, std::string> Worktree::protected_fingerprint(
    const std::vector<std::string>& protected_globs) const {
  std::map<std::string, std::string> out;
  if (protected_globs.empty()) return out;
  git_index* index = nullptr;
  check_git(git_repository_index(&index, m_repo.get()), "open worktree index");
  IndexPtr owned_index(index);
  size_t count = git_index_entrycount(index);
  for (size_t i = 0; i < count; ++i) {
    const git_index_entry* e = git_index_get_byindex(index, i);
    if (util::first_match(protected_globs, e->path) == nullptr) continue;
    out[std::string("protected:") + e->path] = file_signature(m_path / e->path);
  }
  return out;
}

std::vector<std::string> Worktree::index_changes(const git_oid& commit) const {
  TreePtr tree = tree_of(m_repo.get(), commit);
  git_index* index = nullptr;
  check_git(git_repository_index(&index, m_repo.get()), "open worktree index");
  IndexPtr owned_index(index);
  git_diff* diff = nullptr;
  check_git(git_diff_tree_to_index(&diff, m_repo.get(), tree.get(), index, nullptr),
            fmt::format("{}: diff index", m_path.string()));
  DiffPtr owned(diff);
  std::set<std::string> paths;
  collect(diff, paths);
  return {paths.begin(), paths.end()};
}

std::vector<std::string> tree_changes(git_repository* repo, const git_oid& from, const git_oid& to) {
  TreePtr a = tree_of(repo, from);
  TreePtr b = tree_of(repo, to);
  git_diff* diff = nullptr;
  check_git(git_diff_tree_to_tree(&diff, repo, a.get(), b.get(), nullptr), "diff trees");
  DiffPtr owned(diff);
  std::set<std::string> paths;
  collect(diff, paths);
  return {paths.begin(), paths.end()};
}

void Worktree::restore_paths(const git_oid& commit, const std::vector<std::string>& paths,
                             const std::vector<std::string>& untracked) {
  git_object* obj = nullptr;
  check_git(git_object_lookup(&obj, m_repo.get(), &commit, GIT_OBJECT_COMMIT),
            fmt::format("look up {}", to_hex(commit)));
  ObjectPtr owned(obj);
  if (!paths.empty()) {
    std::vector<char*> raw;
    for (const std::string& p : paths) raw.push_back(const_cast<char*>(p.c_str()));
    git_strarray spec{raw.data(), raw.size()};
    // The index entries first (a path the commit lacks loses its entry), then the files.
    check_git(git_reset_default(m_repo.get(), obj, &spec), fmt::format("{}: reset paths", m_path.string()));
    TreePtr tree = tree_of(m_repo.get(), commit);
    std::vector<char*> present;
    for (char* p : raw) {
      git_tree_entry* entry = nullptr;
      if (git_tree_entry_bypath(&entry, tree.get(), p) == 0) {
        git_tree_entry_free(entry);
        present.push_back(p);
      } else {
        git_error_clear();
        std::error_code ec;
        if (fs::symlink_status(m_path / p, ec).type() != fs::file_type::not_found)
          remove_with_empty_parents(m_path, m_path / p);
      }
    }
    if (!present.empty()) {
      git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
      co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
      co.paths = git_strarray{present.data(), present.size()};
      check_git(git_checkout_tree(m_repo.get(), obj, &co), fmt::format("{}: check out paths", m_path.string()));
    }
  }
  if (head_branch().empty()) {
    check_git(git_repository_set_head_detached(m_repo.get(), &commit), fmt::format("{}: move HEAD", m_path.string()));
  } else {
    git_oid head = head_commit();
    if (git_oid_equal(&head, &commit) == 0) {
      git_reference* ref = nullptr;
      check_git(git_reference_lookup(&ref, m_repo.get(), head_branch().c_str()), "look up HEAD's branch");
      RefPtr owned_ref(ref);
      git_reference* moved = nullptr;
      check_git(git_reference_set_target(&moved, ref, &commit, "autoresearch: restore"), "move HEAD's branch");
      git_reference_free(moved);
    }
  }
  for (const std::string& u : untracked) remove_with_empty_parents(m_path, m_path / u);
}

namespace detail {

TreePtr tree_of(git_repository* repo, const git_oid& commit) {
  git_commit* c = nullptr;
  check_git(git_commit_lookup(&c, repo, &commit), fmt::format("look up {}", to_hex(commit)));
  CommitPtr owned(c);
  git_tree* t = nullptr;
  check_git(git_commit_tree(&t, c), fmt::format("tree of {}", to_hex(commit)));
  return TreePtr(t);
}

}  // namespace detail

}  // namespace ar::git
