#pragma once
// ideas.md: the person's backlog, one idea a list item ("- ", "* " or "1. "). Indented lines
// continue the item above. The loop gives each item a short stable id (" [#i3]" at the end of its
// first line) and marks outcomes as indented sub-items ("  - autoresearch: kept in experiment 4
// ..."); it changes nothing else in the person's text, and never loses an edit the person makes
// at the same time (see update_file_safely).

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ar::ideas {

struct Idea {
  int line = 0;                    // 1-based line of the item
  std::string id;                  // "i3", or empty before ensure_ids
  std::string text;                // the item's text without id and marks, continuation lines joined
  bool done = false;               // a GitHub-style "[x]" checkbox
  std::vector<std::string> marks;  // the loop's outcome notes, oldest first
};

std::vector<Idea> parse_ideas(const std::string& markdown);
// Empty when the file does not exist.
std::vector<Idea> read_ideas(const std::filesystem::path& path);

// Text transforms (pure): give every item without an id the next free one; add a mark under the
// item with `id` unless that exact mark is there. Line endings and all other bytes are kept.
std::string with_ids(const std::string& markdown);
std::string with_mark(const std::string& markdown, const std::string& id, const std::string& mark);

// Replaces the file's text with transform(text) so that a concurrent edit is never lost: the new
// text is computed from a fresh read, written to a temp file, and renamed over the file only if
// the file still holds exactly what was read (same inode, same bytes); after the rename, the old
// inode is read again through the descriptor held open, and a write that reached it in the
// meantime is folded in by running transform on it and writing again. Retries on conflict.
// Returns false (and changes nothing) when the file does not exist. Throws ar::Error after too
// many conflicts or on I/O errors.
// A symlinked file is written through to its target. The temp file sits beside the file written.
bool update_file_safely(const std::filesystem::path& path,
                        const std::function<std::string(const std::string&)>& transform);

// Removes `<file>.autoresearch-<pid>.tmp` files beside `path` whose writer is gone (a run killed
// between writing the temp file and renaming it).
void remove_stale_temp_files(const std::filesystem::path& path);

}  // namespace ar::ideas
