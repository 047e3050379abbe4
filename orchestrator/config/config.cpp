#include "config/config.hpp"

#include "util/error.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <regex>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <system_error>
#include <utility>

namespace ar::config {

namespace {

constexpr std::int64_t k_ms_per_second = 1000;
constexpr std::int64_t k_ms_per_minute = 60 * k_ms_per_second;
constexpr std::int64_t k_ms_per_hour = 60 * k_ms_per_minute;
constexpr std::int64_t k_ms_per_day = 24 * k_ms_per_hour;
// About 30 000 years: far past any sensible setting, far below int64 overflow.
constexpr double k_max_duration_ms = 1e15;

// ---- scalar parsing -------------------------------------------------------------------------

// A finite decimal or scientific number, the whole text and nothing else. from_chars is
// locale-independent and rejects hex and a leading '+'; inf and nan are rejected here.
std::optional<double> parse_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<long long> parse_integer(std::string_view text) {
  if (text.empty()) return std::nullopt;
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// Like parse_duration but keeps the sign, so load() can say "must be positive" rather than
// "invalid duration" for "-5s".
std::optional<std::int64_t> parse_signed_duration_ms(std::string_view text) {
  std::size_t unit_start = 0;
  while (unit_start < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_start])) == 0) {
    ++unit_start;
  }
  const std::string_view unit = text.substr(unit_start);
  std::int64_t factor = 0;
  if (unit.empty() || unit == "s") {
    factor = k_ms_per_second;
  } else if (unit == "ms") {
    factor = 1;
  } else if (unit == "m") {
    factor = k_ms_per_minute;
  } else if (unit == "h") {
    factor = k_ms_per_hour;
  } else if (unit == "d") {
    factor = k_ms_per_day;
  } else {
    return std::nullopt;
  }
  const auto number = parse_number(text.substr(0, unit_start));
  if (!number) return std::nullopt;
  const double ms = *number * static_cast<double>(factor);
  if (std::fabs(ms) > k_max_duration_ms) return std::nullopt;
  // Nothing finer than a millisecond exists downstream; "1.5ms" is a typo, not a request.
  const double rounded = std::round(ms);
  if (std::fabs(ms - rounded) > 1e-6) return std::nullopt;
  return static_cast<std::int64_t>(rounded);
}

// ---- messages -------------------------------------------------------------------------------

std::string quote_value(std::string_view text) {
  constexpr std::size_t k_max = 60;
  if (text.size() <= k_max) return fmt::format("\"{}\"", text);
  return fmt::format("\"{}...\"", text.substr(0, k_max));
}

// What a node is, for "expected X, got Y".
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
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (same ? 0 : 1)});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

using Keys = std::vector<std::string_view>;

// " (did you mean "timeout"?)" when a valid key is close; otherwise the list of valid keys,
// which is short at every level and more use than a bare "unknown".
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

// ---- the reader -----------------------------------------------------------------------------

struct Entry {
  std::string key;  // qualified: "benchmark.timeout", "decision.looks[2]"
  YAML::Node value;
  int line = 1;     // the key's line: a null value's own mark points past it
};

// One YAML map, checked against the keys valid at its level.
struct Section {
  std::string path;   // "benchmark", "gates[0]"; empty at the top level
  int line = 1;       // where a missing key is reported
  std::map<std::string, Entry, std::less<>> entries;

  // The entry, or nullptr when the key is absent or its value is null ("build:" alone).
  const Entry* find(std::string_view key) const {
    auto it = entries.find(key);
    if (it == entries.end() || it->second.value.IsNull()) return nullptr;
    return &it->second;
  }
};

int line_of(const YAML::Node& node, int fallback) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? fallback : mark.line + 1;
}

class Reader {
public:
  explicit Reader(std::string file) : m_file(std::move(file)) {}

  [[noreturn]] void fail(int line, std::string_view message) const {
    throw ConfigError(fmt::format("{}:{}: {}", m_file, line, message));
  }

