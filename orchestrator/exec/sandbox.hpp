#pragma once
// The sandbox every command the loop runs goes through (DESIGN §12).
//
// Policy. Default (mode auto): the file system stays as it is, writable where the user may write,
// except the repository: the checkout, its git directory, `.autoresearch/` and the journal are
// read-only, and only the command's own worktree is writable again (for the candidate side also
// the proposer's outbox, `.autoresearch/proposal/`). The other worktree is read-only to it, so a
// candidate cannot change what the base measures, nor the reverse. Each side has a private /tmp
// (a folder under `.autoresearch/tmp/`). Strict mode makes the whole file system read-only and
// opens only the own worktree, the private /tmp, a private /dev and the configured `writable`
// paths.
//
// Engines. Both build the policy's mount namespace with bubblewrap.
//  - namespaces (where the kernel has Landlock): bubblewrap builds one mount namespace per side
//    once, when the session opens; every command then joins its side's namespace in the spawned
//    child (setns), drops every capability (so it cannot remount anything), sets no_new_privs and
//    enters a Landlock domain, which keeps it from reaching processes outside the domain: it
//    cannot signal the loop or read /proc/<pid>/root of a process outside to get back to the
//    writable repository. A command costs what an unconfined one does (bench/overhead).
//    Descendants are killed by the loop's subreaper, as unconfined.
//  - bwrap: one bubblewrap process per command, in its own PID namespace as well; where Landlock
//    is missing. A few milliseconds a command.

#include "config/config.hpp"
#include "proc/subprocess.hpp"

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ar::exec {

struct SandboxLayout {
  // Read-only inside: the checkout, the git directory, the state directory. Paths that do not
  // exist are skipped.
  std::vector<std::filesystem::path> protect;
  std::array<std::filesystem::path, 2> worktrees;  // side 0 base, 1 candidate
  std::filesystem::path tmp_root;                  // private /tmp folders: <tmp_root>/{base,cand}
  std::filesystem::path outbox;                    // writable for the candidate side (the proposer's)
};

class Sandbox {
 public:
  Sandbox() = default;
  ~Sandbox();
  Sandbox(Sandbox&& other) noexcept;
  Sandbox& operator=(Sandbox&& other) noexcept;
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Mode off: unconfined, no probe. Otherwise bubblewrap is probed with this layout; when it is
  // missing or does not work, auto gives an unconfined sandbox with the reason and strict throws
  // ar::Error. Strict's writable paths must lie outside the repository (ar::ConfigError
  // otherwise); missing ones are created. Call prepare() before the first command.
  static Sandbox make(const config::Sandbox& settings, SandboxLayout layout, const std::filesystem::path& config_file);

  // (Re)builds the per-side namespaces of the namespaces engine; call it whenever a worktree
  // folder was created anew (a namespace holds the folder it was built with). Falls back to the
  // bwrap engine when they cannot be built.
  void prepare();

  bool confined() const { return m_confined; }
  config::SandboxMode mode() const { return m_mode; }
  const std::string& engine() const { return m_engine; }        // "namespaces (bubblewrap 0.8.0, Landlock ABI 7)"
  const std::string& unconfined_why() const { return m_why; }  // auto without bwrap: the reason
  const SandboxLayout& layout() const { return m_layout; }

  // Sets `spec` up to run `command` in `cwd` confined for `side` (0, 1: that worktree is writable
  // and /tmp is the side's own, with TMPDIR=/tmp; -1: no worktree is writable and /tmp is the
  // machine's). The command runs with `spec.shell` (set it first). Unconfined: plain
  // `<shell> -c command`.
  void confine(proc::RunSpec& spec, const std::string& command, int side, const std::filesystem::path& cwd) const;

  // The two worktrees changed roles (session::Workspace::swap_sides): swaps them in the layout and
  // builds the per-side namespaces again (prepare(), which empties both private /tmp folders).
  void swap_worktrees();

  // Empties side's (0 or 1) private /tmp (a new candidate starts with an empty one); creates it
  // when it is missing.
  void clear_tmp(int side) const;

  // The first line of a confined command's output that says the sandbox refused something: a
  // write to a read-only file system, or bwrap's own error. Empty when there is none.
  static std::string refusal(std::string_view output);

 private:
  // The bwrap arguments that build the policy for `side` (no command, no --chdir).
  std::vector<std::string> policy(int side, bool own_pid_namespace) const;
  std::filesystem::path tmp_of(int side) const;
  void close_namespaces();

  config::SandboxMode m_mode = config::SandboxMode::off;
  bool m_confined = false;
  std::string m_engine;
  std::string m_bwrap_version;
  std::string m_why;
  SandboxLayout m_layout;
  std::vector<std::filesystem::path> m_writable;  // strict
  int m_landlock_abi = 0;
  // The namespaces engine: per side (index side + 1: hooks, base, candidate) the mount namespace
  // and, when not root, its user namespace; and the Landlock ruleset. -1 when unused.
  std::array<int, 3> m_mount_ns{-1, -1, -1};
  std::array<int, 3> m_user_ns{-1, -1, -1};
  int m_landlock = -1;
};

}  // namespace ar::exec
