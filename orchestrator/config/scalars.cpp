// Durations and percentages as the config writes them ("90s", "1%"), in both directions. These
// live apart from the YAML reader because the journal and reports format durations too.

#include "config/yaml_nodes.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <system_error>
#include <utility>

namespace ar::config {

namespace detail {

namespace {

// About 30 000 years: far past any sensible setting, far below int64 overflow.
constexpr double k_max_duration_ms = 1e15;

}  // namespace

// from_chars, unlike strtod, is locale-independent and rejects hex and a leading '+'.
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

}  // namespace detail

std::optional<Duration> parse_duration(std::string_view text) {
  const auto ms = detail::parse_signed_duration_ms(text);
  if (!ms || *ms < 0) return std::nullopt;
  return Duration(*ms);
}

std::optional<double> parse_percent(std::string_view text) {
  if (!text.empty() && text.back() == '%') {
    const auto value = detail::parse_number(text.substr(0, text.size() - 1));
    if (!value || !(*value >= 0)) return std::nullopt;
    return *value / 100.0;
  }
  // A bare "5" is refused rather than read as 500%: it almost always means 5%.
  const auto value = detail::parse_number(text);
  if (!value || !(*value >= 0 && *value < 1)) return std::nullopt;
  return *value;
}

std::string format_duration(Duration d) {
  using namespace detail;
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

}  // namespace ar::config
