#include "exec/sandbox.hpp"

#include "exec/namespaces.hpp"
#include "util/error.hpp"

#include <unistd.h>

#include <cstdlib>
#include <utility>

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

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

}  // namespace

Sandbox::~Sandbox() {
  close_namespaces();
}

Sandbox::Sandbox(Sandbox&& other) noexcept {
  *this = std::move(other);
}

Sandbox& Sandbox::operator=(Sandbox&& other) noexcept {
  if (this == &other) return *this;
  close_namespaces();
  m_mode = other.m_mode;
  m_confined = other.m_confined;
  m_engine = std::move(other.m_engine);
  m_bwrap_version = std::move(other.m_bwrap_version);
  m_why = std::move(other.m_why);
  m_layout = std::move(other.m_layout);
  m_writable = std::move(other.m_writable);
  m_landlock_abi = other.m_landlock_abi;
  m_mount_ns = std::exchange(other.m_mount_ns, {-1, -1, -1});
  m_user_ns = std::exchange(other.m_user_ns, {-1, -1, -1});
  m_landlock = std::exchange(other.m_landlock, -1);
  return *this;
}

void Sandbox::close_namespaces() {
  for (std::array<int, 3>* fds : {&m_mount_ns, &m_user_ns}) {
    for (int& fd : *fds) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }
  if (m_landlock >= 0) ::close(m_landlock);
  m_landlock = -1;
}

Sandbox Sandbox::make(const config::Sandbox& settings, SandboxLayout layout, const fs::path& config_file) {
  Sandbox s;
  s.m_mode = settings.mode;
  if (settings.mode == config::SandboxMode::off) return s;
  for (fs::path& p : layout.protect) p = canonical_or_self(p);
  for (fs::path& w : layout.worktrees) w = canonical_or_self(w);
  layout.tmp_root = canonical_or_self(layout.tmp_root);
  layout.outbox = canonical_or_self(layout.outbox);
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
  fs::create_directories(layout.outbox);

  std::string version;
  std::string why = try_run({"bwrap", "--version"}, &version);
  if (why.empty()) {
    s.m_bwrap_version = first_line(version);
    std::vector<std::string> probe = s.policy(-1, true);
    probe.insert(probe.end(), {"--", "/bin/true"});
    why = try_run(probe);
    if (!why.empty()) why = "bubblewrap does not work here (" + why + ")";
  } else {
    why = "bubblewrap (bwrap) is not installed or does not start (" + why + ")";
  }
  if (why.empty()) {
    s.m_confined = true;
    s.m_landlock_abi = settings.force_bwrap ? 0 : landlock_abi();
    s.m_engine = "bwrap (" + s.m_bwrap_version + ")";
    return s;
  }
  if (settings.mode == config::SandboxMode::strict) {
    throw Error(fmt::format("{}: sandbox: strict, but {}; install the bubblewrap package or choose sandbox: auto",
                            config_file.string(), why));
  }
  s.m_why = why;
  return s;
}

void Sandbox::prepare() {
  if (!m_confined) return;
  close_namespaces();
  m_engine = "bwrap (" + m_bwrap_version + ")";
  if (m_landlock_abi < 1) return;
  std::string why;
  int landlock = landlock_domain(m_landlock_abi, why);
  std::array<Namespaces, 3> built;
  for (int side = -1; side <= 1 && why.empty(); ++side) {
    if (side >= 0) clear_tmp(side);  // its folder must exist to be bound
    built[side + 1] = build_namespaces(policy(side, false), why);
  }
  if (landlock < 0 || !why.empty()) {
    if (landlock >= 0) ::close(landlock);
    for (Namespaces& n : built) n.close();
    return;  // the bwrap engine: slower, as safe
  }
  for (int i = 0; i < 3; ++i) {
    m_mount_ns[i] = std::exchange(built[i].mount, -1);
    m_user_ns[i] = std::exchange(built[i].user, -1);
  }
  m_landlock = landlock;
  m_engine = fmt::format("namespaces ({}, Landlock ABI {})", m_bwrap_version, m_landlock_abi);
}

