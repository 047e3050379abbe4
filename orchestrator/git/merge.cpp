// Stale patches: a queued patch written against an older commit than the best one is applied to
// that commit in memory and merged three-way onto the best (libgit2's git_merge_trees), so only a
// real conflict stops it.

#include "git/git.hpp"
#include "git/internal.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

namespace ar::git {

namespace {

using IndexIterPtr =
    std::unique_ptr<git_index_conflict_iterator, Deleter<git_index_conflict_iterator, git_index_conflict_iterator_free>>;

std::string last_error(const char* fallback) {
  const git_error* e = git_error_last();
  std::string out = (e != nullptr && e->message != nullptr) ? e->message : fallback;
  git_error_clear();
  return out;
}

bool is_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// (path, abbreviated preimage blob id) of each modified file in the patch's "index" lines.
std::vector<std::pair<std::string, std::string>> preimage_blobs(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string path;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("diff --git a/", 0) == 0) {
      std::string_view rest = line.substr(13);
      std::size_t b = rest.find(" b/");
      path = b == std::string_view::npos ? std::string() : std::string(rest.substr(0, b));
    } else if (line.rfind("index ", 0) == 0 && !path.empty()) {
      std::string_view ids = trimmed(line.substr(6));
      ids = ids.substr(0, ids.find(' '));  // "abc..def 100644"
      std::size_t dots = ids.find("..");
      if (dots == std::string_view::npos) continue;
      std::string_view old_id = ids.substr(0, dots);
      if (is_hex(old_id) && old_id.find_first_not_of('0') != std::string_view::npos)
        out.emplace_back(path, std::string(old_id));
      path.clear();
    }
  }
  return out;
}

bool has_blobs(git_repository* repo, const git_oid& commit,
               const std::vector<std::pair<std::string, std::string>>& blobs) {
  TreePtr tree = detail::tree_of(repo, commit);
  for (const auto& [path, id] : blobs) {
    git_tree_entry* entry = nullptr;
    if (git_tree_entry_bypath(&entry, tree.get(), path.c_str()) != 0) {
      git_error_clear();
      return false;
    }
    std::string have = to_hex(*git_tree_entry_id(entry));
    git_tree_entry_free(entry);
    if (have.compare(0, id.size(), id) != 0) return false;
  }
  return true;
}

TreePtr lookup_tree(git_repository* repo, const git_oid& id) {
  git_tree* t = nullptr;
  check_git(git_tree_lookup(&t, repo, &id), "look up merged tree");
  return TreePtr(t);
}

git_oid write_tree(git_index* index, git_repository* repo) {
  git_oid id;
  check_git(git_index_write_tree_to(&id, index, repo), "write tree");
  return id;
}

// The files a conflicted merge index names, in order.
std::string conflicting_files(git_index* index) {
  git_index_conflict_iterator* raw = nullptr;
  check_git(git_index_conflict_iterator_new(&raw, index), "list merge conflicts");
  IndexIterPtr it(raw);
  std::set<std::string> files;
  const git_index_entry *ancestor = nullptr, *ours = nullptr, *theirs = nullptr;
  while (git_index_conflict_next(&ancestor, &ours, &theirs, it.get()) == 0) {
    const git_index_entry* any = ours != nullptr ? ours : theirs != nullptr ? theirs : ancestor;
    if (any != nullptr) files.insert(any->path);
  }
  git_error_clear();
  std::string out;
  for (const std::string& f : files) out += (out.empty() ? "" : ", ") + f;
  return out;
}

}  // namespace

std::optional<git_oid> patch_base(const Repository& repo, std::string_view text, const std::vector<git_oid>& candidates) {
  // git format-patch --base writes "base-commit: <id>" after the diff.
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("base-commit:", 0) != 0) continue;
    std::string_view id = trimmed(line.substr(12));
    git_oid oid;
    git_commit* c = nullptr;
    if (id.size() == GIT_OID_HEXSZ && is_hex(id) && git_oid_fromstrn(&oid, id.data(), id.size()) == 0 &&
        git_commit_lookup(&c, repo.get(), &oid) == 0) {
      git_commit_free(c);
      return oid;
    }
    git_error_clear();
  }
  auto blobs = preimage_blobs(text);
  if (blobs.empty()) return std::nullopt;
  for (const git_oid& c : candidates) {
    if (has_blobs(repo.get(), c, blobs)) return c;
  }
  return std::nullopt;
}

ApplyOutcome apply_merged(Worktree& wt, std::string_view raw, const git_oid& base) {
  ApplyOutcome out;
  git_repository* repo = wt.get();
  const std::string text = detail::with_file_headers(raw);
  git_diff* parsed = nullptr;
  if (git_diff_from_buffer(&parsed, text.data(), text.size()) < 0) {
    out.error = "not a patch: " + last_error("unparseable");
    return out;
  }
  DiffPtr patch(parsed);
  TreePtr base_tree = detail::tree_of(repo, base);
  git_index* applied = nullptr;
  if (git_apply_to_tree(&applied, repo, base_tree.get(), patch.get(), nullptr) < 0) {
    out.error = fmt::format("does not apply to {} either: {}", to_hex(base).substr(0, 12), last_error("does not apply"));
    return out;
  }
  IndexPtr applied_index(applied);
  TreePtr theirs = lookup_tree(repo, write_tree(applied, repo));
  const git_oid head = wt.head_commit();
  TreePtr ours = detail::tree_of(repo, head);

  git_index* merged = nullptr;
  check_git(git_merge_trees(&merged, repo, base_tree.get(), ours.get(), theirs.get(), nullptr), "three-way merge");
  IndexPtr merged_index(merged);
  if (git_index_has_conflicts(merged) == 1) {
    out.error = "conflict in " + conflicting_files(merged);
    return out;
  }
  TreePtr result = lookup_tree(repo, write_tree(merged, repo));

  // The merged change as a diff from HEAD, applied to the files only (as apply_patch does).
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.flags = GIT_DIFF_SHOW_BINARY;
  git_diff* change = nullptr;
  check_git(git_diff_tree_to_tree(&change, repo, ours.get(), result.get(), &opts), "diff merged tree");
  DiffPtr owned_change(change);
  if (git_diff_num_deltas(change) == 0) {
    out.error = "the change is already in the best commit";
    return out;
  }
  if (git_apply(repo, change, GIT_APPLY_LOCATION_WORKDIR, nullptr) < 0) {
    out.error = "the merged change does not apply: " + last_error("does not apply");
    return out;
  }
  for (size_t i = 0; i < git_diff_num_deltas(change); ++i) {
    const git_diff_delta* d = git_diff_get_delta(change, i);
    for (const char* p : {d->old_file.path, d->new_file.path}) {
      if (p != nullptr && std::find(out.paths.begin(), out.paths.end(), p) == out.paths.end()) out.paths.emplace_back(p);
    }
  }
  out.ok = true;
  return out;
}

}  // namespace ar::git
