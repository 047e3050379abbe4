#include "git/git.hpp"
#include "git/internal.hpp"

#include "util/files.hpp"
#include "util/glob.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace ar::git {

namespace fs = std::filesystem;

Library::Library() { git_libgit2_init(); }
Library::~Library() { git_libgit2_shutdown(); }

int check_git(int rc, std::string_view what) {
  if (rc >= 0) return rc;
  const git_error* e = git_error_last();
  // Distro builds may return NULL here when the failing call set no message.
  std::string message = (e != nullptr && e->message != nullptr) ? e->message : "unknown libgit2 error";
  throw GitError(fmt::format("{}: {}", what, message));
}

std::string to_hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

git_oid from_hex(const std::string& hex) {
  git_oid oid;
  check_git(git_oid_fromstr(&oid, hex.c_str()), fmt::format("invalid commit id \"{}\"", hex));
  return oid;
}

namespace {

CommitPtr lookup_commit(git_repository* repo, const git_oid& oid) {
  git_commit* c = nullptr;
  check_git(git_commit_lookup(&c, repo, &oid), fmt::format("commit {}", to_hex(oid)));
  return CommitPtr(c);
}

git_oid head_of(git_repository* repo, const fs::path& where) {
  if (git_repository_head_unborn(repo) == 1) {
    throw GitError(fmt::format("{}: the repository has no commits yet (unborn HEAD); commit your "
                               "project first, then run autoresearch", where.string()));
  }
  git_oid oid;
  check_git(git_reference_name_to_id(&oid, repo, "HEAD"), fmt::format("{}: resolve HEAD", where.string()));
  return oid;
}

} // namespace

// ---- Repository ----------------------------------------------------------------------------

Repository Repository::discover(const fs::path& path) {
  git_repository* repo = nullptr;
  check_git(git_repository_open_ext(&repo, path.c_str(), 0, nullptr),
            fmt::format("{}: not inside a git repository", path.string()));
  RepoPtr owned(repo);
  if (git_repository_is_bare(repo) == 1) {
    throw GitError(fmt::format("{}: is a bare repository; autoresearch needs a working tree "
                               "(clone it and run there)", path.string()));
  }
  return Repository(std::move(owned));
}

fs::path Repository::workdir() const {
  const char* wd = git_repository_workdir(m_repo.get());
  return wd != nullptr ? fs::path(wd) : fs::path();
}

fs::path Repository::git_dir() const { return fs::path(git_repository_commondir(m_repo.get())); }

git_oid Repository::head_commit() const { return head_of(m_repo.get(), workdir()); }

bool Repository::head_detached() const { return git_repository_head_detached(m_repo.get()) == 1; }

bool Repository::is_shallow() const { return git_repository_is_shallow(m_repo.get()) == 1; }

std::optional<git_oid> Repository::resolve(const std::string& ref_name) const {
  git_oid oid;
  int rc = git_reference_name_to_id(&oid, m_repo.get(), ref_name.c_str());
  if (rc == GIT_ENOTFOUND) return std::nullopt;
  check_git(rc, fmt::format("resolve {}", ref_name));
  return oid;
}

void Repository::set_ref(const std::string& ref_name, const git_oid& oid, const std::string& log_message) {
  git_reference* ref = nullptr;
  check_git(git_reference_create(&ref, m_repo.get(), ref_name.c_str(), &oid, 1, log_message.c_str()),
            fmt::format("update {}", ref_name));
  git_reference_free(ref);
}

void Repository::delete_ref(const std::string& ref_name) {
  git_reference* ref = nullptr;
  int rc = git_reference_lookup(&ref, m_repo.get(), ref_name.c_str());
  if (rc == GIT_ENOTFOUND) return;
  check_git(rc, fmt::format("look up {}", ref_name));
  RefPtr owned(ref);
  check_git(git_reference_delete(ref), fmt::format("delete {}", ref_name));
}

std::vector<git_oid> Repository::first_parent_chain(const git_oid& tip, const git_oid& stop) const {
  std::vector<git_oid> chain;
  git_oid cur = tip;
  while (git_oid_equal(&cur, &stop) == 0) {
    CommitPtr c = lookup_commit(m_repo.get(), cur);
    chain.push_back(cur);
    if (git_commit_parentcount(c.get()) == 0) {
      throw GitError(fmt::format("commit {} does not descend from {}", to_hex(tip), to_hex(stop)));
    }
    cur = *git_commit_parent_id(c.get(), 0);
  }
  return chain;
}

