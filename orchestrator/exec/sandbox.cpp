#include "exec/sandbox.hpp"

#include "proc/subprocess.hpp"
#include "util/error.hpp"

#include <cstdlib>

#include <fmt/format.h>

namespace ar::exec {

namespace fs = std::filesystem;

namespace {

fs::path canonical_or_self(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? p : c;
}

bool inside(const fs::path& path, const fs::path& folder) {
  fs::path rel = path.lexically_relative(folder);
  return !rel.empty() && *rel.begin() != "..";
}

fs::path expand_home(const std::string& path) {
  if (path.rfind("~/", 0) != 0) return path;
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : "/") / path.substr(2);
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.size() > 300 ? line.substr(0, 300) + "..." : line;
}

// Runs argv (bwrap itself, or a probe through it) and says what went wrong, or "" when it worked.
std::string try_run(const std::vector<std::string>& argv, std::string* output = nullptr) {
  proc::RunSpec spec;
  spec.argv = argv;
  spec.timeout = std::chrono::seconds(20);
  proc::Result r = proc::run(spec);
  if (output != nullptr) *output = r.tail;
  if (r.ok()) return "";
  std::string said = first_line(r.tail);
  return said.empty() ? r.describe() : said;
}

}  // namespace

Sandbox Sandbox::make(const config::Sandbox& settings, SandboxLayout layout, const fs::path& config_file) {
  Sandbox s;
  s.m_mode = settings.mode;
  if (settings.mode == config::SandboxMode::off) return s;
  for (fs::path& p : layout.protect) p = canonical_or_self(p);
  for (fs::path& w : layout.worktrees) w = canonical_or_self(w);
  layout.tmp_root = canonical_or_self(layout.tmp_root);
  s.m_layout = layout;
  for (const std::string& w : settings.writable) {
    fs::path path = canonical_or_self(expand_home(w));
    for (const fs::path& p : layout.protect) {
      if (path == p || inside(path, p)) {
        throw ConfigError(fmt::format("{}: sandbox.writable: {} is inside the repository ({}), which stays read-only",
                                      config_file.string(), w, p.string()));
      }
    }
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) {
      throw ConfigError(
          fmt::format("{}: sandbox.writable: cannot create {}: {}", config_file.string(), w, ec.message()));
    }
    s.m_writable.push_back(path);
  }
  for (const char* side : {"base", "cand"}) fs::create_directories(layout.tmp_root / side);

  std::string version;
  std::string why = try_run({"bwrap", "--version"}, &version);
  if (why.empty()) {
    s.m_engine = first_line(version);
    s.m_confined = true;  // argv() builds the confined command line from here on
    std::vector<std::string> probe = s.argv("true", -1, "/");
    why = try_run(probe);
    if (!why.empty()) why = "bubblewrap does not work here (" + why + ")";
  } else {
    why = "bubblewrap (bwrap) is not installed or does not start (" + why + ")";
  }
  if (why.empty()) return s;
  s.m_confined = false;
  if (settings.mode == config::SandboxMode::strict) {
    throw Error(fmt::format("{}: sandbox: strict, but {}; install the bubblewrap package or choose sandbox: auto",
                            config_file.string(), why));
  }
  s.m_why = why;
  return s;
}

fs::path Sandbox::tmp_of(int side) const {
  return m_layout.tmp_root / (side == 0 ? "base" : "cand");
}

std::vector<std::string> Sandbox::argv(const std::string& command, int side, const fs::path& cwd,
                                       const std::vector<fs::path>& writable) const {
  if (!m_confined) return {};
  const bool strict = m_mode == config::SandboxMode::strict;
  std::vector<std::string> a{"bwrap", "--die-with-parent", "--unshare-pid", "--as-pid-1"};
  auto bind = [&a](const char* how, const fs::path& from, const fs::path& to) {
    a.insert(a.end(), {how, from.string(), to.string()});
  };
  auto exists = [](const fs::path& p) {
    std::error_code ec;
    return fs::exists(p, ec);
  };
  bind(strict ? "--ro-bind" : "--bind", "/", "/");
  if (strict) {
    a.insert(a.end(), {"--dev", "/dev"});
  } else {
    bind("--dev-bind", "/dev", "/dev");
  }
  a.insert(a.end(), {"--proc", "/proc"});
  const bool has_side = side == 0 || side == 1;
  if (has_side) {
    bind("--bind", tmp_of(side), "/tmp");
    a.insert(a.end(), {"--setenv", "TMPDIR", "/tmp"});
  } else if (strict) {
    a.insert(a.end(), {"--tmpfs", "/tmp"});
  }
  for (const fs::path& w : m_writable) bind("--bind", w, w);
  // The repository read-only; binding after the writable paths, so none of them reopens it.
  for (const fs::path& p : m_layout.protect) {
    if (exists(p)) bind("--ro-bind", p, p);
  }
  for (const fs::path& w : m_layout.worktrees) {
    if (exists(w)) bind("--ro-bind", w, w);
  }
  if (has_side && exists(m_layout.worktrees[side])) bind("--bind", m_layout.worktrees[side], m_layout.worktrees[side]);
  for (const fs::path& w : writable) bind("--bind", canonical_or_self(w), canonical_or_self(w));
  a.insert(a.end(), {"--chdir", canonical_or_self(cwd).string(), "--", "/bin/sh", "-c", command});
  return a;
}

void Sandbox::clear_tmp(int side) const {
  if (!m_confined || (side != 0 && side != 1)) return;
  fs::path dir = tmp_of(side);
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) fs::remove_all(e.path(), ec);
  fs::create_directories(dir, ec);  // it may have gone with the whole state folder
}

std::string Sandbox::refusal(std::string_view output) {
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    std::string_view line = output.substr(start, end - start);
    if (line.find("Read-only file system") != std::string_view::npos || line.rfind("bwrap: ", 0) == 0) {
      std::string text(line.substr(0, 300));
      return line.size() > 300 ? text + "..." : text;
    }
    start = end + 1;
  }
  return "";
}

}  // namespace ar::exec
