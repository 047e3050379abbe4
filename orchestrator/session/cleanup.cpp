#include "session/cleanup.hpp"

#include "session/workspace.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ar::session {

namespace fs = std::filesystem;

std::string branch_ref_of(const std::string& session) {
  return "refs/heads/autoresearch/" + session;
}

Footprint footprint(git::Repository& repo, const Paths& paths, const std::string& session) {
  Footprint f;
  std::error_code ec;
  f.branch = repo.resolve(branch_ref_of(session)).has_value();
  f.worktrees = fs::exists(paths.cand_wt, ec) || fs::exists(paths.base_wt, ec) ||
                fs::exists(repo.git_dir() / "worktrees" / "autoresearch-cand", ec) ||
                fs::exists(repo.git_dir() / "worktrees" / "autoresearch-base", ec);
  f.state_dir = fs::exists(paths.state_dir, ec);
  return f;
}

void remove_created(git::Repository& repo, const Paths& paths, const std::string& session, const Footprint& before,
                    const fs::path& keep) {
  // The worktrees first: the candidate has the branch checked out, and git keeps a checked-out
  // branch.
  if (!before.worktrees) Workspace::remove(repo, paths);
  if (!before.branch) repo.delete_ref(branch_ref_of(session));
  if (before.state_dir) return;
  std::error_code ec;
  if (keep.empty() || !fs::exists(keep, ec)) {
    fs::remove_all(paths.state_dir, ec);
    return;
  }
  // Everything but `keep` and the folders holding it.
  for (fs::path dir = keep.parent_path(); dir.string().rfind(paths.state_dir.string(), 0) == 0;
       dir = dir.parent_path()) {
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string p = entry.path().string();
      if (entry.path() == keep || keep.string().rfind(p + "/", 0) == 0) continue;
      fs::remove_all(entry.path(), ec);
    }
    if (dir == paths.state_dir) break;
  }
}

void remove_state(const Paths& paths) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(paths.state_dir, ec)) {
    if (entry.path() == paths.lock_file) continue;
    fs::remove_all(entry.path(), ec);
    if (ec) throw Error(fmt::format("cannot remove {}: {}", entry.path().string(), ec.message()));
  }
}

int archive_session(const fs::path& journal, const fs::path& archive, const std::string& session) {
  std::optional<std::string> text = util::read_file(journal);
  if (!text) return 0;
  std::string kept, moved;
  int count = 0;
  std::size_t pos = 0;
  while (pos < text->size()) {
    std::size_t end = text->find('\n', pos);
    std::size_t next = end == std::string::npos ? text->size() : end + 1;
    std::string_view line(text->data() + pos, next - pos);
    pos = next;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    bool ours = !j.is_discarded() && j.is_object() && j.contains("session") && j["session"].is_string() &&
                j["session"].get_ref<const std::string&>() == session;
    std::string& to = ours ? moved : kept;
    to.append(line);
    if (to.back() != '\n') to.push_back('\n');
    count += ours ? 1 : 0;
  }
  if (count == 0) return 0;
  // The archive first: if we stop between the two writes, the lines are in both files, never in
  // neither.
  util::append_durably(archive, moved);
  util::write_file_atomic(journal, kept, true);
  return count;
}

}  // namespace ar::session
