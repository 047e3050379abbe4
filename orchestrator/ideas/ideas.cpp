#include "ideas/ideas.hpp"

#include "util/files.hpp"

#include <cctype>

namespace ar::ideas {

namespace {

// Length of a list marker at the start of `line` ("- ", "* ", "12. "), or 0.
size_t list_marker(const std::string& line) {
  if (line.size() >= 2 && (line[0] == '-' || line[0] == '*' || line[0] == '+') && line[1] == ' ') return 2;
  size_t i = 0;
  while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])) != 0) ++i;
  if (i > 0 && i + 1 < line.size() && (line[i] == '.' || line[i] == ')') && line[i + 1] == ' ') return i + 2;
  return 0;
}

} // namespace

std::vector<Idea> parse_ideas(const std::string& markdown) {
  std::vector<Idea> out;
  bool in_item = false;
  bool in_fence = false;
  int line_no = 0;
  size_t pos = 0;
  while (pos < markdown.size()) {
    size_t end = markdown.find('\n', pos);
    if (end == std::string::npos) end = markdown.size();
    std::string line = markdown.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("```", 0) == 0) {
      in_fence = !in_fence;
      in_item = false;
      continue;
    }
    if (in_fence) continue;
    if (size_t m = list_marker(line)) {
      Idea idea;
      idea.line = line_no;
      std::string text = line.substr(m);
      if (text.rfind("[ ] ", 0) == 0) text = text.substr(4);
      else if (text.rfind("[x] ", 0) == 0 || text.rfind("[X] ", 0) == 0) {
        text = text.substr(4);
        idea.done = true;
      }
      idea.text = text;
      out.push_back(idea);
      in_item = true;
    } else if (in_item && !line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      size_t b = line.find_first_not_of(" \t");
      if (b != std::string::npos) out.back().text += " " + line.substr(b);
    } else {
      in_item = false;
    }
  }
  return out;
}

std::vector<Idea> read_ideas(const std::filesystem::path& path) {
  auto text = util::read_file(path);
  return text ? parse_ideas(*text) : std::vector<Idea>{};
}

} // namespace ar::ideas
