#pragma once
// Internal to exec/: the pieces of the sandbox's namespaces engine (exec/sandbox.hpp): Landlock's
// ABI and a domain to enter, and a mount namespace (with its user namespace when we are not root)
// built by bubblewrap and kept by descriptor after its process is gone.

#include <string>
#include <vector>

namespace ar::exec {

// The kernel's Landlock ABI version, 0 when it has none.
int landlock_abi();

// A Landlock ruleset for commands: no file-system rule of its own (the mount namespace makes the
// repository read-only), but a domain, which keeps a command from ptrace-style access to
// processes outside it (/proc/<pid>/root, /proc/<pid>/mem) and, from ABI 6 on, from signalling
// them. Returns its descriptor (close-on-exec), or -1 with `why` set.
int landlock_domain(int abi, std::string& why);

// Descriptors of a mount namespace and, when it differs from ours, its user namespace.
struct Namespaces {
  int mount = -1;
  int user = -1;
  void close();
};

// Runs `bwrap_policy` (bwrap and its arguments, no command) around a process that only reports
// its pid and waits, opens its namespaces, and ends it. On failure returns empty Namespaces with
// `why` set (bwrap's own message where it gave one).
Namespaces build_namespaces(const std::vector<std::string>& bwrap_policy, std::string& why);

}  // namespace ar::exec