  // `node` must be a map or null (an empty section) whose keys are all in `allowed`.
  Section section(const YAML::Node& node, std::string path, int line, const Keys& allowed) const {
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
      auto [existing, inserted] =
          result.entries.try_emplace(key, Entry{qualify(result.path, key), it->second, key_line});
      if (!inserted) {
        fail(key_line, fmt::format("{}duplicate key {} (first on line {})", prefix, quote_value(key),
                                   existing->second.line));
      }
    }
    return result;
  }

  // The map under `key` of `parent`; an absent key gives an empty section whose missing keys
  // are reported at the parent's line.
  Section child(const Section& parent, std::string_view key, const Keys& allowed) const {
    auto it = parent.entries.find(key);
    if (it == parent.entries.end()) {
      return section(YAML::Node(), qualify(parent.path, key), parent.line, allowed);
    }
    return section(it->second.value, it->second.key, it->second.line, allowed);
  }

  std::string string(const Entry& entry) const {
    if (!entry.value.IsScalar()) {
      fail(entry.line, fmt::format("{}: expected a string, got {}", entry.key, describe(entry.value)));
    }
    return entry.value.Scalar();
  }

  std::string required_string(const Section& section, std::string_view key) const {
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

  long long integer(const Entry& entry, long long min, long long max = INT_MAX) const {
    const auto value = entry.value.IsScalar() ? parse_integer(entry.value.Scalar()) : std::nullopt;
    if (!value) {
      fail(entry.line, fmt::format("{}: expected an integer, got {}", entry.key, describe(entry.value)));
    }
    if (*value < min) fail(entry.line, fmt::format("{}: must be at least {}, got {}", entry.key, min, *value));
    if (*value > max) fail(entry.line, fmt::format("{}: must be at most {}, got {}", entry.key, max, *value));
    return *value;
  }

  bool boolean(const Entry& entry) const {
    if (entry.value.IsScalar()) {
      const std::string& v = entry.value.Scalar();
      if (v == "true" || v == "yes" || v == "on") return true;
      if (v == "false" || v == "no" || v == "off") return false;
    }
    fail(entry.line, fmt::format("{}: expected true or false, got {}", entry.key, describe(entry.value)));
  }

  int small_integer(const Entry& entry, int min) const {
    return static_cast<int>(integer(entry, min, INT_MAX));
  }

  double number(const Entry& entry) const {
    const auto value = entry.value.IsScalar() ? parse_number(entry.value.Scalar()) : std::nullopt;
    if (!value) fail(entry.line, fmt::format("{}: expected a number, got {}", entry.key, describe(entry.value)));
    return *value;
  }

  // Timeouts must be positive; limits may be 0 ("no limit").
  Duration duration(const Entry& entry, bool positive) const {
    const std::string text = string(entry);
    const auto ms = parse_signed_duration_ms(text);
    if (!ms) {
      fail(entry.line, fmt::format("{}: invalid duration {} (use 90s, 10m, 2h)", entry.key, quote_value(text)));
    }
    if (positive && *ms <= 0) fail(entry.line, fmt::format("{}: must be positive, got {}", entry.key, quote_value(text)));
    if (*ms < 0) fail(entry.line, fmt::format("{}: must not be negative, got {}", entry.key, quote_value(text)));
    return Duration(*ms);
  }

  double percent(const Entry& entry) const {
    const std::string text = string(entry);
    const auto value = parse_percent(text);
    if (!value) {
      fail(entry.line, fmt::format("{}: invalid percentage {} (use 1%, 0.5%, or a fraction below 1 such as 0.01)",
                                   entry.key, quote_value(text)));
    }
    return *value;
  }

  decide::Direction direction(const Entry& entry) const {
    const std::string text = string(entry);
    if (text == "lower") return decide::Direction::lower;
    if (text == "higher") return decide::Direction::higher;
    fail(entry.line, fmt::format("{}: expected \"lower\" or \"higher\", got {}", entry.key, quote_value(text)));
  }

  // The items of a list, each as an Entry named "key[i]" at its own line. Null is an empty list.
  std::vector<Entry> list(const Entry& entry) const {
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

  std::vector<std::string> globs(const Entry& entry) const {
    std::vector<std::string> result;
    for (const auto& item : list(entry)) {
      std::string pattern = string(item);
      if (pattern.empty()) fail(item.line, fmt::format("{}: must not be empty", item.key));
      result.push_back(std::move(pattern));
    }
    return result;
  }

private:
  std::string m_file;
};

// ---- validation of names --------------------------------------------------------------------

// The branch is autoresearch/<session>: keep to characters git and shells never mangle, and
// to what git check-ref-format accepts.
void check_session(const Reader& reader, const Entry& entry, const std::string& session) {
  const bool plain = !session.empty() && std::all_of(session.begin(), session.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  });
  if (!plain) {
    reader.fail(entry.line, fmt::format("session: {} may contain only letters, digits, '.', '_' and '-'",
                                        quote_value(session)));
  }
  const bool ends_lock = session.size() >= 5 && session.compare(session.size() - 5, 5, ".lock") == 0;
  if (session.front() == '.' || session.find("..") != std::string::npos || ends_lock) {
    reader.fail(entry.line, fmt::format("session: {} is not a valid git branch name part "
                                        "(no leading '.', no '..', no '.lock' ending)",
                                        quote_value(session)));
  }
}

