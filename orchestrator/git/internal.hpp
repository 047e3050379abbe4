#pragma once
// Internal to git/: helpers the files of this folder share.

#include "git/git.hpp"

namespace ar::git::detail {

// The tree of `commit`; throws GitError naming the commit.
TreePtr tree_of(git_repository* repo, const git_oid& commit);
// The repository's user, or autoresearch when none is configured (a CI machine, say).
SignaturePtr signature_for(git_repository* repo);
// git writes an added or deleted empty file as its "diff --git" and mode lines alone; libgit2's
// parser wants "---"/"+++" lines: adds them to such a file's section, leaves the rest unchanged.
std::string with_file_headers(std::string_view text);

}  // namespace ar::git::detail
