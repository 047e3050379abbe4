#pragma once
// What a session leaves in a repository besides its journal records, and taking it away again:
// the session branch, the two worktrees and the state folder (.autoresearch/). Used by `clean` and
// by `run --dry-run`, which must leave nothing behind.
//
// None of these may run while a run uses the repository: the caller holds the run lock (clean) or
// is the run and has closed its session (dry run).

#include "git/git.hpp"
#include "session/paths.hpp"

#include <filesystem>
#include <string>

namespace ar::session {

std::string branch_ref_of(const std::string& session);  // "refs/heads/autoresearch/<session>"

// Which of the lasting things exist now.
struct Footprint {
  bool branch = false;     // refs/heads/autoresearch/<session>
  bool worktrees = false;  // either linked worktree (git's record or its folder)
  bool state_dir = false;  // .autoresearch/
};
Footprint footprint(git::Repository& repo, const Paths& paths, const std::string& session);

// Removes what exists now but not in `before`. When the state folder is new, it goes too, except
// `keep` (a log a failure message points at) when that is not empty.
void remove_created(git::Repository& repo, const Paths& paths, const std::string& session, const Footprint& before,
                    const std::filesystem::path& keep);

// Moves every journal line of `session` (header, records, stop lines) from `journal` to the end of
// `archive`, appended durably first, then rewrites the journal without them atomically. Lines
// that are not JSON stay. Returns the number of lines moved (0: nothing written).
int archive_session(const std::filesystem::path& journal, const std::filesystem::path& archive,
                    const std::string& session);

// Everything in the state folder but the lock file (the caller holds it).
void remove_state(const Paths& paths);

}  // namespace ar::session