// METRIC names are [A-Za-z0-9_.µ]+ (DESIGN §5); a name outside that could never be measured.
void check_metric_name(const Reader& reader, const Entry& entry, const std::string& name) {
  static constexpr std::string_view k_micro = "\xC2\xB5";
  std::size_t i = 0;
  while (i < name.size()) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (std::isalnum(c) != 0 || c == '_' || c == '.') {
      ++i;
    } else if (name.compare(i, k_micro.size(), k_micro) == 0) {
      i += k_micro.size();
    } else {
      reader.fail(entry.line, fmt::format("{}: {} is not a valid METRIC name (letters, digits, '_', '.', 'µ')",
                                          entry.key, quote_value(name)));
    }
  }
}

const Entry& entry_of(const Section& section, std::string_view key) {
  return section.entries.find(key)->second;
}

// ---- sections -------------------------------------------------------------------------------

void read_benchmark(const Reader& r, const Section& top, Benchmark& out) {
  const Section s = r.child(top, "benchmark", {"command", "timeout", "warmup"});
  out.command = r.required_string(s, "command");
  if (const Entry* e = s.find("timeout")) out.timeout = r.duration(*e, true);
  if (const Entry* e = s.find("warmup")) out.warmup = r.small_integer(*e, 0);
}

void read_build(const Reader& r, const Section& top, Build& out) {
  const Section s = r.child(top, "build", {"command", "timeout"});
  // An empty command is allowed: it is how to_json writes "no build step".
  if (const Entry* e = s.find("command")) out.command = r.string(*e);
  if (const Entry* e = s.find("timeout")) out.timeout = r.duration(*e, true);
}

void read_metric(const Reader& r, const Section& top, Metric& out) {
  const Section s = r.child(top, "metric", {"name", "direction", "unit"});
  out.name = r.required_string(s, "name");
  check_metric_name(r, entry_of(s, "name"), out.name);
  if (const Entry* e = s.find("direction")) out.direction = r.direction(*e);
  if (const Entry* e = s.find("unit")) out.unit = r.string(*e);
}

void read_guards(const Reader& r, const Entry& entry, std::vector<decide::GuardSpec>& out) {
  std::map<std::string, int> first_line;
  for (const auto& item : r.list(entry)) {
    const Section s = r.section(item.value, item.key, item.line, {"name", "direction", "tolerance"});
    decide::GuardSpec guard;
    guard.name = r.required_string(s, "name");
    const Entry& name = entry_of(s, "name");
    check_metric_name(r, name, guard.name);
    if (auto [it, inserted] = first_line.try_emplace(guard.name, name.line); !inserted) {
      r.fail(name.line, fmt::format("{}: duplicate guard {} (first on line {})", name.key,
                                    quote_value(guard.name), it->second));
    }
    if (const Entry* e = s.find("direction")) guard.direction = r.direction(*e);
    if (const Entry* e = s.find("tolerance")) guard.tolerance = r.percent(*e);
    out.push_back(std::move(guard));
  }
}

void read_gates(const Reader& r, const Entry& entry, std::vector<Gate>& out) {
  std::map<std::string, int> first_line;
  for (const auto& item : r.list(entry)) {
    const Section s = r.section(item.value, item.key, item.line, {"name", "command", "timeout"});
    Gate gate;
    gate.name = r.required_string(s, "name");
    const Entry& name = entry_of(s, "name");
    if (auto [it, inserted] = first_line.try_emplace(gate.name, name.line); !inserted) {
      r.fail(name.line, fmt::format("{}: duplicate gate name {} (first on line {})", name.key,
                                    quote_value(gate.name), it->second));
    }
    gate.command = r.required_string(s, "command");
    if (const Entry* e = s.find("timeout")) gate.timeout = r.duration(*e, true);
    out.push_back(std::move(gate));
  }
}