std::string Repository::commit_message(const git_oid& oid) const {
  CommitPtr c = lookup_commit(m_repo.get(), oid);
  const char* msg = git_commit_message(c.get());
  return msg != nullptr ? msg : "";
}

void Repository::ensure_excluded(const std::string& pattern) {
  fs::path exclude = git_dir() / "info" / "exclude";
  std::string content = util::read_file(exclude).value_or("");
  size_t pos = 0;
  while (pos <= content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string::npos) end = content.size();
    if (content.compare(pos, end - pos, pattern) == 0) return;
    pos = end + 1;
  }
  fs::create_directories(exclude.parent_path());
  std::string line = (content.empty() || content.back() == '\n' ? "" : "\n") + pattern + "\n";
  util::append_durably(exclude, line);
}

bool Repository::is_tracked(const std::string& rel_path) const {
  git_index* raw = nullptr;
  check_git(git_repository_index(&raw, m_repo.get()), "read the index");
  IndexPtr index(raw);
  return git_index_get_bypath(index.get(), rel_path.c_str(), 0) != nullptr;
}

// ---- Worktree ------------------------------------------------------------------------------

namespace {

void prune_worktree(git_worktree* wt) {
  git_worktree_prune_options opts = GIT_WORKTREE_PRUNE_OPTIONS_INIT;
  opts.flags = GIT_WORKTREE_PRUNE_VALID | GIT_WORKTREE_PRUNE_LOCKED | GIT_WORKTREE_PRUNE_WORKING_TREE;
  check_git(git_worktree_prune(wt, &opts), fmt::format("prune worktree {}", git_worktree_name(wt)));
}

} // namespace

Worktree Worktree::ensure(Repository& main, const std::string& name, const fs::path& path,
                          const std::optional<std::string>& branch_ref, const git_oid& commit) {
  git_worktree* found = nullptr;
  if (git_worktree_lookup(&found, main.get(), name.c_str()) == 0) {
    WorktreePtr wt(found);
    bool usable = git_worktree_validate(wt.get()) == 0 &&
                  fs::equivalent(fs::path(git_worktree_path(wt.get())), path);
    git_repository* repo = nullptr;
    // A worktree whose `.git` file was deleted (by a command that emptied its folder) does not open.
    if (usable && git_repository_open_from_worktree(&repo, wt.get()) == 0) {
      Worktree w(RepoPtr(repo), path);
      if (!branch_ref || w.head_branch() == *branch_ref) return w;
      if (w.head_branch().empty() && main.resolve(*branch_ref)) {
        // Detached when the last run ended (so the user could check the branch out): attach again.
        git_reference* ref = nullptr;
        check_git(git_reference_lookup(&ref, main.get(), branch_ref->c_str()), fmt::format("look up {}", *branch_ref));
        RefPtr owned_ref(ref);
        if (git_branch_is_checked_out(ref) == 1) {
          throw GitError(fmt::format("branch {} is checked out in another worktree; switch that checkout "
                                     "to another branch and run again",
                                     branch_ref->substr(11)));
        }
        check_git(git_repository_set_head(w.get(), branch_ref->c_str()),
                  fmt::format("{}: check out {}", path.string(), *branch_ref));
        return w;
      }
    }
    // Stale, broken or pointing at another session: start it afresh (it only holds our own state).
    prune_worktree(wt.get());
  }
  git_error_clear();
  std::error_code ec;
  fs::remove_all(path, ec);
  fs::create_directories(path.parent_path());

  // libgit2 checks a worktree out on a branch; for a detached worktree use a temporary branch.
  std::string ref_name = branch_ref ? *branch_ref : "refs/heads/autoresearch-tmp/" + name;
  if (!branch_ref) main.set_ref(ref_name, commit, "autoresearch: temporary worktree branch");
  git_reference* ref = nullptr;
  check_git(git_reference_lookup(&ref, main.get(), ref_name.c_str()), fmt::format("look up {}", ref_name));
  RefPtr owned_ref(ref);
  if (git_branch_is_checked_out(ref) == 1) {
    throw GitError(fmt::format("branch {} is checked out in another worktree; switch that checkout "
                               "to another branch and run again", ref_name.substr(11)));
  }

  git_worktree_add_options opts = GIT_WORKTREE_ADD_OPTIONS_INIT;
  opts.ref = ref;
  opts.checkout_options.checkout_strategy = GIT_CHECKOUT_FORCE;
  git_worktree* created = nullptr;
  check_git(git_worktree_add(&created, main.get(), name.c_str(), path.c_str(), &opts),
            fmt::format("create worktree {}", path.string()));
  WorktreePtr wt(created);
  git_repository* repo = nullptr;
  check_git(git_repository_open_from_worktree(&repo, wt.get()), fmt::format("open worktree {}", path.string()));
  Worktree w(RepoPtr(repo), path);
  if (!branch_ref) {
    check_git(git_repository_set_head_detached(w.get(), &commit), "detach worktree HEAD");
    main.delete_ref(ref_name);
  }
  w.reset_hard_clean(commit);
  return w;
}

