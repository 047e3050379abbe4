#include "util/glob.hpp"

#include <gtest/gtest.h>

namespace ar::util {
namespace {

TEST(GlobMatch, LiteralPathMatchesOnlyItself) {
  EXPECT_TRUE(glob_match("src/main.c", "src/main.c"));
  EXPECT_FALSE(glob_match("src/main.c", "src/main.cc"));
  EXPECT_FALSE(glob_match("src/main.c", "lib/src/main.c"));  // patterns are anchored at the root
  EXPECT_FALSE(glob_match("main.c", "src/main.c"));
}

TEST(GlobMatch, StarStaysWithinOneSegment) {
  EXPECT_TRUE(glob_match("src/*.c", "src/main.c"));
  EXPECT_TRUE(glob_match("src/*.c", "src/.c"));
  EXPECT_FALSE(glob_match("src/*.c", "src/sub/main.c"));
  EXPECT_FALSE(glob_match("src/*.c", "src/main.h"));
  EXPECT_TRUE(glob_match("*", "README"));
  EXPECT_FALSE(glob_match("*", "src/a.c"));
  EXPECT_TRUE(glob_match("src/*/x.c", "src/a/x.c"));
  EXPECT_FALSE(glob_match("src/*/x.c", "src/x.c"));
}

TEST(GlobMatch, StarBacktracksAcrossRepeatedText) {
  EXPECT_TRUE(glob_match("*ab*ab", "abababab"));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(glob_match("*.tar.gz", "x.tar.tar.gz"));
  EXPECT_FALSE(glob_match("*.tar.gz", "x.tar.gzip"));
}

TEST(GlobMatch, QuestionMarkIsOneCharacter) {
  EXPECT_TRUE(glob_match("v?.txt", "v1.txt"));
  EXPECT_FALSE(glob_match("v?.txt", "v12.txt"));
  EXPECT_FALSE(glob_match("v?.txt", "v.txt"));
  EXPECT_FALSE(glob_match("a?b", "a/b"));
  // A multi-byte UTF-8 character is one character.
  EXPECT_TRUE(glob_match("?s.txt", "\xC2\xB5s.txt"));
  EXPECT_FALSE(glob_match("??s.txt", "\xC2\xB5s.txt"));
}

TEST(GlobMatch, DoubleStarMatchesZeroOrMoreSegments) {
  EXPECT_TRUE(glob_match("src/**/x.c", "src/x.c"));
  EXPECT_TRUE(glob_match("src/**/x.c", "src/a/x.c"));
  EXPECT_TRUE(glob_match("src/**/x.c", "src/a/b/c/x.c"));
  EXPECT_FALSE(glob_match("src/**/x.c", "src/a/y.c"));
  EXPECT_FALSE(glob_match("src/**/x.c", "lib/a/x.c"));
  EXPECT_TRUE(glob_match("**/*.lock", "Cargo.lock"));
  EXPECT_TRUE(glob_match("**/*.lock", "a/b/yarn.lock"));
  EXPECT_FALSE(glob_match("**/*.lock", "a/b/yarn.locked"));
  EXPECT_TRUE(glob_match("**", "anything/at/all"));
  EXPECT_TRUE(glob_match("a/**/b/**/c", "a/x/b/y/z/c"));
  EXPECT_TRUE(glob_match("a/**/**/c", "a/c"));
}

TEST(GlobMatch, FolderPatternCoversEverythingBeneath) {
  EXPECT_TRUE(glob_match("gates", "gates/check.sh"));
  EXPECT_TRUE(glob_match("gates/", "gates/check.sh"));
  EXPECT_TRUE(glob_match("gates", "gates/sub/deep/check.sh"));
  EXPECT_TRUE(glob_match("gates", "gates"));
  EXPECT_FALSE(glob_match("gates", "gatesX/check.sh"));
  EXPECT_FALSE(glob_match("gates", "other/gates/check.sh"));
  EXPECT_TRUE(glob_match("bench/data", "bench/data/input.bin"));
  EXPECT_FALSE(glob_match("bench/data", "bench/database.c"));
}

TEST(GlobMatch, TrailingDoubleStarCoversFolder) {
  EXPECT_TRUE(glob_match("gates/**", "gates/check.sh"));
  EXPECT_TRUE(glob_match("gates/**", "gates/a/b/check.sh"));
  EXPECT_FALSE(glob_match("gates/**", "gatesX/check.sh"));
  EXPECT_FALSE(glob_match("src/**", "include/a.h"));
}

TEST(GlobMatch, WildcardPatternWithoutSlashDoesNotCoverFolderContents) {
  // "src/*.d" names files, not folders: a folder called "x.d" does not put its contents in scope.
  EXPECT_FALSE(glob_match("src/*.d", "src/x.d/inner.c"));
  // With a trailing slash the pattern names folders, and covers what is in them.
  EXPECT_TRUE(glob_match("src/*.d/", "src/x.d/inner.c"));
}

TEST(GlobMatch, DotSlashAndRepeatedSlashesAreIgnored) {
  EXPECT_TRUE(glob_match("./src/a.c", "src/a.c"));
  EXPECT_TRUE(glob_match("src//a.c", "src/a.c"));
}

TEST(GlobMatch, BackslashEscapesAWildcard) {
  EXPECT_TRUE(glob_match("a\\*b", "a*b"));
  EXPECT_FALSE(glob_match("a\\*b", "aXb"));
  // An escaped pattern has no wildcards, so it still names a folder.
  EXPECT_TRUE(glob_match("what\\?", "what?/x"));
}

TEST(GlobMatch, EmptyPatternOrPathMatchesNothing) {
  EXPECT_FALSE(glob_match("", "a.c"));
  EXPECT_FALSE(glob_match("/", "a.c"));
  EXPECT_FALSE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("**", ""));
}

TEST(GlobFirstMatch, ReturnsFirstMatchingPatternOrNull) {
  const std::vector<std::string> patterns{"docs/", "src/**/*.c", "src/"};
  const std::string* hit = first_match(patterns, "src/a/b.c");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(*hit, "src/**/*.c");
  EXPECT_EQ(hit, &patterns[1]);  // a pointer into the vector, not a copy

  hit = first_match(patterns, "src/a/b.h");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(*hit, "src/");

  EXPECT_EQ(first_match(patterns, "README.md"), nullptr);
  EXPECT_EQ(first_match({}, "README.md"), nullptr);
}

} // namespace
} // namespace ar::util