void Sandbox::swap_worktrees() {
  std::swap(m_layout.worktrees[0], m_layout.worktrees[1]);
  prepare();
}

fs::path Sandbox::tmp_of(int side) const {
  return m_layout.tmp_root / (side == 0 ? "base" : "cand");
}

std::vector<std::string> Sandbox::policy(int side, bool own_pid_namespace) const {
  const bool strict = m_mode == config::SandboxMode::strict;
  std::vector<std::string> a{"bwrap", "--die-with-parent"};
  if (own_pid_namespace) a.insert(a.end(), {"--unshare-pid", "--as-pid-1"});
  auto bind = [&a](const char* how, const fs::path& from, const fs::path& to) {
    a.insert(a.end(), {how, from.string(), to.string()});
  };
  bind(strict ? "--ro-bind" : "--bind", "/", "/");
  if (strict) {
    a.insert(a.end(), {"--dev", "/dev"});
  } else {
    bind("--dev-bind", "/dev", "/dev");
  }
  if (own_pid_namespace) a.insert(a.end(), {"--proc", "/proc"});
  const bool has_side = side == 0 || side == 1;
  if (has_side) {
    bind("--bind", tmp_of(side), "/tmp");
  } else if (strict) {
    a.insert(a.end(), {"--tmpfs", "/tmp"});
  }
  for (const fs::path& w : m_writable) bind("--bind", w, w);
  // The repository read-only; bound after the writable paths, so none of them reopens it. A path
  // inside one already bound read-only is covered by it.
  for (std::size_t i = 0; i < m_layout.protect.size(); ++i) {
    const fs::path& p = m_layout.protect[i];
    bool covered = false;
    for (std::size_t j = 0; j < m_layout.protect.size(); ++j) covered = covered || (j != i && inside(p, m_layout.protect[j]));
    if (!covered && present(p)) bind("--ro-bind", p, p);
  }
  if (has_side && present(m_layout.worktrees[side])) bind("--bind", m_layout.worktrees[side], m_layout.worktrees[side]);
  if (side == 1 && present(m_layout.outbox)) bind("--bind", m_layout.outbox, m_layout.outbox);
  return a;
}

void Sandbox::confine(proc::RunSpec& spec, const std::string& command, int side, const fs::path& cwd) const {
  if (!m_confined) {
    spec.command = command;
    return;
  }
  const bool has_side = side == 0 || side == 1;
  if (has_side) spec.env.emplace_back("TMPDIR", "/tmp");
  if (m_landlock >= 0) {
    spec.command = command;
    spec.confinement.confined = true;
    spec.confinement.mount_ns = m_mount_ns[side + 1];
    spec.confinement.user_ns = m_user_ns[side + 1];
    spec.confinement.landlock = m_landlock;
    return;
  }
  spec.argv = policy(side, true);
  if (has_side) spec.argv.insert(spec.argv.end(), {"--setenv", "TMPDIR", "/tmp"});
  spec.argv.insert(spec.argv.end(), {"--chdir", canonical_or_self(cwd).string(), "--", spec.shell, "-c", command});
}

void Sandbox::clear_tmp(int side) const {
  if (!m_confined || (side != 0 && side != 1)) return;
  fs::path dir = tmp_of(side);
  // A repository under /tmp is bound inside the private /tmp, on folders bubblewrap made in it:
  // deleting one would unmount the repository from the side's namespace.
  std::vector<fs::path> mount_points;
  for (const fs::path& p : m_layout.protect) {
    fs::path rel = p.lexically_relative("/tmp");
    if (!rel.empty() && *rel.begin() != "..") mount_points.push_back(*rel.begin());
  }
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    bool keep = false;
    for (const fs::path& m : mount_points) keep = keep || e.path().filename() == m;
    if (!keep) fs::remove_all(e.path(), ec);
  }
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