void read_decision(const Reader& r, const Section& top, decide::Rule& out) {
  const Section s = r.child(top, "decision", {"method", "min_effect", "alpha", "max_pairs", "looks", "beta", "sprt_clip"});
  if (const Entry* e = s.find("method")) {
    std::string text = r.string(*e);
    std::optional<decide::Method> m = decide::method_from_string(text);
    if (!m) r.fail(e->line, fmt::format("{}: expected sequential, sprt or fixed, got {}", e->key, quote_value(text)));
    out.method = *m;
  }
  if (const Entry* e = s.find("beta")) {
    out.beta = r.number(*e);
    if (!(out.beta > 0 && out.beta <= 0.5)) r.fail(e->line, fmt::format("{}: must be in (0, 0.5], got {}", e->key, e->value.Scalar()));
  }
  if (const Entry* e = s.find("sprt_clip")) {
    out.sprt_clip = r.number(*e);
    if (!(out.sprt_clip > 0)) r.fail(e->line, fmt::format("{}: must be positive, got {}", e->key, e->value.Scalar()));
  }
  if (const Entry* e = s.find("min_effect")) out.min_effect = r.percent(*e);
  if (const Entry* e = s.find("alpha")) {
    out.alpha = r.number(*e);
    if (!(out.alpha > 0 && out.alpha <= 0.5)) {
      r.fail(e->line, fmt::format("{}: must be in (0, 0.5], got {}", e->key, e->value.Scalar()));
    }
  }
  const Entry* max_pairs = s.find("max_pairs");
  if (max_pairs != nullptr) out.max_pairs = r.small_integer(*max_pairs, 3);

  const Entry* looks = s.find("looks");
  if (looks == nullptr) {
    if (max_pairs != nullptr) {
      // The default schedule, cut to fit.
      const std::vector<int> defaults = decide::Rule{}.looks;
      out.looks.clear();
      for (int look : defaults) {
        if (look < out.max_pairs) out.looks.push_back(look);
      }
      out.looks.push_back(out.max_pairs);
    }
    return;
  }
  const auto items = r.list(*looks);
  if (items.empty()) r.fail(looks->line, fmt::format("{}: must not be empty", looks->key));
  out.looks.clear();
  for (const auto& item : items) {
    const int look = r.small_integer(item, 2);
    if (!out.looks.empty() && look <= out.looks.back()) {
      r.fail(item.line, fmt::format("{}: must be strictly increasing, got {} after {}", looks->key, look,
                                    out.looks.back()));
    }
    out.looks.push_back(look);
  }
  if (max_pairs == nullptr) {
    // Looks alone say it all: the last look is where the experiment ends.
    if (out.looks.back() < 3) {
      r.fail(looks->line, fmt::format("{}: the last look is the maximum number of pairs and must be "
                                      "at least 3, got {}",
                                      looks->key, out.looks.back()));
    }
    out.max_pairs = out.looks.back();
  } else if (out.looks.back() != out.max_pairs) {
    r.fail(looks->line, fmt::format("{}: the last look ({}) must equal decision.max_pairs ({})", looks->key,
                                    out.looks.back(), out.max_pairs));
  }
}

void read_sweeps(const Reader& r, const Entry& entry, std::vector<Sweep>& out) {
  std::map<std::string, int> first_line;
  for (const auto& item : r.list(entry)) {
    const Section s = r.section(item.value, item.key, item.line, {"name", "file", "pattern", "values", "mechanism", "idea"});
    Sweep sweep;
    sweep.name = r.required_string(s, "name");
    const Entry& name = entry_of(s, "name");
    if (auto [it, inserted] = first_line.try_emplace(sweep.name, name.line); !inserted) {
      r.fail(name.line, fmt::format("{}: duplicate sweep name {} (first on line {})", name.key,
                                    quote_value(sweep.name), it->second));
    }
    sweep.file = r.required_string(s, "file");
    {
      // The file is edited inside the candidate worktree: it must stay inside it.
      const Entry& file = entry_of(s, "file");
      std::filesystem::path fp(sweep.file);
      bool escapes = fp.is_absolute();
      for (const auto& part : fp) escapes = escapes || part == "..";
      std::string first = fp.empty() ? "" : fp.begin()->string();
      if (escapes || first == ".git" || first == ".autoresearch") {
        r.fail(file.line, fmt::format("{}: {} must be a path inside the repository (no absolute path, no \"..\", "
                                      "not in .git/ or .autoresearch/)", file.key, quote_value(sweep.file)));
      }
    }
    sweep.pattern = r.required_string(s, "pattern");
    const Entry& pattern = entry_of(s, "pattern");
    try {
      std::regex re(sweep.pattern);
      if (re.mark_count() != 1) {
        r.fail(pattern.line, fmt::format("{}: needs exactly one capture group, has {}", pattern.key, re.mark_count()));
      }
    } catch (const std::regex_error& e) {
      r.fail(pattern.line, fmt::format("{}: invalid regular expression: {}", pattern.key, e.what()));
    }
    const Entry* values = s.find("values");
    if (values == nullptr) r.fail(s.line, fmt::format("{}: missing required key \"values\"", s.path));
    for (const auto& v : r.list(*values)) sweep.values.push_back(r.string(v));
    if (sweep.values.empty()) r.fail(values->line, fmt::format("{}: must list at least one value", values->key));
    if (const Entry* e = s.find("mechanism")) sweep.mechanism = r.string(*e);
    if (const Entry* e = s.find("idea")) sweep.idea = r.string(*e);
    out.push_back(std::move(sweep));
  }
}

