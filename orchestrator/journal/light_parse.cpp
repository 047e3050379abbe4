#include "journal/light_parse.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace ar::journal {

using nlohmann::json;

namespace {

constexpr std::size_t k_bad = std::string_view::npos;

std::size_t skip_ws(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return i;
}

// s[i] is '"': the index after the closing quote.
std::size_t skip_string(std::string_view s, std::size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return k_bad;
}

// The index after the value starting at s[i].
std::size_t skip_value(std::string_view s, std::size_t i) {
  if (i >= s.size()) return k_bad;
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c == '"') {
        i = skip_string(s, i);
        if (i == k_bad) return k_bad;
        --i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return k_bad;
  }
  std::size_t j = i;
  while (j < s.size() && std::strchr(",}] \t\r\n", s[j]) == nullptr) ++j;
  return j == i ? k_bad : j;
}

// Calls on(key, value text) for each member of the object at s (all of s); false on bad structure.
template <typename F>
bool members(std::string_view s, F on) {
  std::size_t i = skip_ws(s, 0);
  if (i >= s.size() || s[i] != '{') return false;
  i = skip_ws(s, i + 1);
  if (i < s.size() && s[i] == '}') return skip_ws(s, i + 1) == s.size();
  while (true) {
    if (i >= s.size() || s[i] != '"') return false;
    std::size_t key_end = skip_string(s, i);
    if (key_end == k_bad) return false;
    std::string_view key = s.substr(i + 1, key_end - i - 2);
    if (key.find('\\') != std::string_view::npos) return false;
    i = skip_ws(s, key_end);
    if (i >= s.size() || s[i] != ':') return false;
    i = skip_ws(s, i + 1);
    std::size_t end = skip_value(s, i);
    if (end == k_bad) return false;
    if (!on(key, s.substr(i, end - i))) return false;
    i = skip_ws(s, end);
    if (i >= s.size()) return false;
    if (s[i] == '}') return skip_ws(s, i + 1) == s.size();
    if (s[i] != ',') return false;
    i = skip_ws(s, i + 1);
  }
}

// A scalar the quick way (most values are plain strings and numbers); anything else through the
// full parser. Integers come out as nlohmann's parser makes them (unsigned when not negative).
json value_of(std::string_view t) {
  if (t.size() >= 2 && t.front() == '"' && t.find('\\') == std::string_view::npos) {
    return std::string(t.substr(1, t.size() - 2));
  }
  if (t == "true") return true;
  if (t == "false") return false;
  if (t == "null") return nullptr;
  bool integral = !t.empty() && t.find_first_not_of("-0123456789") == std::string_view::npos &&
                  t.find_first_of("0123456789") != std::string_view::npos && t.size() < 19 &&
                  (t.front() != '0' || t.size() == 1) && t.find('-', 1) == std::string_view::npos;
  if (integral) {
    std::string digits(t);
    if (t.front() == '-') return static_cast<std::int64_t>(std::strtoll(digits.c_str(), nullptr, 10));
    return static_cast<std::uint64_t>(std::strtoull(digits.c_str(), nullptr, 10));
  }
  return json::parse(t.begin(), t.end(), nullptr, false);
}

bool parse_into(json& out, std::string_view key, std::string_view text) {
  json v = value_of(text);
  if (v.is_discarded()) return false;
  out[std::string(key)] = std::move(v);
  return true;
}

// Object-valued fields a summary does not read: an object stays an empty object (the type is what
// validation checks); anything else is parsed so that validation reports it.
bool shell_or_parse(json& out, std::string_view key, std::string_view text) {
  if (text.front() == '{') {
    out[std::string(key)] = json::object();
    return true;
  }
  return parse_into(out, key, text);
}

}  // namespace

std::optional<json> parse_for_summary(std::string_view line) {
  json out = json::object();
  bool ok = members(line, [&](std::string_view key, std::string_view text) {
    if (key == "gates" || key == "warnings" || key == "benchmark_tail" || key == "started_at" || key == "finished_at") {
      return true;
    }
    if (key == "asi" && text.front() == '{') {  // a summary reads the sweep's fields only
      json asi = json::object();
      bool inner = members(text, [&](std::string_view k, std::string_view t) {
        return k == "sweep" || k == "value" || k == "from" ? parse_into(asi, k, t) : true;
      });
      out["asi"] = std::move(asi);
      return inner;
    }
    if (key == "metrics" || key == "guards" || key == "confirms" || key == "durations" || key == "decision") {
      return shell_or_parse(out, key, text);
    }
    if (key == "metric" && text.front() == '{') {
      json metric = json::object();
      bool inner = members(text, [&](std::string_view k, std::string_view t) {
        return k == "base" || k == "candidate" ? true : parse_into(metric, k, t);
      });
      out["metric"] = std::move(metric);
      return inner;
    }
    return parse_into(out, key, text);
  });
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace ar::journal
