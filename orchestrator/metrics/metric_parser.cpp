#include "metrics/metric_parser.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <locale>
#include <sstream>

namespace ar::metrics {
namespace {

constexpr std::string_view k_prefix = "METRIC";
constexpr std::size_t k_max_rejected_text = 200;
// 'µ' (U+00B5) in UTF-8.
constexpr char k_micro_lead = '\xC2';
constexpr char k_micro_trail = '\xB5';

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_space(char c) { return is_blank(c) || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

bool is_ascii_name_char(char c) {
  return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '.';
}

bool equals_nocase(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// Length of the longest prefix of `text` that matches the number grammar
// [+-]? (digits ('.' digits?)? | '.' digits) ([eE] [+-]? digits)?, or 0 when none does.
// `dangling_exponent` is set when an 'e' follows the mantissa without exponent digits, so the
// caller can name that mistake instead of calling it trailing text.
std::size_t number_prefix(std::string_view text, bool& dangling_exponent) {
  dangling_exponent = false;
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  std::size_t int_digits = 0;
  while (i < text.size() && is_digit(text[i])) ++i, ++int_digits;
  std::size_t frac_digits = 0;
  if (i < text.size() && text[i] == '.') {
    std::size_t j = i + 1;
    while (j < text.size() && is_digit(text[j])) ++j, ++frac_digits;
    if (int_digits + frac_digits > 0) i = j;
  }
  if (int_digits + frac_digits == 0) return 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    std::size_t exp_digits = 0;
    while (j < text.size() && is_digit(text[j])) ++j, ++exp_digits;
    if (exp_digits > 0) {
      i = j;
    } else {
      dangling_exponent = true;
    }
  }
  return i;
}

// The conversion itself, once the grammar has been checked: strtod honours LC_NUMERIC's decimal
// point, so when it does not consume the whole text (a locale with ','), fall back to a stream
// pinned to the classic locale.
std::optional<double> convert(const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) {
    std::istringstream in(text);
    in.imbue(std::locale::classic());
    in >> value;
    if (in.fail() || in.peek() != std::char_traits<char>::eof()) return std::nullopt;
  }
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

// Why `value` (trailing whitespace already removed) is not a number; empty when it is one.
std::string number_problem(std::string_view value) {
  if (value.empty()) return "empty value";
  std::string_view unsigned_part = value;
  if (unsigned_part.front() == '+' || unsigned_part.front() == '-') unsigned_part.remove_prefix(1);
  if (unsigned_part.size() >= 2 && unsigned_part[0] == '0' &&
      (unsigned_part[1] == 'x' || unsigned_part[1] == 'X'))
    return "hex numbers are not accepted";
  if (equals_nocase(unsigned_part, "inf") || equals_nocase(unsigned_part, "infinity"))
    return "inf is not accepted";
  if (equals_nocase(unsigned_part, "nan")) return "nan is not accepted";
  if (is_blank(value.front())) return "space after '='";

  bool dangling_exponent = false;
  std::size_t used = number_prefix(value, dangling_exponent);
  if (used == 0) return "not a number \"" + std::string(value) + "\"";
  if (used < value.size()) {
    if (dangling_exponent && used + 1 == value.size()) return "exponent without digits";
    std::string_view rest = value.substr(used);
    while (!rest.empty() && is_blank(rest.front())) rest.remove_prefix(1);
    return "trailing text \"" + std::string(rest) + "\"";
  }
  if (!convert(std::string(value))) return "number out of range";
  return {};
}

// Cut to at most `limit` bytes without splitting a UTF-8 sequence.
std::string cut_utf8(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U) --end;
  return std::string(text.substr(0, end));
}

std::string describe_byte(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7F) return std::string("'") + c + "'";
  static constexpr char k_hex[] = "0123456789abcdef";
  return std::string("byte 0x") + k_hex[byte >> 4U] + k_hex[byte & 0x0FU];
}

} // namespace

std::optional<double> parse_number(std::string_view text) {
  bool dangling_exponent = false;
  if (text.empty() || number_prefix(text, dangling_exponent) != text.size()) return std::nullopt;
  return convert(std::string(text));
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::size_t mid = values.size() / 2;
  if (values.size() % 2 == 1) return values[mid];
  return (values[mid - 1] + values[mid]) / 2.0;
}

void MetricScanner::feed(std::string_view line) {
  ++m_lines;
  while (true) {
    std::size_t cr = line.find('\r');
    feed_piece(line.substr(0, cr));
    if (cr == std::string_view::npos) return;
    line.remove_prefix(cr + 1);
  }
}

void MetricScanner::feed_piece(std::string_view line) {
  // "METRIC" must open the line and be followed by blanks: "  METRIC", "metric" and "METRICS"
  // are ordinary output, not malformed metrics, so they pass silently.
  if (line.substr(0, k_prefix.size()) != k_prefix) return;
  std::string_view rest = line.substr(k_prefix.size());
  if (!rest.empty() && !is_blank(rest.front())) return;

  auto reject = [&](std::string why) {
    m_rejected.push_back(Rejected{m_lines, cut_utf8(line, k_max_rejected_text), std::move(why)});
  };

  while (!rest.empty() && is_blank(rest.front())) rest.remove_prefix(1);
  while (!rest.empty() && is_space(rest.back())) rest.remove_suffix(1);
  if (rest.empty()) return reject("missing name and value");

  std::size_t i = 0;
  while (i < rest.size()) {
    if (is_ascii_name_char(rest[i])) {
      ++i;
    } else if (rest[i] == k_micro_lead && i + 1 < rest.size() && rest[i + 1] == k_micro_trail) {
      i += 2;
    } else {
      break;
    }
  }
  std::string_view name = rest.substr(0, i);
  if (i == rest.size() || is_blank(rest[i])) return reject("missing '=' after the name");
  if (rest[i] != '=') return reject("invalid character " + describe_byte(rest[i]) + " in name");
  if (name.empty()) return reject("missing name before '='");

  std::string_view value = rest.substr(i + 1);
  if (std::string why = number_problem(value); !why.empty()) return reject(std::move(why));
  m_values[std::string(name)].push_back(*parse_number(value));
}

std::map<std::string, double> MetricScanner::medians() const {
  std::map<std::string, double> out;
  for (const auto& [name, samples] : m_values) out.emplace(name, median(samples));
  return out;
}

std::map<std::string, double> MetricScanner::reduced(Repeat repeat) const {
  if (repeat == Repeat::median) return medians();
  std::map<std::string, double> out;
  for (const auto& [name, samples] : m_values) out.emplace(name, samples.back());
  return out;
}

} // namespace ar::metrics