bool Worktree::remove(Repository& main, const std::string& name, const fs::path& path) {
  bool found_any = false;
  git_worktree* found = nullptr;
  if (git_worktree_lookup(&found, main.get(), name.c_str()) == 0) {
    WorktreePtr wt(found);
    prune_worktree(wt.get());
    found_any = true;
  }
  git_error_clear();
  std::error_code ec;
  if (fs::exists(path, ec)) {
    found_any = true;
    fs::remove_all(path, ec);
    if (ec) throw GitError(fmt::format("remove worktree folder {}: {}", path.string(), ec.message()));
  }
  return found_any;
}

git_oid Worktree::head_commit() const { return head_of(m_repo.get(), m_path); }

std::string Worktree::head_branch() const {
  git_reference* head = nullptr;
  if (git_reference_lookup(&head, m_repo.get(), "HEAD") < 0) return "";
  RefPtr owned(head);
  if (git_reference_type(head) != GIT_REFERENCE_SYMBOLIC) return "";
  return git_reference_symbolic_target(head);
}

void Worktree::detach() {
  git_oid head = head_commit();
  check_git(git_repository_set_head_detached(m_repo.get(), &head), fmt::format("{}: detach HEAD", m_path.string()));
}

void Worktree::reset_hard_clean(const git_oid& commit) {
  git_object* obj = nullptr;
  check_git(git_object_lookup(&obj, m_repo.get(), &commit, GIT_OBJECT_COMMIT),
            fmt::format("look up {}", to_hex(commit)));
  ObjectPtr owned(obj);
  git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
  co.checkout_strategy = GIT_CHECKOUT_FORCE;
  check_git(git_reset(m_repo.get(), obj, GIT_RESET_HARD, &co),
            fmt::format("{}: reset to {}", m_path.string(), to_hex(commit).substr(0, 12)));

  git_status_options so = GIT_STATUS_OPTIONS_INIT;
  so.show = GIT_STATUS_SHOW_WORKDIR_ONLY;
  so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
  git_status_list* list = nullptr;
  check_git(git_status_list_new(&list, m_repo.get(), &so), fmt::format("{}: status", m_path.string()));
  StatusListPtr owned_list(list);
  size_t n = git_status_list_entrycount(list);
  std::vector<fs::path> removed;
  for (size_t i = 0; i < n; ++i) {
    const git_status_entry* e = git_status_byindex(list, i);
    if ((e->status & GIT_STATUS_WT_NEW) == 0 || e->index_to_workdir == nullptr) continue;
    fs::path file = m_path / e->index_to_workdir->new_file.path;
    std::error_code ec;
    fs::remove_all(file, ec);
    if (ec) throw GitError(fmt::format("{}: cannot remove untracked {}: {}", m_path.string(), file.string(), ec.message()));
    removed.push_back(file.parent_path());
  }
  // Remove folders the untracked files leave empty, as `git clean -d` would.
  for (fs::path dir : removed) {
    std::error_code ec;
    while (dir != m_path && dir.string().size() > m_path.string().size() && fs::is_empty(dir, ec) && !ec) {
      fs::remove(dir, ec);
      dir = dir.parent_path();
    }
  }
}

