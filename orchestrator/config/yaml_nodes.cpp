// The typed reader over yaml-cpp nodes. yaml-cpp accepts far more than our schema does (repeated
// keys, any scalar where a list is meant), so every accessor checks the shape itself and names
// the key and line, rather than letting a YAML::Exception with no context reach the user.

#include "config/yaml_nodes.hpp"

#include "util/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <utility>

namespace ar::config::detail {

namespace {

std::string qualify(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return fmt::format("{}.{}", path, key);
}

// Case-insensitive Levenshtein distance, two rows.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const bool same =
          std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (same ? 0 : 1)});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

}  // namespace

std::string quote_value(std::string_view text) {
  constexpr std::size_t k_max = 60;
  if (text.size() <= k_max) return fmt::format("\"{}\"", text);
  return fmt::format("\"{}...\"", text.substr(0, k_max));
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return quote_value(node.Scalar());
    default:
      return "nothing";
  }
}

// The list of valid keys is short at every level, so when nothing is close it is more use than
// a bare "unknown".
std::string key_hint(std::string_view key, const Keys& allowed) {
  std::string_view best;
  std::size_t best_distance = SIZE_MAX;
  for (auto candidate : allowed) {
    const std::size_t distance = edit_distance(key, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (best_distance <= 2 && best_distance < key.size()) {
    return fmt::format(" (did you mean \"{}\"?)", best);
  }
  return fmt::format(" (valid keys: {})", fmt::join(allowed, ", "));
}

const Entry* Section::find(std::string_view key) const {
  auto it = entries.find(key);
  if (it == entries.end() || it->second.value.IsNull()) return nullptr;
  return &it->second;
}

const Entry& Section::at(std::string_view key) const {
  return entries.find(key)->second;
}

int line_of(const YAML::Node& node, int fallback) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? fallback : mark.line + 1;
}

void Reader::fail(int line, std::string_view message) const {
  throw ConfigError(fmt::format("{}:{}: {}", m_file, line, message));
}

Section Reader::section(const YAML::Node& node, std::string path, int line, const Keys& allowed) const {
  Section result;
  result.path = std::move(path);
  result.line = line;
  if (node.IsNull()) return result;
  if (!node.IsMap()) {
    fail(line, fmt::format("{}: expected a map, got {}", result.path, describe(node)));
  }
  const std::string prefix = result.path.empty() ? "" : result.path + ": ";
  for (auto it = node.begin(); it != node.end(); ++it) {
    const int key_line = line_of(it->first, line);
    if (!it->first.IsScalar()) {
      fail(key_line, fmt::format("{}keys must be plain names, got {}", prefix, describe(it->first)));
    }
    const std::string& key = it->first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      fail(key_line, fmt::format("{}unknown key {}{}", prefix, quote_value(key), key_hint(key, allowed)));
    }
    // yaml-cpp keeps both copies of a repeated key; silently taking one would hide an edit.
    auto [existing, inserted] = result.entries.try_emplace(key, Entry{qualify(result.path, key), it->second, key_line});
    if (!inserted) {
      fail(key_line,
           fmt::format("{}duplicate key {} (first on line {})", prefix, quote_value(key), existing->second.line));
    }
  }
  return result;
}

Section Reader::child(const Section& parent, std::string_view key, const Keys& allowed) const {
  auto it = parent.entries.find(key);
  if (it == parent.entries.end()) {
    return section(YAML::Node(), qualify(parent.path, key), parent.line, allowed);
  }
  return section(it->second.value, it->second.key, it->second.line, allowed);
}

std::string Reader::string(const Entry& entry) const {
  if (!entry.value.IsScalar()) {
    fail(entry.line, fmt::format("{}: expected a string, got {}", entry.key, describe(entry.value)));
  }
  return entry.value.Scalar();
}

