#include "loop/screen.hpp"

#include "util/glob.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

namespace ar::loop {

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

} // namespace

std::optional<std::string> screen_paths(const std::vector<git::PatchFile>& files, const ScreenRules& rules) {
  for (const auto& f : files) {
    for (const std::string* path : {&f.old_path, &f.new_path}) {
      if (path->empty()) continue;
      if (auto why = forbidden(*path)) return fmt::format("{}: {}", *path, *why);
      if (std::find(rules.own_files.begin(), rules.own_files.end(), *path) != rules.own_files.end()) {
        return fmt::format("touches protected path {} (autoresearch's own file)", *path);
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
      std::filesystem::path resolved =
          (std::filesystem::path(f.new_path).parent_path() / target).lexically_normal();
      std::string r = resolved.generic_string();
      if (r == ".." || r.rfind("../", 0) == 0) {
        return fmt::format("symlink {} points outside the worktree ({})", f.new_path, target);
      }
      if (r == ".git" || r.rfind(".git/", 0) == 0 || r == ".autoresearch" || r.rfind(".autoresearch/", 0) == 0) {
        return fmt::format("symlink {} points into {} ({})", f.new_path, r.substr(0, r.find('/')), target);
      }
      bool own = std::find(rules.own_files.begin(), rules.own_files.end(), r) != rules.own_files.end();
      const std::string* p = util::first_match(rules.protected_paths, r);
      if (own || p != nullptr) {
        return fmt::format("symlink {} points into protected path {} ({})", f.new_path, r, target);
      }
    }
  }
  return std::nullopt;
}

} // namespace ar::loop
