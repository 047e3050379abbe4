// Commits built from trees without a worktree, for `autoresearch finalize` (git.hpp, "Review
// branches").
#include "git/git.hpp"
#include "git/internal.hpp"

#include <fmt/format.h>

namespace ar::git {

using detail::tree_of;

git_oid tree_id(const Repository& repo, const git_oid& commit) {
  return *git_tree_id(tree_of(repo.get(), commit).get());
}

git_oid tree_with_paths(const Repository& repo, const git_oid& base, const git_oid& source,
                        const std::vector<std::string>& paths) {
  git_index* raw = nullptr;
  check_git(git_index_new(&raw), "in-memory index");
  IndexPtr index(raw);
  TreePtr base_tree = tree_of(repo.get(), base);
  TreePtr source_tree = tree_of(repo.get(), source);
  check_git(git_index_read_tree(index.get(), base_tree.get()), "read tree");
  for (const std::string& path : paths) {
    git_tree_entry* entry = nullptr;
    if (git_tree_entry_bypath(&entry, source_tree.get(), path.c_str()) == 0) {
      git_index_entry e{};
      e.mode = static_cast<std::uint32_t>(git_tree_entry_filemode(entry));
      e.id = *git_tree_entry_id(entry);
      e.path = path.c_str();
      int rc = git_index_add(index.get(), &e);
      git_tree_entry_free(entry);
      check_git(rc, "add " + path);
    } else {
      git_index_remove_bypath(index.get(), path.c_str());
    }
  }
  git_oid tree{};
  check_git(git_index_write_tree_to(&tree, index.get(), repo.get()), "write tree");
  return tree;
}

git_oid commit_tree_on(Repository& repo, const git_oid& parent, const git_oid& tree, const std::string& message) {
  git_commit* p = nullptr;
  check_git(git_commit_lookup(&p, repo.get(), &parent), fmt::format("look up {}", to_hex(parent)));
  CommitPtr parent_commit(p);
  git_tree* t = nullptr;
  check_git(git_tree_lookup(&t, repo.get(), &tree), "look up tree");
  TreePtr owned(t);
  SignaturePtr signature = detail::signature_for(repo.get());
  const git_commit* parents[] = {parent_commit.get()};
  git_oid out{};
  check_git(git_commit_create(&out, repo.get(), nullptr, signature.get(), signature.get(), nullptr, message.c_str(),
                              owned.get(), 1, parents),
            "create commit");
  return out;
}

RevertOutcome revert_onto(const Repository& repo, const git_oid& commit, const git_oid& parent, const git_oid& onto) {
  TreePtr from = tree_of(repo.get(), commit);
  TreePtr to = tree_of(repo.get(), parent);
  TreePtr target = tree_of(repo.get(), onto);
  git_diff* raw = nullptr;
  check_git(git_diff_tree_to_tree(&raw, repo.get(), from.get(), to.get(), nullptr), "diff for the revert");
  DiffPtr diff(raw);
  RevertOutcome out;
  git_index* index = nullptr;
  if (git_apply_to_tree(&index, repo.get(), target.get(), diff.get(), nullptr) < 0) {
    const git_error* e = git_error_last();
    out.error = (e != nullptr && e->message != nullptr) ? e->message : "does not apply";
    git_error_clear();
    return out;
  }
  IndexPtr owned(index);
  git_oid tree{};
  check_git(git_index_write_tree_to(&tree, owned.get(), repo.get()), "write the reverted tree");
  out.tree = tree;
  out.ok = true;
  return out;
}

std::vector<std::string> refs_under(const Repository& repo, const std::string& prefix) {
  git_reference_iterator* it = nullptr;
  check_git(git_reference_iterator_glob_new(&it, repo.get(), (prefix + "*").c_str()), "list refs");
  std::vector<std::string> out;
  git_reference* ref = nullptr;
  while (git_reference_next(&ref, it) == 0) {
    out.emplace_back(git_reference_name(ref));
    git_reference_free(ref);
  }
  git_reference_iterator_free(it);
  return out;
}

}  // namespace ar::git
