#include "util/glob.hpp"

#include <cstddef>

namespace ar::util {

namespace {

// Segments of a '/'-separated path; empty and "." segments are dropped so that "gates/",
// "./gates" and "gates" all read the same.
std::vector<std::string_view> split_segments(std::string_view text) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('/', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view segment = text.substr(start, end - start);
    if (!segment.empty() && segment != ".") segments.push_back(segment);
    start = end + 1;
  }
  return segments;
}

// Byte length of the UTF-8 sequence starting at text[i], so that `?` and `*` step over whole
// characters ("µs" is two characters, not three). Malformed bytes count as one character each.
std::size_t char_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t length = 1;
  if (lead >= 0xF0) {
    length = 4;
  } else if (lead >= 0xE0) {
    length = 3;
  } else if (lead >= 0xC0) {
    length = 2;
  }
  if (i + length > text.size()) return 1;
  for (std::size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 1;
  }
  return length;
}

bool has_wildcards(std::string_view pattern) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
    } else if (pattern[i] == '*' || pattern[i] == '?') {
      return true;
    }
  }
  return false;
}

// One segment against one pattern segment. Greedy, backtracking only to the most recent `*`:
// once a later `*` has matched, growing an earlier one can never produce a match the later one
// could not, so this is exact without the exponential cost of full backtracking.
bool match_segment(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star_p = std::string_view::npos;
  std::size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*') ++p;
      star_p = p;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      if (pattern[p] == '?') {
        ++p;
        t += char_length(text, t);
        continue;
      }
      std::size_t literal = p;
      if (pattern[p] == '\\' && p + 1 < pattern.size()) literal = p + 1;
      if (pattern[literal] == text[t]) {
        p = literal + 1;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    star_t += char_length(text, star_t);
    p = star_p;
    t = star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Segment lists, where a pattern segment "**" matches zero or more whole segments. The same
// last-star backtracking as match_segment, one level up.
bool match_segments(const std::vector<std::string_view>& pattern,
                    const std::vector<std::string_view>& path, std::size_t path_size) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star_p = std::string_view::npos;
  std::size_t star_t = 0;
  while (t < path_size) {
    if (p < pattern.size() && pattern[p] == "**") {
      while (p < pattern.size() && pattern[p] == "**") ++p;
      star_p = p;
      star_t = t;
      continue;
    }
    if (p < pattern.size() && match_segment(pattern[p], path[t])) {
      ++p;
      ++t;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    ++star_t;
    p = star_p;
    t = star_t;
  }
  while (p < pattern.size() && pattern[p] == "**") ++p;
  return p == pattern.size();
}

} // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  const auto pattern_segments = split_segments(pattern);
  const auto path_segments = split_segments(path);
  // An empty pattern would otherwise cover the whole tree; for `protected` and `scope` that is
  // never what the author meant.
  if (pattern_segments.empty() || path_segments.empty()) return false;

  if (match_segments(pattern_segments, path_segments, path_segments.size())) return true;

  // A folder pattern ("gates", "gates/", "src/*/") also covers everything beneath the folder(s)
  // it names: try it against each proper ancestor of the path.
  const bool names_folder = !has_wildcards(pattern) || pattern.back() == '/';
  if (!names_folder) return false;
  for (std::size_t prefix = path_segments.size() - 1; prefix > 0; --prefix) {
    if (match_segments(pattern_segments, path_segments, prefix)) return true;
  }
  return false;
}

const std::string* first_match(const std::vector<std::string>& patterns, std::string_view path) {
  for (const auto& pattern : patterns) {
    if (glob_match(pattern, path)) return &pattern;
  }
  return nullptr;
}

} // namespace ar::util
