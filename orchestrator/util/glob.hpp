#pragma once
// Path globs for `protected` and `scope`: `*` and `?` match within one path segment, `**` matches
// any number of segments, and a pattern that names a folder ("gates" or "gates/") covers all paths
// beneath it. Paths are repository-relative with '/' separators.

#include <string>
#include <string_view>
#include <vector>

namespace ar::util {

bool glob_match(std::string_view pattern, std::string_view path);

// The first pattern of `patterns` that matches `path`, or nullptr.
const std::string* first_match(const std::vector<std::string>& patterns, std::string_view path);

} // namespace ar::util