void Worktree::reset_soft(const git_oid& commit) {
  git_object* obj = nullptr;
  check_git(git_object_lookup(&obj, m_repo.get(), &commit, GIT_OBJECT_COMMIT), fmt::format("look up {}", to_hex(commit)));
  ObjectPtr owned(obj);
  check_git(git_reset(m_repo.get(), obj, GIT_RESET_SOFT, nullptr),
            fmt::format("{}: soft reset to {}", m_path.string(), to_hex(commit).substr(0, 12)));
}

bool Worktree::is_clean() const {
  git_status_options so = GIT_STATUS_OPTIONS_INIT;
  so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
  git_status_list* list = nullptr;
  check_git(git_status_list_new(&list, m_repo.get(), &so), fmt::format("{}: status", m_path.string()));
  StatusListPtr owned(list);
  return git_status_list_entrycount(list) == 0;
}

std::string file_signature(const fs::path& file) {
  std::error_code ec;
  auto status = fs::symlink_status(file, ec);
  if (ec || !fs::exists(status)) return "<missing>";
  if (fs::is_symlink(status)) return "link:" + fs::read_symlink(file, ec).string();
  auto size = fs::file_size(file, ec);
  if (ec) return "<unreadable>";
  if (size > (16u << 20)) {
    auto mtime = fs::last_write_time(file, ec).time_since_epoch().count();
    return fmt::format("size:{} mtime:{}", size, mtime);
  }
  std::optional<std::string> content = util::read_file(file);
  return content ? util::sha256_hex(*content) : "<unreadable>";
}

std::map<std::string, std::string> Worktree::fingerprint(const std::vector<std::string>& protected_globs) const {
  return scan(protected_globs).fingerprint;
}

git_oid Worktree::commit_index(const std::string& message, bool update_head) {
  git_index* index = nullptr;
  check_git(git_repository_index(&index, m_repo.get()), "open worktree index");
  IndexPtr owned_index(index);
  git_oid tree_id;
  check_git(git_index_write_tree(&tree_id, index), "write tree");
  git_tree* tree = nullptr;
  check_git(git_tree_lookup(&tree, m_repo.get(), &tree_id), "look up tree");
  TreePtr owned_tree(tree);
  git_oid parent_id = head_commit();
  CommitPtr parent = lookup_commit(m_repo.get(), parent_id);
  SignaturePtr sig = detail::signature_for(m_repo.get());
  const git_commit* parents[] = {parent.get()};
  git_oid out;
  check_git(git_commit_create(&out, m_repo.get(), update_head ? "HEAD" : nullptr, sig.get(), sig.get(),
                              nullptr, message.c_str(), tree, 1, parents),
            fmt::format("{}: commit", m_path.string()));
  return out;
}

void Worktree::stage_all() {
  git_index* index = nullptr;
  check_git(git_repository_index(&index, m_repo.get()), "open worktree index");
  IndexPtr owned(index);
  char star[] = "*";
  char* patterns[] = {star};
  git_strarray spec{patterns, 1};
  check_git(git_index_add_all(index, &spec, GIT_INDEX_ADD_DEFAULT, nullptr, nullptr), "stage new and changed files");
  check_git(git_index_update_all(index, &spec, nullptr, nullptr), "stage deleted files");
  check_git(git_index_write(index), "write index");
}

void Worktree::stage_paths(const std::vector<std::string>& paths) {
  git_index* index = nullptr;
  check_git(git_repository_index(&index, m_repo.get()), "open worktree index");
  IndexPtr owned(index);
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::symlink_status(m_path / p, ec).type() != fs::file_type::not_found) {
      check_git(git_index_add_bypath(index, p.c_str()), fmt::format("{}: stage {}", m_path.string(), p));
    } else {
      int rc = git_index_remove_bypath(index, p.c_str());
      if (rc == GIT_ENOTFOUND) {
        git_error_clear();
        continue;
      }
      check_git(rc, fmt::format("{}: unstage {}", m_path.string(), p));
    }
  }
  check_git(git_index_write(index), "write index");
}

