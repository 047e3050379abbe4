#pragma once
// Hypothesis patches: git format-patch output or a plain unified diff, with the hypothesis in the
// header. The plain-diff header (documented in the README):
//
//   Title: Use FNV-1a for the word hash
//   Hypothesis: chains are long because the byte-sum hash collides; a better hash shortens them
//     (continuation lines start with whitespace)
//   Mechanism: sum-of-bytes puts anagrams in one bucket
//   Idea: i3            (optional: the ideas.md id this tests)
//
//   diff --git a/... b/...     (or --- a/x / +++ b/x)
//
// For format-patch output the title is the Subject (without "[PATCH ...]") and the same fields may
// appear in the message body; a body without a Hypothesis field becomes the hypothesis.

#include "journal/record.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ar::sources {

struct Hypothesis {
  std::string source = "queue";  // queue | sweep | proposer
  std::string origin;            // e.g. "experiments/03-fnv.patch"
  std::string title;
  std::string hypothesis;
  std::string mechanism;
  std::string idea;
  std::string patch;             // git-format diff text ready for libgit2; empty if none found
  std::string patch_sha256;      // of the file's bytes as read (of the diff for proposals)
  std::string key;               // the hypothesis' identity in the journal; empty: patch_sha256
  // Set when the source already knows how the experiment ends (a proposer that timed out, a sweep
  // whose pattern is gone, an oversized patch): screening records it without applying anything.
  struct Ended {
    journal::Status status = journal::Status::rejected;
    std::string reason;
  };
  std::optional<Ended> ended;
  nlohmann::json asi = nlohmann::json::object();  // free-form, recorded as is

  const std::string& identity() const { return key.empty() ? patch_sha256 : key; }
};

// Splits header and diff, reads the fields and turns a plain unified diff into git form (adds
// `diff --git` lines, strips timestamps). Never throws for odd content: a file with no diff gets an
// empty `patch` and the loop rejects it as "not a patch".
Hypothesis parse_patch_text(std::string_view text, const std::string& origin);

// "03-fnv-hash.patch" -> "fnv hash": the fallback title.
std::string title_from_filename(const std::filesystem::path& file);

} // namespace ar::sources
