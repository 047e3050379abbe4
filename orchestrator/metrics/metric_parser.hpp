#pragma once
// METRIC lines (DESIGN §5): `METRIC <name>=<number>` at the start of a line, anywhere in the
// output. Name: [A-Za-z0-9_.µ]+ (µ as UTF-8). Number: decimal or scientific ("12", "-2.5", ".5",
// "1e3", "+4", "2.5E-3"); hex, inf, nan, trailing units or any other trailing text except
// whitespace are rejected with a reason. A carriage return ends a line as '\n' does, so a progress
// bar redrawn with '\r' and then "METRIC x=7" yields the metric. A name seen several times in one
// run is reduced to one value by the session's `metric.repeat` (median or last).

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ar::metrics {

// Strict number grammar above; std::nullopt when the text is not exactly one such number.
std::optional<double> parse_number(std::string_view text);

// Median of the values (mean of the two middle ones for an even count). Precondition: not empty.
double median(std::vector<double> values);

// How a name printed several times in one run becomes the run's value.
enum class Repeat { median, last };

struct Rejected {
  std::size_t line = 0;  // 1-based line number in the run's output ('\n'-separated)
  std::string text;      // the line, cut to 200 bytes
  std::string why;       // "hex numbers are not accepted", "trailing text \"ms\"", ...
};

// Feed it one run's output line by line.
class MetricScanner {
public:
  // One line without its '\n'. Each '\r' in it starts a new piece, read as a line of its own
  // (sharing the line number): a terminal overwrites the line there, so a METRIC after it is what
  // the user saw.
  void feed(std::string_view line);

  const std::map<std::string, std::vector<double>>& values() const { return m_values; }  // in order
  std::map<std::string, double> medians() const;
  std::map<std::string, double> reduced(Repeat repeat) const;
  const std::vector<Rejected>& rejected() const { return m_rejected; }
  std::size_t lines() const { return m_lines; }

private:
  void feed_piece(std::string_view piece);
  std::map<std::string, std::vector<double>> m_values;
  std::vector<Rejected> m_rejected;
  std::size_t m_lines = 0;
};

} // namespace ar::metrics