std::string Reader::required_string(const Section& section, std::string_view key) const {
  const Entry* entry = section.find(key);
  if (entry == nullptr) {
    const auto it = section.entries.find(key);
    if (it != section.entries.end()) {
      fail(it->second.line, fmt::format("{}: must not be empty", it->second.key));
    }
    const std::string prefix = section.path.empty() ? "" : section.path + ": ";
    fail(section.line, fmt::format("{}missing required key {}", prefix, quote_value(key)));
  }
  std::string value = string(*entry);
  if (value.empty()) fail(entry->line, fmt::format("{}: must not be empty", entry->key));
  return value;
}

int Reader::integer(const Entry& entry, int min) const {
  const auto value = entry.value.IsScalar() ? parse_integer(entry.value.Scalar()) : std::nullopt;
  if (!value) {
    fail(entry.line, fmt::format("{}: expected an integer, got {}", entry.key, describe(entry.value)));
  }
  if (*value < min) fail(entry.line, fmt::format("{}: must be at least {}, got {}", entry.key, min, *value));
  if (*value > INT_MAX) fail(entry.line, fmt::format("{}: must be at most {}, got {}", entry.key, INT_MAX, *value));
  return static_cast<int>(*value);
}

bool Reader::boolean(const Entry& entry) const {
  if (entry.value.IsScalar()) {
    const std::string& v = entry.value.Scalar();
    if (v == "true" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "no" || v == "off") return false;
  }
  fail(entry.line, fmt::format("{}: expected true or false, got {}", entry.key, describe(entry.value)));
}

double Reader::number(const Entry& entry) const {
  const auto value = entry.value.IsScalar() ? parse_number(entry.value.Scalar()) : std::nullopt;
  if (!value) fail(entry.line, fmt::format("{}: expected a number, got {}", entry.key, describe(entry.value)));
  return *value;
}

Duration Reader::duration(const Entry& entry, bool positive) const {
  const std::string text = string(entry);
  const auto ms = parse_signed_duration_ms(text);
  if (!ms) {
    fail(entry.line, fmt::format("{}: invalid duration {} (use 90s, 10m, 2h)", entry.key, quote_value(text)));
  }
  if (positive && *ms <= 0) fail(entry.line, fmt::format("{}: must be positive, got {}", entry.key, quote_value(text)));
  if (*ms < 0) fail(entry.line, fmt::format("{}: must not be negative, got {}", entry.key, quote_value(text)));
  return Duration(*ms);
}

double Reader::percent(const Entry& entry) const {
  const std::string text = string(entry);
  const auto value = parse_percent(text);
  if (!value) {
    fail(entry.line, fmt::format("{}: invalid percentage {} (use 1%, 0.5%, or a fraction below 1 such as 0.01)",
                                 entry.key, quote_value(text)));
  }
  return *value;
}

decide::Direction Reader::direction(const Entry& entry) const {
  const std::string text = string(entry);
  if (text == "lower") return decide::Direction::lower;
  if (text == "higher") return decide::Direction::higher;
  fail(entry.line, fmt::format("{}: expected \"lower\" or \"higher\", got {}", entry.key, quote_value(text)));
}

std::vector<Entry> Reader::list(const Entry& entry) const {
  std::vector<Entry> items;
  if (entry.value.IsNull()) return items;
  if (!entry.value.IsSequence()) {
    fail(entry.line, fmt::format("{}: expected a list, got {}", entry.key, describe(entry.value)));
  }
  for (const auto& item : entry.value) {
    items.push_back(Entry{fmt::format("{}[{}]", entry.key, items.size()), item, line_of(item, entry.line)});
  }
  return items;
}

std::vector<std::string> Reader::globs(const Entry& entry) const {
  std::vector<std::string> result;
  for (const auto& item : list(entry)) {
    std::string pattern = string(item);
    if (pattern.empty()) fail(item.line, fmt::format("{}: must not be empty", item.key));
    result.push_back(std::move(pattern));
  }
  return result;
}

}  // namespace ar::config::detail
