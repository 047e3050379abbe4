#pragma once
// Internal to git/: helpers the files of this folder share.

#include "git/git.hpp"

namespace ar::git::detail {

// The tree of `commit`; throws GitError naming the commit.
TreePtr tree_of(git_repository* repo, const git_oid& commit);
// The repository's user, or autoresearch when none is configured (a CI machine, say).
SignaturePtr signature_for(git_repository* repo);

}  // namespace ar::git::detail
