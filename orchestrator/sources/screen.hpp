#pragma once
// Screening of a patch before anything is written: paths that leave the repository, reach into
// .git/ or .autoresearch/, touch a protected path or leave the scope are refused with the path
// named. A symlink the patch adds must point inside the worktree and not into a protected path.
// Globs are relative to the repository root (see util/glob.hpp).

#include "git/git.hpp"
#include "journal/journal.hpp"
#include "sources/patch_file.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ar::sources {

struct ScreenRules {
  std::vector<std::string> protected_paths;  // config `protected`
  std::vector<std::string> scope;            // config `scope`; empty: anywhere not protected
  std::vector<std::string> own_files;        // the config and journal: always protected
  std::vector<std::string> harness;          // config `harness`: files outside git, protected
  // The clean candidate worktree the patch would be applied to; when set, a path that goes
  // through a symlink there (or writes over one as a file) is refused.
  std::filesystem::path worktree;
};

// std::nullopt when every path may be touched; otherwise the reason, naming the path. Also
// refused: `.gitmodules` and gitlinks (submodules), and a path under a symlink the same patch adds.
std::optional<std::string> screen_paths(const std::vector<git::PatchFile>& files, const ScreenRules& rules);

// Checks the file names as the patch text spells them, before any parser normalises them (libgit2
// drops the leading '/' of "b//etc/passwd"): an absolute name is refused, naming it.
std::optional<std::string> screen_patch_text(const std::string& patch);

// The hash a record keeps as `diff_sha256`: of the git-format diff with what does not change the
// change left out (`index` lines, the text after a hunk header's second "@@", '\r' at line ends,
// trailing blank lines), so the same change written by `git diff`, by a plain `diff -u` or by a
// proposer hashes the same.
std::string diff_sha256(std::string_view git_diff);

// The one duplicate lookup, the same for every source: a hypothesis is a duplicate of any final
// record with the same identity (patch file hash, sweep point) or the same normalised diff (a
// copy of a tried change under a new title or file name). Records written before the diff was
// normalised are matched by the raw diff's hash. nullptr when it is new.
const journal::Summary* find_duplicate(const Hypothesis& h, const journal::SessionView& view);

// Why a hypothesis ends before anything is applied: what its source already knew, a duplicate, a
// text that is no patch, or paths it may not touch. On success, `files` holds the paths it touches.
struct Rejection {
  journal::Status status = journal::Status::rejected;
  std::string reason;
};
std::optional<Rejection> screen(const Hypothesis& h, const journal::SessionView& view, const ScreenRules& rules,
                                std::vector<std::string>& files);

}  // namespace ar::sources
