#pragma once
// The sandbox every command the loop runs goes through (DESIGN §12): bubblewrap, in its own
// mount and PID namespaces.
//
// Default policy (mode auto): the file system stays as it is, writable where the user may write,
// except the repository: the checkout, its git directory, `.autoresearch/` and the journal are
// bound read-only, and only the command's own worktree is bound writable again. The other
// worktree is read-only to it, so a candidate cannot change what the base measures, nor the
// reverse. Each side gets a private /tmp (a folder under `.autoresearch/tmp/`). Strict mode binds
// the whole file system read-only and opens only the own worktree, the private /tmp, a private
// /dev and the configured `writable` paths.
//
// The command is the PID namespace's first process (bwrap --as-pid-1), so when it ends the kernel
// kills everything it left in there, daemons included; it cannot see the orchestrator's
// processes, nor reach the repository through /proc/<pid>/root of one of them.

#include "config/config.hpp"

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ar::exec {

struct SandboxLayout {
  // Read-only inside: the checkout, the git directory, the state directory, the journal. Paths
  // that do not exist are skipped.
  std::vector<std::filesystem::path> protect;
  std::array<std::filesystem::path, 2> worktrees;  // side 0 base, 1 candidate
  std::filesystem::path tmp_root;  // private /tmp folders: <tmp_root>/{base,cand}
};

class Sandbox {
 public:
  // Mode off: unconfined, no probe. Otherwise bwrap is probed with this layout; when it is missing
  // or does not work, auto gives an unconfined sandbox with the reason and strict throws ar::Error.
  // Strict's writable paths must lie outside the repository (ar::ConfigError otherwise); missing
  // ones are created.
  static Sandbox make(const config::Sandbox& settings, SandboxLayout layout, const std::filesystem::path& config_file);

  bool confined() const { return m_confined; }
  config::SandboxMode mode() const { return m_mode; }
  const std::string& engine() const { return m_engine; }        // "bubblewrap 0.8.0"
  const std::string& unconfined_why() const { return m_why; }  // auto without bwrap: the reason

  // The argv that runs `/bin/sh -c command` in `cwd` confined for `side` (0, 1: that worktree is
  // writable and /tmp is the side's own, with TMPDIR=/tmp; -1: no worktree is writable and /tmp is
  // the machine's) with `writable` folders opened too; empty when unconfined.
  std::vector<std::string> argv(const std::string& command, int side, const std::filesystem::path& cwd,
                                const std::vector<std::filesystem::path>& writable = {}) const;

  // Empties side's (0 or 1) private /tmp (a new candidate starts with an empty one); creates it
  // when it is missing.
  void clear_tmp(int side) const;

  // The first line of a confined command's output that says the sandbox refused something: a
  // write to a read-only file system, or bwrap's own error. Empty when there is none.
  static std::string refusal(std::string_view output);

 private:
  std::filesystem::path tmp_of(int side) const;

  config::SandboxMode m_mode = config::SandboxMode::off;
  bool m_confined = false;
  std::string m_engine;
  std::string m_why;
  SandboxLayout m_layout;
  std::vector<std::filesystem::path> m_writable;  // strict
};

}  // namespace ar::exec
