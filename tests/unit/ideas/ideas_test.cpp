#include "ideas/ideas.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ar::ideas {
namespace {

using ar::test::TempDir;
using ar::test::write_text;

TEST(IdeasParse, ListMarkersOfEveryKind) {
  const std::string md =
      "# Ideas\n"                     // 1
      "\n"                            // 2
      "- dash item\n"                 // 3
      "* star item\n"                 // 4
      "1. numbered item\n"            // 5
      "12) paren numbered item\n"     // 6
      "+ plus item\n";                // 7
  std::vector<Idea> ideas = parse_ideas(md);
  ASSERT_EQ(ideas.size(), 5u);
  EXPECT_EQ(ideas[0].text, "dash item");
  EXPECT_EQ(ideas[0].line, 3);
  EXPECT_EQ(ideas[1].text, "star item");
  EXPECT_EQ(ideas[1].line, 4);
  EXPECT_EQ(ideas[2].text, "numbered item");
  EXPECT_EQ(ideas[2].line, 5);
  EXPECT_EQ(ideas[3].text, "paren numbered item");
  EXPECT_EQ(ideas[3].line, 6);
  EXPECT_EQ(ideas[4].text, "plus item");
  for (const Idea& i : ideas) EXPECT_FALSE(i.done) << i.text;
}

TEST(IdeasParse, ProseIsNotAnIdea) {
  const std::string md =
      "Some prose about the plan.\n"
      "-not a list item (no space)\n"
      "1.5x faster would be nice\n"
      "**bold** text\n"
      "---\n";
  EXPECT_TRUE(parse_ideas(md).empty());
}

TEST(IdeasParse, ContinuationLinesJoinWithSpaces) {
  const std::string md =
      "- first idea that\n"       // 1
      "  goes on here\n"          // 2
      "\tand with a tab\n"        // 3
      "- second\n"                // 4
      "\n"                        // 5
      "  indented after a blank line: not a continuation\n"  // 6
      "1. third\n"                // 7
      "   continued\n"            // 8
      "Plain text ends the item\n"  // 9
      "   and this is not part of it\n";  // 10
  std::vector<Idea> ideas = parse_ideas(md);
  ASSERT_EQ(ideas.size(), 3u);
  EXPECT_EQ(ideas[0].text, "first idea that goes on here and with a tab");
  EXPECT_EQ(ideas[0].line, 1);
  EXPECT_EQ(ideas[1].text, "second");
  EXPECT_EQ(ideas[1].line, 4);
  EXPECT_EQ(ideas[2].text, "third continued");
  EXPECT_EQ(ideas[2].line, 7);
}

TEST(IdeasParse, CheckboxesMarkDoneItems) {
  const std::string md =
      "- [ ] open one\n"
      "- [x] finished one\n"
      "* [X] finished, capital\n"
      "- plain\n";
  std::vector<Idea> ideas = parse_ideas(md);
  ASSERT_EQ(ideas.size(), 4u);
  EXPECT_EQ(ideas[0].text, "open one");
  EXPECT_FALSE(ideas[0].done);
  EXPECT_EQ(ideas[1].text, "finished one");
  EXPECT_TRUE(ideas[1].done);
  EXPECT_EQ(ideas[2].text, "finished, capital");
  EXPECT_TRUE(ideas[2].done);
  EXPECT_EQ(ideas[3].text, "plain");
  EXPECT_FALSE(ideas[3].done);
}

TEST(IdeasParse, FencedCodeBlocksAreIgnored) {
  const std::string md =
      "- before\n"             // 1
      "```sh\n"                // 2
      "- not an idea\n"        // 3
      "* nor this\n"           // 4
      "```\n"                  // 5
      "  not a continuation of \"before\" either\n"  // 6
      "- after\n";             // 7
  std::vector<Idea> ideas = parse_ideas(md);
  ASSERT_EQ(ideas.size(), 2u);
  EXPECT_EQ(ideas[0].text, "before");
  EXPECT_EQ(ideas[0].line, 1);
  EXPECT_EQ(ideas[1].text, "after");
  EXPECT_EQ(ideas[1].line, 7);
}

TEST(IdeasParse, CrlfAndAMissingFinalNewline) {
  std::vector<Idea> ideas = parse_ideas("- one\r\n  more\r\n- two");
  ASSERT_EQ(ideas.size(), 2u);
  EXPECT_EQ(ideas[0].text, "one more");
  EXPECT_EQ(ideas[1].text, "two");
  EXPECT_EQ(ideas[1].line, 3);
}

TEST(IdeasParse, EmptyInput) { EXPECT_TRUE(parse_ideas("").empty()); }

TEST(IdeasRead, MissingFileIsEmptyAndAFileIsParsed) {
  TempDir dir;
  EXPECT_TRUE(read_ideas(dir / "ideas.md").empty());
  write_text(dir / "ideas.md", "# Backlog\n\n- [x] fnv hash\n- block reads\n");
  std::vector<Idea> ideas = read_ideas(dir / "ideas.md");
  ASSERT_EQ(ideas.size(), 2u);
  EXPECT_TRUE(ideas[0].done);
  EXPECT_EQ(ideas[0].line, 3);
  EXPECT_EQ(ideas[1].text, "block reads");
  EXPECT_EQ(ideas[1].line, 4);
}

} // namespace
} // namespace ar::ideas
