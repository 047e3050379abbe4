#include "sources/screen.hpp"

#include "util/files.hpp"
#include "util/glob.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace ar::sources {

namespace {

// Paths no hypothesis may touch whatever the config says.
std::optional<std::string> forbidden(const std::string& path) {
  if (path[0] == '/') return "absolute path";
  std::filesystem::path p(path);
  for (const auto& part : p) {
    if (part == "..") return "path leaves the repository (..)";
  }
  // "./x" or "a//b" would slip past exact and glob comparisons; git never writes them.
  if (path.rfind("./", 0) == 0 || path.find("/./") != std::string::npos || path.find("//") != std::string::npos ||
      path == ".") {
    return "path is not in normal form (\"./\" or \"//\")";
  }
  std::string first = p.begin()->string();
  if (first == ".git" || first == ".autoresearch") return fmt::format("path inside {}/", first);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> screen_patch_text(const std::string& patch) {
  auto absolute = [](std::string name) -> std::optional<std::string> {
    name = name.substr(0, name.find('\t'));
    while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
    if (name == "/dev/null") return std::nullopt;
    if (name.rfind("a/", 0) == 0 || name.rfind("b/", 0) == 0) name = name.substr(2);
    if (!name.empty() && name[0] == '/') return name;
    return std::nullopt;
  };
  size_t pos = 0;
  while (pos < patch.size()) {
    size_t end = patch.find('\n', pos);
    if (end == std::string::npos) end = patch.size();
    std::string line = patch.substr(pos, end - pos);
    pos = end + 1;
    std::vector<std::string> names;
    if (line.rfind("diff --git ", 0) == 0) {
      // "diff --git a/x b/y": split at " b/" (names with spaces are rare; both halves are checked).
      std::string rest = line.substr(11);
      size_t b = rest.find(" b/");
      names.push_back(rest.substr(0, b));
      if (b != std::string::npos) names.push_back(rest.substr(b + 1));
    } else if (line.rfind("--- ", 0) == 0 || line.rfind("+++ ", 0) == 0) {
      names.push_back(line.substr(4));
    } else {
      for (const char* key : {"rename from ", "rename to ", "copy from ", "copy to "}) {
        if (line.rfind(key, 0) == 0) names.push_back(line.substr(std::strlen(key)));
      }
    }
    for (const std::string& n : names) {
      if (auto abs = absolute(n)) return fmt::format("{}: absolute path", *abs);
    }
  }
  return std::nullopt;
}

namespace {

// A patch path whose folders, in the worktree or in the patch itself, include a symlink would be
// written through it (`ext -> /tmp/x` plus `ext/pwned.txt` writes /tmp/x/pwned.txt).
std::optional<std::string> through_symlink(const git::PatchFile& f, const std::vector<git::PatchFile>& files,
                                           const std::filesystem::path& worktree) {
  namespace fs = std::filesystem;
  for (const std::string* path : {&f.old_path, &f.new_path}) {
    if (path->empty()) continue;
    fs::path prefix;
    fs::path p(*path);
    for (auto it = p.begin(); it != p.end(); ++it) {
      prefix /= *it;
      bool last = std::next(it) == p.end();
      std::string rel = prefix.generic_string();
      if (!last) {
        for (const auto& other : files) {
          if (other.new_mode == 0120000 && other.new_path == rel) {
            return fmt::format("{}: goes through the symlink {} that the patch adds", *path, rel);
          }
        }
      }
      if (worktree.empty()) continue;
      std::error_code ec;
      if (fs::symlink_status(worktree / prefix, ec).type() != fs::file_type::symlink) continue;
      if (!last) return fmt::format("{}: goes through the symlink {} in the tree", *path, rel);
      // The path itself is a symlink: only a change of the link (or its deletion) is allowed.
      if (path == &f.new_path && f.new_mode != 0120000) {
        return fmt::format("{}: is a symlink in the tree; the patch would write through it", *path);
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> screen_paths(const std::vector<git::PatchFile>& files, const ScreenRules& rules) {
  for (const auto& f : files) {
    for (const std::string* path : {&f.old_path, &f.new_path}) {
      if (*path == ".gitmodules") return ".gitmodules: submodules are not supported in experiments";
    }
    if (f.new_mode == 0160000) {
      return fmt::format("{}: a gitlink (submodule); submodules are not supported in experiments", f.new_path);
    }
    if (auto why = through_symlink(f, files, rules.worktree)) return why;
    for (const std::string* path : {&f.old_path, &f.new_path}) {
      if (path->empty()) continue;
      if (auto why = forbidden(*path)) return fmt::format("{}: {}", *path, *why);
      if (std::find(rules.own_files.begin(), rules.own_files.end(), *path) != rules.own_files.end()) {
        return fmt::format("touches protected path {} (autoresearch's own file)", *path);
      }
      if (std::find(rules.harness.begin(), rules.harness.end(), *path) != rules.harness.end()) {
        return fmt::format("touches protected path {} (a harness file, config `harness`)", *path);
      }
      if (const std::string* p = util::first_match(rules.protected_paths, *path)) {
        return fmt::format("touches protected path {} (protected by \"{}\")", *path, *p);
      }
      if (!rules.scope.empty() && util::first_match(rules.scope, *path) == nullptr) {
        return fmt::format("{} is outside the scope ({})", *path, fmt::join(rules.scope, ", "));
      }
    }
    if (f.new_mode == 0120000 && !f.new_path.empty()) {
      const std::string& target = f.link_target;
      if (target.empty()) return fmt::format("symlink {} has no target", f.new_path);
      if (target[0] == '/') return fmt::format("symlink {} points outside the worktree ({})", f.new_path, target);
      std::filesystem::path resolved = (std::filesystem::path(f.new_path).parent_path() / target).lexically_normal();
      std::string r = resolved.generic_string();
      if (r == ".." || r.rfind("../", 0) == 0) {
        return fmt::format("symlink {} points outside the worktree ({})", f.new_path, target);
      }
      if (r == ".git" || r.rfind(".git/", 0) == 0 || r == ".autoresearch" || r.rfind(".autoresearch/", 0) == 0) {
        return fmt::format("symlink {} points into {} ({})", f.new_path, r.substr(0, r.find('/')), target);
      }
      bool own = std::find(rules.own_files.begin(), rules.own_files.end(), r) != rules.own_files.end() ||
                 std::find(rules.harness.begin(), rules.harness.end(), r) != rules.harness.end();
      const std::string* p = util::first_match(rules.protected_paths, r);
      if (own || p != nullptr) {
        return fmt::format("symlink {} points into protected path {} ({})", f.new_path, r, target);
      }
    }
  }
  return std::nullopt;
}

std::string diff_sha256(std::string_view git_diff) {
  std::string out;
  out.reserve(git_diff.size());
  std::size_t pos = 0;
  while (pos < git_diff.size()) {
    std::size_t end = git_diff.find('\n', pos);
    if (end == std::string_view::npos) end = git_diff.size();
    std::string_view line = git_diff.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.rfind("index ", 0) == 0) continue;
    if (line.rfind("@@ ", 0) == 0) {
      std::size_t close = line.find(" @@", 3);
      if (close != std::string_view::npos) line = line.substr(0, close + 3);
    }
    out.append(line);
    out.push_back('\n');
  }
  while (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n') out.pop_back();
  return util::sha256_hex(out);
}

const journal::Summary* find_duplicate(const Hypothesis& h, const journal::SessionView& view) {
  if (h.source != "proposer") {
    if (const journal::Summary* same = view.find_by_key(h.identity())) return same;
  }
  if (h.patch.empty()) return nullptr;
  if (const journal::Summary* same = view.find_by_diff(diff_sha256(h.patch))) return same;
  return view.find_by_diff(util::sha256_hex(h.patch));
}

std::optional<Rejection> screen(const Hypothesis& h, const journal::SessionView& view, const ScreenRules& rules,
                                std::vector<std::string>& files) {
  if (h.ended) return Rejection{h.ended->status, h.ended->reason};
  if (const journal::Summary* dup = find_duplicate(h, view)) {
    return Rejection{journal::Status::rejected, fmt::format("duplicate of experiment {} ({})", dup->id,
                                                            dup->source_file.empty() ? "?" : dup->source_file)};
  }
  if (h.patch.empty())
    return Rejection{journal::Status::rejected, fmt::format("not a patch: no diff found in {}", h.origin)};
  if (auto why = screen_patch_text(h.patch)) return Rejection{journal::Status::rejected, *why};
  git::ParsedPatch parsed = git::parse_patch(h.patch);
  if (!parsed.ok) return Rejection{journal::Status::rejected, fmt::format("not a patch: {}", parsed.error)};
  for (const auto& f : parsed.files) files.push_back(f.new_path.empty() ? f.old_path : f.new_path);
  if (auto why = screen_paths(parsed.files, rules)) return Rejection{journal::Status::rejected, *why};
  return std::nullopt;
}

}  // namespace ar::sources