void read_sources(const Reader& r, const Section& top, Sources& out) {
  const Section s = r.child(top, "sources", {"queue", "sweeps", "proposer", "order"});
  const Section queue = r.child(s, "queue", {"dir"});
  if (const Entry* e = queue.find("dir")) {
    out.queue.dir = r.string(*e);
    if (out.queue.dir.empty()) r.fail(e->line, fmt::format("{}: must not be empty", e->key));
  }
  if (const Entry* e = s.find("sweeps")) read_sweeps(r, *e, out.sweeps);
  const Section proposer = r.child(s, "proposer", {"command", "timeout", "notes", "recent"});
  if (const Entry* e = proposer.find("command")) out.proposer.command = r.string(*e);
  if (const Entry* e = proposer.find("timeout")) out.proposer.timeout = r.duration(*e, true);
  if (const Entry* e = proposer.find("notes")) out.proposer.notes = r.string(*e);
  if (const Entry* e = proposer.find("recent")) out.proposer.recent = r.small_integer(*e, 0);
  if (const Entry* e = s.find("order")) {
    out.order.clear();
    for (const auto& item : r.list(*e)) {
      std::string name = r.string(item);
      SourceKind kind;
      if (name == "queue") kind = SourceKind::queue;
      else if (name == "sweeps") kind = SourceKind::sweeps;
      else if (name == "proposer") kind = SourceKind::proposer;
      else r.fail(item.line, fmt::format("{}: expected queue, sweeps or proposer, got {}", item.key, quote_value(name)));
      if (std::find(out.order.begin(), out.order.end(), kind) != out.order.end()) {
        r.fail(item.line, fmt::format("{}: {} is listed twice", item.key, quote_value(name)));
      }
      out.order.push_back(kind);
    }
  }
}

void read_hooks(const Reader& r, const Section& top, Hooks& out) {
  const Section s = r.child(top, "hooks", {"before", "after"});
  for (auto [key, hook] : {std::pair<const char*, Hook*>{"before", &out.before}, {"after", &out.after}}) {
    const Section h = r.child(s, key, {"command", "timeout"});
    if (const Entry* e = h.find("command")) hook->command = r.string(*e);
    if (const Entry* e = h.find("timeout")) hook->timeout = r.duration(*e, true);
  }
}

void read_limits(const Reader& r, const Section& top, Limits& out) {
  const Section s = r.child(top, "limits", {"max_experiments", "max_duration", "max_consecutive_failures", "target",
                                                     "retry_interrupted", "max_log_mb", "plateau", "on_plateau"});
  if (const Entry* e = s.find("max_experiments")) out.max_experiments = r.small_integer(*e, 0);
  if (const Entry* e = s.find("max_duration")) out.max_duration = r.duration(*e, false);
  if (const Entry* e = s.find("max_consecutive_failures")) out.max_consecutive_failures = r.small_integer(*e, 0);
  if (const Entry* e = s.find("target")) out.target = r.number(*e);
  if (const Entry* e = s.find("retry_interrupted")) out.retry_interrupted = r.small_integer(*e, 0);
  if (const Entry* e = s.find("max_log_mb")) out.max_log_mb = r.small_integer(*e, 1);
  if (const Entry* e = s.find("plateau")) out.plateau = r.small_integer(*e, 0);
  if (const Entry* e = s.find("on_plateau")) {
    std::string v = r.string(*e);
    if (v != "stop" && v != "next_source") {
      r.fail(e->line, fmt::format("{}: expected \"stop\" or \"next_source\", got {}", e->key, quote_value(v)));
    }
    out.plateau_stop = v == "stop";
  }
}

// fopen rather than ifstream so that errno names the actual problem.
std::string read_config_text(const std::filesystem::path& path) {
  const auto cannot_read = [&](int error) {
    return ConfigError(fmt::format("{}: cannot read config file: {}", path.string(), std::strerror(error)));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw cannot_read(errno);
  std::string text;
  char buffer[8192];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
  if (std::ferror(file.get()) != 0) throw cannot_read(errno);
  return text;
}

const char* direction_name(decide::Direction direction) {
  return direction == decide::Direction::higher ? "higher" : "lower";
}

} // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  const auto ms = parse_signed_duration_ms(text);
  if (!ms || *ms < 0) return std::nullopt;
  return Duration(*ms);
}