// ---- patches -------------------------------------------------------------------------------

namespace detail {

// git writes an added or deleted empty file as its "diff --git" and mode lines alone, with no
// "---"/"+++" lines since there is no hunk; libgit2's parser wants them ("unexpected header
// line"). Adds them to such a file's section; any other text comes back unchanged.
std::string with_file_headers(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 64);
  std::string old_name, new_name;  // of the open "diff --git" section
  bool added = false, deleted = false, has_headers = false;
  auto close_section = [&] {
    if ((added || deleted) && !has_headers && !old_name.empty()) {
      out += added ? "--- /dev/null\n+++ " + new_name + "\n" : "--- " + old_name + "\n+++ /dev/null\n";
    }
    old_name.clear();
    added = deleted = has_headers = false;
  };
  auto starts = [](std::string_view line, std::string_view prefix) { return line.substr(0, prefix.size()) == prefix; };
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    std::size_t next = end == std::string_view::npos ? text.size() : end + 1;
    std::string_view line = text.substr(pos, next - pos);
    std::string_view bare = line.substr(0, line.find_first_of("\r\n"));
    pos = next;
    if (starts(bare, "diff --git ")) {
      close_section();
      // "diff --git a/x b/x": quoted names (spaces, special bytes) are left to libgit2.
      std::string_view rest = bare.substr(11);
      std::size_t b = rest.find(" b/");
      if (starts(rest, "a/") && b != std::string_view::npos) {
        old_name = std::string(rest.substr(0, b));
        new_name = std::string(rest.substr(b + 1));
      }
    } else if (starts(bare, "new file mode ")) {
      added = true;
    } else if (starts(bare, "deleted file mode ")) {
      deleted = true;
    } else if (starts(bare, "--- ") || starts(bare, "+++ ") || starts(bare, "@@ ") || starts(bare, "Binary files ") ||
               starts(bare, "GIT binary patch")) {
      has_headers = true;
    }
    out.append(line);
    if (line.back() != '\n' && (added || deleted) && !has_headers) out.push_back('\n');
  }
  close_section();
  return out;
}

}  // namespace detail

using detail::with_file_headers;

ParsedPatch parse_patch(std::string_view raw) {
  ParsedPatch out;
  const std::string text = with_file_headers(raw);
  git_diff* diff = nullptr;
  if (git_diff_from_buffer(&diff, text.data(), text.size()) < 0) {
    const git_error* e = git_error_last();
    out.error = (e != nullptr && e->message != nullptr) ? e->message : "unparseable diff";
    git_error_clear();
    return out;
  }
  DiffPtr owned(diff);
  size_t n = git_diff_num_deltas(diff);
  if (n == 0) {
    out.error = "no file changes found";
    return out;
  }
  for (size_t i = 0; i < n; ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff, i);
    PatchFile f;
    f.status = git_diff_status_char(d->status);
    if (d->status != GIT_DELTA_ADDED && d->old_file.path != nullptr) f.old_path = d->old_file.path;
    if (d->status != GIT_DELTA_DELETED && d->new_file.path != nullptr) f.new_path = d->new_file.path;
    f.binary = (d->flags & GIT_DIFF_FLAG_BINARY) != 0;
    f.new_mode = static_cast<int>(d->new_file.mode);
    if (d->new_file.mode == GIT_FILEMODE_LINK) {
      // A symlink's target is the content of its blob: the added lines of the delta.
      git_patch* patch = nullptr;
      if (git_patch_from_diff(&patch, diff, i) == 0 && patch != nullptr) {
        for (size_t h = 0; h < git_patch_num_hunks(patch); ++h) {
          int lines = git_patch_num_lines_in_hunk(patch, h);
          for (int l = 0; l < lines; ++l) {
            const git_diff_line* line = nullptr;
            if (git_patch_get_line_in_hunk(&line, patch, h, static_cast<size_t>(l)) == 0 &&
                line->origin == GIT_DIFF_LINE_ADDITION) {
              f.link_target.append(line->content, line->content_len);
            }
          }
        }
        git_patch_free(patch);
      }
      while (!f.link_target.empty() && f.link_target.back() == '\n') f.link_target.pop_back();
    }
    out.files.push_back(std::move(f));
  }
  out.ok = true;
  return out;
}

