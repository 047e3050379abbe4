#include "metrics/metric_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ar::metrics {
namespace {

// Feeds one line and returns the scanner, for single-line grammar checks.
MetricScanner scan(std::string_view line) {
  MetricScanner scanner;
  scanner.feed(line);
  return scanner;
}

TEST(MetricNumber, AcceptsDecimalAndScientificForms) {
  struct Case {
    const char* text;
    double value;
  };
  const std::vector<Case> cases = {
      {"12", 12},     {"-2.5", -2.5},     {".5", 0.5},   {"1e3", 1000},
      {"2.5E-3", 2.5e-3}, {"+4", 4},      {"0", 0},      {"5.", 5},
      {"-.25e+2", -25},   {"1e-999", 0},
  };
  for (const auto& c : cases) {
    auto parsed = parse_number(c.text);
    ASSERT_TRUE(parsed.has_value()) << c.text;
    EXPECT_DOUBLE_EQ(*parsed, c.value) << c.text;
  }
}

TEST(MetricNumber, RejectsEverythingElse) {
  for (const char* text : {"", "0x10", "inf", "-inf", "nan", "infinity", "12ms", "12 ms", "1e",
                           "1.2.3", ".", "+", "-", "e5", " 12", "12 ", "1,5", "1e999", "--1"}) {
    EXPECT_FALSE(parse_number(text).has_value()) << '"' << text << '"';
  }
}

TEST(MetricMedian, OddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(median({7}), 7);
}

TEST(MetricScanner, ReadsValidLines) {
  MetricScanner scanner;
  scanner.feed("METRIC a=12");
  scanner.feed("METRIC b=-2.5");
  scanner.feed("METRIC c=.5");
  scanner.feed("METRIC d=1e3");
  scanner.feed("METRIC e=2.5E-3");
  scanner.feed("METRIC f=+4");
  scanner.feed("METRIC g=7   ");
  scanner.feed("METRIC h=8\r");
  scanner.feed("METRIC i=9 \t \r");
  scanner.feed("METRIC\tj=10");
  EXPECT_TRUE(scanner.rejected().empty());
  const std::map<std::string, double> expected = {
      {"a", 12}, {"b", -2.5}, {"c", 0.5}, {"d", 1000}, {"e", 2.5e-3},
      {"f", 4},  {"g", 7},    {"h", 8},   {"i", 9},    {"j", 10},
  };
  EXPECT_EQ(scanner.medians(), expected);
  EXPECT_EQ(scanner.lines(), 10u);
}

TEST(MetricScanner, NameCharacters) {
  auto scanner = scan("METRIC total_µs.p99_2=3");
  EXPECT_TRUE(scanner.rejected().empty());
  ASSERT_EQ(scanner.values().count("total_µs.p99_2"), 1u);
  EXPECT_EQ(scanner.values().at("total_µs.p99_2"), std::vector<double>{3});

  for (const char* line : {"METRIC a-b=1", "METRIC a/b=1", "METRIC ü=1", "METRIC a\xC2=1"}) {
    auto bad = scan(line);
    EXPECT_TRUE(bad.values().empty()) << line;
    ASSERT_EQ(bad.rejected().size(), 1u) << line;
    EXPECT_NE(bad.rejected()[0].why.find("in name"), std::string::npos) << bad.rejected()[0].why;
  }
  auto empty_name = scan("METRIC =5");
  ASSERT_EQ(empty_name.rejected().size(), 1u);
  EXPECT_NE(empty_name.rejected()[0].why.find("missing name"), std::string::npos);
}

TEST(MetricScanner, RejectsBadValuesWithAReason) {
  struct Case {
    const char* line;
    const char* why;  // a substring of the expected reason
  };
  const std::vector<Case> cases = {
      {"METRIC t=0x10", "hex"},
      {"METRIC t=inf", "inf"},
      {"METRIC t=-inf", "inf"},
      {"METRIC t=nan", "nan"},
      {"METRIC t=NaN", "nan"},
      {"METRIC t=12ms", "trailing text \"ms\""},
      {"METRIC t=12 ms", "trailing text \"ms\""},
      {"METRIC t=", "empty value"},
      {"METRIC t=   ", "empty value"},
      {"METRIC t=1e", "exponent"},
      {"METRIC t=1.2.3", "trailing text \".3\""},
      {"METRIC t=abc", "not a number"},
      {"METRIC t= 12", "space"},
      {"METRIC t=1e999", "out of range"},
      {"METRIC t 12", "missing '='"},
      {"METRIC t", "missing '='"},
      {"METRIC t = 12", "missing '='"},
      {"METRIC", "missing name"},
  };
  for (const auto& c : cases) {
    auto scanner = scan(c.line);
    EXPECT_TRUE(scanner.values().empty()) << c.line;
    ASSERT_EQ(scanner.rejected().size(), 1u) << c.line;
    const Rejected& r = scanner.rejected()[0];
    EXPECT_EQ(r.line, 1u);
    EXPECT_EQ(r.text, c.line);
    EXPECT_NE(r.why.find(c.why), std::string::npos) << c.line << " -> " << r.why;
  }
}

TEST(MetricScanner, OrdinaryLinesAreNotMetricLines) {
  MetricScanner scanner;
  for (const char* line : {"  METRIC t=1", "\tMETRIC t=1", "metric t=1", "Metric t=1",
                           "METRICS t=1", "METRIC_t=1", "the METRIC t=1", "", "hello"}) {
    scanner.feed(line);
  }
  EXPECT_TRUE(scanner.values().empty());
  EXPECT_TRUE(scanner.rejected().empty());
  EXPECT_EQ(scanner.lines(), 9u);
}

TEST(MetricScanner, RepeatedNamesReduceToMedian) {
  MetricScanner scanner;
  for (const char* line : {"METRIC odd=5", "METRIC even=10", "METRIC odd=1", "METRIC even=40",
                           "METRIC odd=100", "METRIC even=20", "METRIC even=30"}) {
    scanner.feed(line);
  }
  EXPECT_EQ(scanner.values().at("odd"), (std::vector<double>{5, 1, 100}));
  auto medians = scanner.medians();
  EXPECT_DOUBLE_EQ(medians.at("odd"), 5);
  EXPECT_DOUBLE_EQ(medians.at("even"), 25);
}

TEST(MetricScanner, RepeatLastKeepsTheLastValueOfEachName) {
  MetricScanner scanner;
  for (const char* line : {"METRIC a=5", "METRIC b=10", "METRIC a=1", "METRIC a=100", "METRIC b=7"}) {
    scanner.feed(line);
  }
  auto last = scanner.reduced(Repeat::last);
  EXPECT_DOUBLE_EQ(last.at("a"), 100);
  EXPECT_DOUBLE_EQ(last.at("b"), 7);
  EXPECT_EQ(scanner.reduced(Repeat::median), scanner.medians());
}

TEST(MetricScanner, CarriageReturnStartsANewLine) {
  MetricScanner scanner;
  // A progress bar redrawn in place, then the metric, as a terminal shows it.
  scanner.feed("loading  10%\rloading 100%\rMETRIC x=7");
  scanner.feed("METRIC y=1\rMETRIC y=3\r");
  scanner.feed("\rMETRIC bad=0x10\rdone");
  EXPECT_EQ(scanner.values().at("x"), (std::vector<double>{7}));
  EXPECT_EQ(scanner.values().at("y"), (std::vector<double>{1, 3}));
  ASSERT_EQ(scanner.rejected().size(), 1u);
  EXPECT_EQ(scanner.rejected()[0].line, 3u);  // numbered by '\n' lines, as in the log
  EXPECT_EQ(scanner.rejected()[0].text, "METRIC bad=0x10");
  EXPECT_EQ(scanner.lines(), 3u);
}

TEST(MetricScanner, RejectedLinesCarryOneBasedLineNumbers) {
  MetricScanner scanner;
  scanner.feed("warming up");
  scanner.feed("METRIC ok=1");
  scanner.feed("METRIC bad=0x1f");
  scanner.feed("");
  scanner.feed("METRIC worse=12 ms");
  ASSERT_EQ(scanner.rejected().size(), 2u);
  EXPECT_EQ(scanner.rejected()[0].line, 3u);
  EXPECT_EQ(scanner.rejected()[1].line, 5u);
  EXPECT_EQ(scanner.lines(), 5u);
  EXPECT_EQ(scanner.medians().at("ok"), 1);
}

TEST(MetricScanner, RejectedTextIsCutTo200BytesOnACharacterBoundary) {
  // 'µ' is two bytes; starting at an odd offset puts byte 200 inside one of them.
  std::string line = "METRIC x=1 ";
  while (line.size() < 400) line += "µ";
  auto scanner = scan(line);
  ASSERT_EQ(scanner.rejected().size(), 1u);
  const std::string& text = scanner.rejected()[0].text;
  EXPECT_LE(text.size(), 200u);
  EXPECT_GE(text.size(), 199u);
  EXPECT_EQ(line.compare(0, text.size(), text), 0);
  EXPECT_NE(static_cast<unsigned char>(text.back()), 0xC2);
}

TEST(MetricScanner, FindsAMetricAfterMoreThanAMegabyteOfOutput) {
  MetricScanner scanner;
  const std::string filler(999, 'x');
  std::size_t total = 0;
  std::size_t count = 0;
  while (total <= 1'100'000) {
    scanner.feed(filler);
    total += filler.size() + 1;
    ++count;
  }
  scanner.feed("METRIC late=42");
  scanner.feed("METRIC late_bad=4x");
  EXPECT_EQ(scanner.medians().at("late"), 42);
  ASSERT_EQ(scanner.rejected().size(), 1u);
  EXPECT_EQ(scanner.rejected()[0].line, count + 2);
  EXPECT_EQ(scanner.lines(), count + 2);
}

} // namespace
} // namespace ar::metrics
