#pragma once
// Internal to config/: the typed reader over yaml-cpp nodes that config.cpp's section readers
// are written in, and the scalar parsers it shares with the public parse_duration/parse_percent.
// Every failure throws ar::ConfigError "<file>:<line>: <key>: <message>"; nothing here returns a
// half-checked value.

#include "config/config.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace ar::config::detail {

// ---- scalars (scalars.cpp) ------------------------------------------------------------------

inline constexpr std::int64_t k_ms_per_second = 1000;
inline constexpr std::int64_t k_ms_per_minute = 60 * k_ms_per_second;
inline constexpr std::int64_t k_ms_per_hour = 60 * k_ms_per_minute;
inline constexpr std::int64_t k_ms_per_day = 24 * k_ms_per_hour;

// A finite decimal or scientific number, the whole text and nothing else (no hex, no leading '+',
// no inf or nan); locale-independent.
std::optional<double> parse_number(std::string_view text);
// A whole decimal integer, the whole text and nothing else.
std::optional<long long> parse_integer(std::string_view text);
// Like parse_duration, but a negative duration is returned rather than refused, so the reader
// can say "must be positive" instead of "invalid duration". Whole milliseconds only.
std::optional<std::int64_t> parse_signed_duration_ms(std::string_view text);

// ---- messages (yaml_nodes.cpp) --------------------------------------------------------------

// `text` in double quotes, cut to 60 characters with "..." after.
std::string quote_value(std::string_view text);
// What a node is, for "expected X, got Y": "a map", "a list", a quoted scalar or "nothing".
std::string describe(const YAML::Node& node);

using Keys = std::vector<std::string_view>;

// " (did you mean "timeout"?)" when a key in `allowed` is close to `key`; otherwise
// " (valid keys: a, b, c)".
std::string key_hint(std::string_view key, const Keys& allowed);

// ---- the reader (yaml_nodes.cpp) ------------------------------------------------------------

struct Entry {
  std::string key;  // qualified: "benchmark.timeout", "decision.looks[2]"
  YAML::Node value;
  int line = 1;  // the key's line: a null value's own mark points past it
};

// One YAML map, checked against the keys valid at its level.
struct Section {
  std::string path;  // "benchmark", "gates[0]"; empty at the top level
  int line = 1;      // where a missing key is reported
  std::map<std::string, Entry, std::less<>> entries;

  // The entry, or nullptr when the key is absent or its value is null ("build:" alone).
  const Entry* find(std::string_view key) const;
  // The entry, which must be present (e.g. after required_string succeeded for it).
  const Entry& at(std::string_view key) const;
};

// The 1-based line of `node`, or `fallback` when yaml-cpp has no mark for it.
int line_of(const YAML::Node& node, int fallback);

// Reads typed values out of one config file's nodes. Every accessor either returns a value that
// passed its check or throws ConfigError naming the file, the line and the qualified key.
class Reader {
 public:
  explicit Reader(std::string file) : m_file(std::move(file)) {}

  [[noreturn]] void fail(int line, std::string_view message) const;

  // `node` must be a map or null (an empty section) whose keys are all in `allowed`, each once.
  Section section(const YAML::Node& node, std::string path, int line, const Keys& allowed) const;
  // The map under `key` of `parent`; an absent key gives an empty section whose missing keys
  // are reported at the parent's line.
  Section child(const Section& parent, std::string_view key, const Keys& allowed) const;

  std::string string(const Entry& entry) const;
  // Present, a scalar and not empty.
  std::string required_string(const Section& section, std::string_view key) const;
  int integer(const Entry& entry, int min) const;  // in [min, INT_MAX]
  bool boolean(const Entry& entry) const;          // true/yes/on, false/no/off
  double number(const Entry& entry) const;
  // Timeouts must be positive; limits may be 0 ("no limit").
  Duration duration(const Entry& entry, bool positive) const;
  double percent(const Entry& entry) const;
  decide::Direction direction(const Entry& entry) const;
  // The items of a list, each as an Entry named "key[i]" at its own line. Null is an empty list.
  std::vector<Entry> list(const Entry& entry) const;
  // A list of non-empty strings.
  std::vector<std::string> globs(const Entry& entry) const;

 private:
  std::string m_file;
};

}  // namespace ar::config::detail
