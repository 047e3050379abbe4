#pragma once
// ideas.md: the person's backlog, one idea a list item ("- ", "* " or "1. "). Indented lines
// continue the item above. Read-only here; the loop never rewrites the person's text.

#include <filesystem>
#include <string>
#include <vector>

namespace ar::ideas {

struct Idea {
  int line = 0;       // 1-based line of the item
  std::string text;   // the item's text, continuation lines joined with spaces
  bool done = false;  // a GitHub-style "[x]" checkbox
};

std::vector<Idea> parse_ideas(const std::string& markdown);
// Empty when the file does not exist.
std::vector<Idea> read_ideas(const std::filesystem::path& path);

} // namespace ar::ideas