std::optional<double> parse_percent(std::string_view text) {
  if (!text.empty() && text.back() == '%') {
    const auto value = parse_number(text.substr(0, text.size() - 1));
    if (!value || !(*value >= 0)) return std::nullopt;
    return *value / 100.0;
  }
  // A bare "5" is refused rather than read as 500%: it almost always means 5%.
  const auto value = parse_number(text);
  if (!value || !(*value >= 0 && *value < 1)) return std::nullopt;
  return *value;
}

std::string format_duration(Duration d) {
  const std::int64_t n = d.count();
  if (n < 0) return "-" + format_duration(Duration(-n));
  if (n == 0) return "0s";
  if (n < k_ms_per_second) return fmt::format("{}ms", n);
  std::string best = fmt::format("{}", n / k_ms_per_second);
  if (const std::int64_t frac = n % k_ms_per_second; frac != 0) {
    std::string digits = fmt::format("{:03}", frac);
    while (digits.back() == '0') digits.pop_back();
    best += "." + digits;
  }
  best += "s";
  // Larger units win ties: "1m" over "60s", "1d" over "24h".
  static constexpr std::pair<std::int64_t, char> k_units[] = {
      {k_ms_per_minute, 'm'}, {k_ms_per_hour, 'h'}, {k_ms_per_day, 'd'}};
  for (const auto& [unit, suffix] : k_units) {
    if (n % unit != 0) continue;
    std::string candidate = fmt::format("{}{}", n / unit, suffix);
    if (candidate.size() <= best.size()) best = std::move(candidate);
  }
  return best;
}

Config load(const std::filesystem::path& path) {
  const Reader r(path.string());
  const std::string text = read_config_text(path);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    r.fail(e.mark.is_null() ? 1 : e.mark.line + 1, fmt::format("invalid YAML: {}", e.msg));
  }
  if (!root.IsNull() && !root.IsMap()) {
    r.fail(line_of(root, 1), fmt::format("expected a map of settings at the top level, got {}", describe(root)));
  }

  Config config;
  config.path = path;
  const Section top = r.section(root, "", 1,
                                {"session", "goal", "benchmark", "build", "metric", "guards", "gates", "protected",
                                 "scope", "decision", "sources", "limits", "hooks", "calibration", "verify", "confirm"});
  if (const Entry* e = top.find("session")) {
    config.session = r.string(*e);
    check_session(r, *e, config.session);
  }
  if (const Entry* e = top.find("goal")) config.goal = r.string(*e);
  read_benchmark(r, top, config.benchmark);
  read_build(r, top, config.build);
  read_metric(r, top, config.metric);
  if (const Entry* e = top.find("guards")) read_guards(r, *e, config.guards);
  if (const Entry* e = top.find("gates")) read_gates(r, *e, config.gates);
  if (const Entry* e = top.find("protected")) config.protected_paths = r.globs(*e);
  if (const Entry* e = top.find("scope")) config.scope = r.globs(*e);
  read_decision(r, top, config.decision);
  read_sources(r, top, config.sources);
  read_limits(r, top, config.limits);
  read_hooks(r, top, config.hooks);
  if (const Entry* e = top.find("confirm")) {
    for (const auto& item : r.list(*e)) {
      const Section c = r.section(item.value, item.key, item.line, {"name", "direction"});
      decide::ConfirmSpec spec;
      spec.name = r.required_string(c, "name");
      const Entry& name = entry_of(c, "name");
      check_metric_name(r, name, spec.name);
      for (const auto& other : config.confirms) {
        if (other.name == spec.name) r.fail(name.line, fmt::format("{}: duplicate confirm metric {}", name.key, quote_value(spec.name)));
      }
      if (const Entry* d = c.find("direction")) spec.direction = r.direction(*d);
      config.confirms.push_back(spec);
    }
  }
  {
    const Section c = r.child(top, "calibration", {"pairs", "on_start"});
    if (const Entry* e = c.find("pairs")) config.calibration.pairs = r.small_integer(*e, 2);
    if (const Entry* e = c.find("on_start")) config.calibration.on_start = r.boolean(*e);
    const Section v = r.child(top, "verify", {"pairs"});
    if (const Entry* e = v.find("pairs")) {
      config.verify_pairs = r.small_integer(*e, 0);
      if (config.verify_pairs > 0 && config.verify_pairs < 3) {
        r.fail(e->line, fmt::format("{}: must be 0 (twice decision.max_pairs) or at least 3, got {}", e->key, config.verify_pairs));
      }
    }
  }
  return config;
}