namespace {

struct ApplyProgress {
  std::string path;
  int hunk = 0;
};

int on_apply_delta(const git_diff_delta* delta, void* payload) {
  auto* p = static_cast<ApplyProgress*>(payload);
  const char* path = delta->new_file.path != nullptr ? delta->new_file.path : delta->old_file.path;
  p->path = path != nullptr ? path : "?";
  p->hunk = 0;
  return 0;
}

int on_apply_hunk(const git_diff_hunk*, void* payload) {
  ++static_cast<ApplyProgress*>(payload)->hunk;
  return 0;
}

} // namespace

ApplyOutcome apply_patch(Worktree& wt, std::string_view raw) {
  ApplyOutcome out;
  const std::string text = with_file_headers(raw);
  git_diff* diff = nullptr;
  if (git_diff_from_buffer(&diff, text.data(), text.size()) < 0) {
    const git_error* e = git_error_last();
    out.error = fmt::format("not a patch: {}", (e != nullptr && e->message != nullptr) ? e->message : "unparseable");
    git_error_clear();
    return out;
  }
  DiffPtr owned(diff);
  ApplyProgress progress;
  git_apply_options opts = GIT_APPLY_OPTIONS_INIT;
  opts.delta_cb = on_apply_delta;
  opts.hunk_cb = on_apply_hunk;
  opts.payload = &progress;
  if (git_apply(wt.get(), diff, GIT_APPLY_LOCATION_WORKDIR, &opts) < 0) {
    const git_error* e = git_error_last();
    std::string why = (e != nullptr && e->message != nullptr) ? e->message : "does not apply";
    git_error_clear();
    out.error = progress.hunk > 0 ? fmt::format("{} hunk {}: {}", progress.path, progress.hunk, why)
                                  : fmt::format("{}: {}", progress.path, why);
    return out;
  }
  for (size_t i = 0; i < git_diff_num_deltas(diff); ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff, i);
    for (const char* p : {d->old_file.path, d->new_file.path}) {
      if (p == nullptr || std::string_view(p) == "/dev/null") continue;
      if (std::find(out.paths.begin(), out.paths.end(), p) == out.paths.end()) out.paths.emplace_back(p);
    }
  }
  out.ok = true;
  return out;
}

bool tree_has_path(const Repository& repo, const git_oid& commit, const std::string& path) {
  CommitPtr c = lookup_commit(repo.get(), commit);
  git_tree* tree = nullptr;
  check_git(git_commit_tree(&tree, c.get()), "commit tree");
  TreePtr owned(tree);
  git_tree_entry* entry = nullptr;
  if (git_tree_entry_bypath(&entry, tree, path.c_str()) != 0) {
    git_error_clear();
    return false;
  }
  git_tree_entry_free(entry);
  return true;
}

std::string diff_head_to_workdir(Worktree& wt) {
  git_oid head = wt.head_commit();
  CommitPtr commit = lookup_commit(wt.get(), head);
  git_tree* tree = nullptr;
  check_git(git_commit_tree(&tree, commit.get()), "commit tree");
  TreePtr owned_tree(tree);
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS | GIT_DIFF_SHOW_UNTRACKED_CONTENT |
               GIT_DIFF_SHOW_BINARY;
  git_diff* diff = nullptr;
  check_git(git_diff_tree_to_workdir_with_index(&diff, wt.get(), tree, &opts), "diff worktree");
  DiffPtr owned(diff);
  git_buf buf = GIT_BUF_INIT;
  check_git(git_diff_to_buf(&buf, diff, GIT_DIFF_FORMAT_PATCH), "format diff");
  std::string text(buf.ptr, buf.size);
  git_buf_dispose(&buf);
  return text;
}

namespace detail {

SignaturePtr signature_for(git_repository* repo) {
  git_signature* sig = nullptr;
  if (git_signature_default(&sig, repo) < 0) {
    // No user.name/user.email configured (a CI machine, say): sign as the tool.
    check_git(git_signature_now(&sig, "autoresearch", "autoresearch@localhost"), "signature");
  }
  return SignaturePtr(sig);
}

}  // namespace detail

} // namespace ar::git
