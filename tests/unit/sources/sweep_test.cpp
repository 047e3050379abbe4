// sources::apply_sweep and sweep_key: the one edit a sweep point makes to its file.

#include "sources/sweep.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace ar::sources {
namespace {

TEST(SweepApply, OnlyTheFirstMatchChanges) {
  const std::string text = "SIZE=16\nother=1\nSIZE=32\n";
  SweepEdit e = apply_sweep(text, R"(SIZE=(\d+))", "64");
  ASSERT_TRUE(e.found);
  EXPECT_EQ(e.current, "16");
  EXPECT_EQ(e.text, "SIZE=64\nother=1\nSIZE=32\n");
}

TEST(SweepApply, OnlyTheGroupIsReplacedAndEveryOtherByteIsKept) {
  // The match is wider than the group; text around both, CRLF endings and a missing final newline
  // stay as they are.
  const std::string text = "// threshold = 2 in the comment is later\r\nint x;\r\nconst int threshold = 8; // tuned\r\nend";
  SweepEdit e = apply_sweep(text, R"(const int threshold = (\d+);)", "12");
  ASSERT_TRUE(e.found);
  EXPECT_EQ(e.current, "8");
  EXPECT_EQ(e.text, "// threshold = 2 in the comment is later\r\nint x;\r\nconst int threshold = 12; // tuned\r\nend");
}

TEST(SweepApply, ValueIsInsertedLiterallyNotAsAReplacementFormat) {
  // "$1", "$&" and "\\1" mean something to std::regex_replace; a sweep value is plain text.
  SweepEdit e = apply_sweep("mode=fast;", "mode=([a-z]+);", "$1$&\\1");
  ASSERT_TRUE(e.found);
  EXPECT_EQ(e.text, "mode=$1$&\\1;");
}

TEST(SweepApply, GroupMayBeEmptyOrTheWholeText) {
  SweepEdit empty = apply_sweep("flags=\n", "flags=(.*)", "-O2");
  ASSERT_TRUE(empty.found);
  EXPECT_EQ(empty.current, "");
  EXPECT_EQ(empty.text, "flags=-O2\n");

  SweepEdit whole = apply_sweep("42", "([0-9]+)", "7");
  ASSERT_TRUE(whole.found);
  EXPECT_EQ(whole.text, "7");
}

TEST(SweepApply, NotFound) {
  SweepEdit e = apply_sweep("SIZE=big\n", R"(SIZE=(\d+))", "64");
  EXPECT_FALSE(e.found);
  EXPECT_EQ(e.current, "");
  EXPECT_FALSE(apply_sweep("", R"(SIZE=(\d+))", "64").found);
}

TEST(SweepApply, AGroupThatDidNotTakePartIsNotAMatch) {
  // The pattern matches, but its group is optional and unmatched: there is nothing to replace.
  EXPECT_FALSE(apply_sweep("ac", "a(b)?c", "x").found);
}

TEST(SweepApply, SameValueGivesTheSameText) {
  const std::string text = "SIZE=64\n";
  SweepEdit e = apply_sweep(text, R"(SIZE=(\d+))", "64");
  ASSERT_TRUE(e.found);
  EXPECT_EQ(e.current, "64");
  EXPECT_EQ(e.text, text);
}

TEST(SweepApply, BadPatternThrowsRegexError) {
  EXPECT_THROW(apply_sweep("x", "SIZE=(\\d+", "1"), std::regex_error);
}

TEST(SweepKey, NamesTheSweepAndTheValue) {
  EXPECT_EQ(sweep_key("size", "64"), "sweep:size=64");
  EXPECT_NE(sweep_key("size", "64"), sweep_key("size", "128"));
  EXPECT_NE(sweep_key("a", "1"), sweep_key("b", "1"));
}

} // namespace
} // namespace ar::sources