const char* to_string(SourceKind kind) {
  switch (kind) {
    case SourceKind::queue: return "queue";
    case SourceKind::sweeps: return "sweeps";
    case SourceKind::proposer: return "proposer";
  }
  return "?";
}

namespace {

nlohmann::json confirms_json(const std::vector<decide::ConfirmSpec>& confirms) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : confirms) out.push_back({{"name", c.name}, {"direction", decide::to_string(c.direction)}});
  return out;
}

nlohmann::json sources_json(const Sources& s) {
  nlohmann::json sweeps = nlohmann::json::array();
  for (const auto& w : s.sweeps) {
    sweeps.push_back({{"name", w.name}, {"file", w.file}, {"pattern", w.pattern}, {"values", w.values},
                      {"mechanism", w.mechanism}, {"idea", w.idea}});
  }
  nlohmann::json order = nlohmann::json::array();
  for (SourceKind k : s.order) order.push_back(to_string(k));
  return {{"queue", {{"dir", s.queue.dir}}},
          {"sweeps", sweeps},
          {"proposer",
           {{"command", s.proposer.command}, {"timeout", format_duration(s.proposer.timeout)},
            {"notes", s.proposer.notes}, {"recent", s.proposer.recent}}},
          {"order", order}};
}

} // namespace

nlohmann::json to_json(const Config& config) {
  using nlohmann::json;
  json guards = json::array();
  for (const auto& guard : config.guards) {
    guards.push_back({{"name", guard.name},
                      {"direction", direction_name(guard.direction)},
                      {"tolerance", guard.tolerance}});
  }
  json gates = json::array();
  for (const auto& gate : config.gates) {
    gates.push_back({{"name", gate.name}, {"command", gate.command}, {"timeout", format_duration(gate.timeout)}});
  }
  // The file's path is left out on purpose: the journal compares this object to detect a
  // change of config, and the same file reached by another path is not one.
  return json{
      {"session", config.session},
      {"goal", config.goal},
      {"benchmark",
       {{"command", config.benchmark.command},
        {"timeout", format_duration(config.benchmark.timeout)},
        {"warmup", config.benchmark.warmup}}},
      {"build", {{"command", config.build.command}, {"timeout", format_duration(config.build.timeout)}}},
      {"metric",
       {{"name", config.metric.name},
        {"direction", direction_name(config.metric.direction)},
        {"unit", config.metric.unit}}},
      {"guards", guards},
      {"gates", gates},
      {"protected", config.protected_paths},
      {"scope", config.scope},
      {"confirm", confirms_json(config.confirms)},
      {"decision",
       {{"method", decide::to_string(config.decision.method)},
        {"beta", config.decision.beta},
        {"sprt_clip", config.decision.sprt_clip},
        {"min_effect", config.decision.min_effect},
        {"alpha", config.decision.alpha},
        {"max_pairs", config.decision.max_pairs},
        {"looks", config.decision.looks}}},
      {"sources", sources_json(config.sources)},
      {"limits",
       {{"max_experiments", config.limits.max_experiments},
        {"max_duration", format_duration(config.limits.max_duration)},
        {"max_consecutive_failures", config.limits.max_consecutive_failures},
        {"target", config.limits.target ? json(*config.limits.target) : json(nullptr)},
        {"retry_interrupted", config.limits.retry_interrupted},
        {"max_log_mb", config.limits.max_log_mb},
        {"plateau", config.limits.plateau},
        {"on_plateau", config.limits.plateau_stop ? "stop" : "next_source"}}},
      {"calibration", {{"pairs", config.calibration.pairs}, {"on_start", config.calibration.on_start}}},
      {"verify", {{"pairs", config.verify_pairs}}},
      {"hooks",
       {{"before", {{"command", config.hooks.before.command}, {"timeout", format_duration(config.hooks.before.timeout)}}},
        {"after", {{"command", config.hooks.after.command}, {"timeout", format_duration(config.hooks.after.timeout)}}}}},
  };
}

std::string starter_config() {
  return R"(# autoresearch session config. Every key is shown with its default; unknown keys are errors.
# Durations: 500ms, 90s, 10m, 2h, 1d. Percentages: 1%, 0.5%.

session: default               # names the session branch autoresearch/<session>: letters, digits, . _ -
goal: ""                       # free text for reports and proposers: what to improve, and why

benchmark:
  command: ./bench.sh          # required: shell command run in a worktree; prints METRIC <name>=<number>
  timeout: 10m                 # a run that takes longer counts as a timeout
  warmup: 1                    # unrecorded runs per side before the measured pairs

build:
  command: ""                  # optional: run whenever a worktree's commit changes, before measuring
  timeout: 30m                 # a build that takes longer fails the experiment

metric:
  name: time_ms                # required: the METRIC name to improve
  direction: lower             # lower or higher is better
  unit: ""                     # shown in reports, e.g. ms

guards: []                     # secondary metrics that must not regress beyond a tolerance, e.g.:
#  - name: rss_kb              # required: a METRIC name
#    direction: lower          # lower or higher is better
#    tolerance: 5%             # the largest accepted worsening

gates: []                      # correctness checks run in order before measuring; non-zero exit fails, e.g.:
#  - name: tests               # required, unique
#    command: gates/tests.sh   # required: shell command run in the candidate worktree
#    timeout: 10m              # a gate that takes longer fails

protected:                     # paths no hypothesis may touch (globs: *, ?, **; a folder covers its contents)
  - autoresearch.config.yaml
  - bench.sh
  - gates/
scope: []                      # if not empty, the only paths a hypothesis may touch, e.g. [src/**]

decision:
  method: sequential           # sequential (paired looks), sprt (quiet rigs), or fixed (max_pairs, one test)
  min_effect: 1%               # smallest median improvement worth keeping
  alpha: 0.05                  # false-keep rate of the sequential test, in (0, 0.5]
  max_pairs: 12                # base/candidate run pairs before giving up as inconclusive (>= 3)
  looks: [3, 5, 7, 9, 12]      # pair counts at which to decide; strictly increasing, last = max_pairs
  beta: 0.1                    # sprt only: accepted miss rate for an effect of exactly min_effect
  sprt_clip: 3                 # sprt only: pairs are clipped to median +- this many robust sigmas

confirm: []                    # metrics that must move with the primary before a keep, e.g.:
#  - name: wall_ms_large       # required: a METRIC name (the same workload at a second scale, say)
#    direction: lower          # lower or higher is better

sources:
  order: [queue, sweeps, proposer]  # sources are drained in this order
  queue:
    dir: experiments           # queued *.patch files, tried once each in name order
  sweeps: []                   # one hypothesis per value of a tuning knob, e.g.:
#  - name: buckets             # required, unique: the axis
#    file: src/table.h         # required: the file holding the knob
#    pattern: 'NBUCKETS (\d+)' # required: a regex with one capture group, replaced by each value
#    values: [1024, 4096, 16384]
#    mechanism: ""             # optional: why this knob should matter
  proposer:
    command: ""                # optional: a command (coding agent, script) that edits files to propose a change
    timeout: 30m               # a proposer that takes longer is recorded as a timeout
    notes: ""                  # optional file (e.g. a profile) included in the proposer's context
    recent: 20                 # experiments listed in the proposer's context

limits:
  max_experiments: 0           # stop after this many experiments; 0: no limit
  max_duration: 0s             # stop after this long, e.g. 8h; 0s: no limit
  max_consecutive_failures: 0  # stop after this many failed experiments in a row; 0: no limit
  target: null                 # stop once the best primary metric reaches this value; null: never
  retry_interrupted: 1         # times a hypothesis cut short by a signal or crash is tried again
  max_log_mb: 64               # cap of one experiment's log in .autoresearch/logs (head and tail kept)
  plateau: 0                   # experiments in a row without a keep before on_plateau applies; 0: off
  on_plateau: stop             # stop, or next_source (go on with the next source in sources.order)

calibration:                   # the A/A run: the base measured against itself to learn the noise
  pairs: 8                     # base/base pairs (also `autoresearch calibrate`)
  on_start: true               # calibrate when a session starts; refuse to run a harness that fails it

verify:
  pairs: 0                     # pairs for `autoresearch verify` (start commit vs best); 0: 2 x max_pairs

hooks:                         # optional commands around each experiment; JSON of session and experiment on stdin
  before:
    command: ""                # run before each experiment, e.g. to fetch notes for the next proposal
    timeout: 1m                # a hook that takes longer is stopped (the experiment goes on)
  after:
    command: ""                # run after each experiment is recorded, e.g. to notify or tag winners
    timeout: 1m                # a hook that takes longer is stopped
)";
}

} // namespace ar::config
