// The ideas.md lifecycle: ids (with_ids), outcome marks (with_mark), and the write that never
// loses a concurrent edit (update_file_safely).

#include "ideas/ideas.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace ar::ideas {
namespace {

namespace fs = std::filesystem;
using ar::test::read_text;
using ar::test::TempDir;
using ar::test::write_text;

// ---- with_ids ------------------------------------------------------------------------------

TEST(IdeasIds, EveryItemGetsTheNextFreeIdAndNothingElseChanges) {
  const std::string md =
      "# Ideas\n"
      "\n"
      "Some prose the person wrote.\n"
      "- first idea\n"
      "  continued on the next line\n"
      "* second idea\n"
      "1. third idea\n"
      "- [ ] a checkbox idea\n"
      "\n"
      "Closing words.\n";
  const std::string want =
      "# Ideas\n"
      "\n"
      "Some prose the person wrote.\n"
      "- first idea [#i1]\n"
      "  continued on the next line\n"
      "* second idea [#i2]\n"
      "1. third idea [#i3]\n"
      "- [ ] a checkbox idea [#i4]\n"
      "\n"
      "Closing words.\n";
  EXPECT_EQ(with_ids(md), want);
  std::vector<Idea> ideas = parse_ideas(want);
  ASSERT_EQ(ideas.size(), 4u);
  EXPECT_EQ(ideas[0].id, "i1");
  EXPECT_EQ(ideas[0].text, "first idea continued on the next line");
  EXPECT_EQ(ideas[3].id, "i4");
  EXPECT_EQ(ideas[3].text, "a checkbox idea");
}

TEST(IdeasIds, NumberingContinuesAfterTheHighestIdAndKeepsExistingOnes) {
  const std::string md = "- old [#i7]\n- new one\n- older [#i3]\n- another\n";
  EXPECT_EQ(with_ids(md), "- old [#i7]\n- new one [#i8]\n- older [#i3]\n- another [#i9]\n");
}

TEST(IdeasIds, IdempotentAndUnchangedWhenEveryItemHasOne) {
  const std::string md = "- a\n- b\n\n1. c\n";
  std::string once = with_ids(md);
  EXPECT_NE(once, md);
  EXPECT_EQ(with_ids(once), once);
  EXPECT_EQ(with_ids(with_ids(once)), once);
}

TEST(IdeasIds, CrlfLineEndingsAndAMissingFinalNewlineAreKept) {
  EXPECT_EQ(with_ids("- a\r\n- b\r\n"), "- a [#i1]\r\n- b [#i2]\r\n");
  EXPECT_EQ(with_ids("- a\r\n- b"), "- a [#i1]\r\n- b [#i2]");
  EXPECT_EQ(with_ids("intro\r\n\r\n- only"), "intro\r\n\r\n- only [#i1]");
}

TEST(IdeasIds, FencedCodeEmptyItemsAndSubItemsAreNotIdeas) {
  const std::string md =
      "- real\n"
      "```\n"
      "- in a code block\n"
      "```\n"
      "- \n"
      "  - a nested point of the person\n"
      "- also real\n";
  const std::string want =
      "- real [#i1]\n"
      "```\n"
      "- in a code block\n"
      "```\n"
      "- \n"
      "  - a nested point of the person\n"
      "- also real [#i2]\n";
  EXPECT_EQ(with_ids(md), want);
  EXPECT_EQ(with_ids(want), want);
}

TEST(IdeasIds, AnIdInsideAFenceDoesNotCount) {
  // The fence's "[#i9]" is an example in the person's text, not an id in use.
  const std::string md = "```\n- example [#i9]\n```\n- real\n";
  EXPECT_EQ(with_ids(md), "```\n- example [#i9]\n```\n- real [#i1]\n");
}

// ---- with_mark -----------------------------------------------------------------------------

TEST(IdeasMark, GoesUnderTheItemAfterItsContinuationLines) {
  const std::string md =
      "- first [#i1]\n"
      "  more about it\n"
      "- second [#i2]\n"
      "tail prose\n";
  const std::string want =
      "- first [#i1]\n"
      "  more about it\n"
      "  - autoresearch: kept in experiment 4: -10.0%\n"
      "- second [#i2]\n"
      "tail prose\n";
  std::string got = with_mark(md, "i1", "kept in experiment 4: -10.0%");
  EXPECT_EQ(got, want);
  std::vector<Idea> ideas = parse_ideas(got);
  ASSERT_EQ(ideas.size(), 2u);
  EXPECT_EQ(ideas[0].text, "first more about it") << "a mark is not part of the text";
  EXPECT_EQ(ideas[0].marks, std::vector<std::string>{"kept in experiment 4: -10.0%"});
  EXPECT_TRUE(ideas[1].marks.empty());
}

TEST(IdeasMark, MarksAccumulateOldestFirstAndTheSameMarkIsNotAddedTwice) {
  std::string md = "- idea [#i1]\n- next [#i2]\n";
  md = with_mark(md, "i1", "inconclusive in experiment 1: +0.2%");
  md = with_mark(md, "i1", "dead end in experiment 2: +5.0%; mechanism: more work");
  std::string again = with_mark(md, "i1", "inconclusive in experiment 1: +0.2%");
  EXPECT_EQ(again, md);
  EXPECT_EQ(md,
            "- idea [#i1]\n"
            "  - autoresearch: inconclusive in experiment 1: +0.2%\n"
            "  - autoresearch: dead end in experiment 2: +5.0%; mechanism: more work\n"
            "- next [#i2]\n");
  std::vector<Idea> ideas = parse_ideas(md);
  ASSERT_EQ(ideas.size(), 2u);
  EXPECT_EQ(ideas[0].marks.size(), 2u);
  EXPECT_EQ(ideas[0].marks[1], "dead end in experiment 2: +5.0%; mechanism: more work");
}

TEST(IdeasMark, CrlfAndTheLastLineWithoutNewline) {
  EXPECT_EQ(with_mark("- a [#i1]\r\n- b [#i2]\r\n", "i1", "m"),
            "- a [#i1]\r\n  - autoresearch: m\r\n- b [#i2]\r\n");
  // The item is the file's last line: it gets an ending so the mark is a line of its own.
  std::string got = with_mark("intro\n- a [#i1]", "i1", "m");
  EXPECT_EQ(got.substr(0, std::string("intro\n- a [#i1]\n  - autoresearch: m").size()),
            "intro\n- a [#i1]\n  - autoresearch: m");
  EXPECT_EQ(parse_ideas(got).at(0).marks, std::vector<std::string>{"m"});
  std::string crlf = with_mark("- a [#i1]\r\n  note\r\n", "i1", "m");
  EXPECT_EQ(crlf, "- a [#i1]\r\n  note\r\n  - autoresearch: m\r\n");
}

TEST(IdeasMark, UnknownIdPrefixIdsAndFencesLeaveTextAlone) {
  const std::string md =
      "- twelve [#i12]\n"
      "```\n"
      "- fenced [#i1]\n"
      "```\n"
      "- one [#i1]\n";
  EXPECT_EQ(with_mark(md, "i99", "m"), md);
  std::string got = with_mark(md, "i1", "m");
  EXPECT_EQ(got,
            "- twelve [#i12]\n"
            "```\n"
            "- fenced [#i1]\n"
            "```\n"
            "- one [#i1]\n"
            "  - autoresearch: m\n");
}

TEST(IdeasMark, IdsAndMarksRoundTripThroughParse) {
  std::string md = with_ids("- alpha\n- [x] beta\n- gamma\n");
  md = with_mark(md, "i3", "kept in experiment 9: -3.0%");
  std::vector<Idea> ideas = parse_ideas(md);
  ASSERT_EQ(ideas.size(), 3u);
  EXPECT_EQ(ideas[1].id, "i2");
  EXPECT_TRUE(ideas[1].done);
  EXPECT_EQ(ideas[2].id, "i3");
  EXPECT_EQ(ideas[2].marks, std::vector<std::string>{"kept in experiment 9: -3.0%"});
  // Giving ids again after a mark changes nothing: the mark line is no item.
  EXPECT_EQ(with_ids(md), md);
}

// ---- update_file_safely --------------------------------------------------------------------

struct FileId {
  ino_t ino = 0;
  struct timespec mtime {};
};

FileId file_id(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return {st.st_ino, st.st_mtim};
}

std::vector<std::string> leftovers(const fs::path& dir, const std::string& keep) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename() != keep) out.push_back(e.path().filename().string());
  }
  return out;
}

void append_in_place(const fs::path& p, const std::string& text) {
  int fd = ::open(p.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
}

TEST(IdeasUpdateSafely, NoChangeMeansNoWrite) {
  TempDir tmp;
  fs::path p = tmp / "ideas.md";
  write_text(p, "- a [#i1]\n");
  FileId before = file_id(p);
  int calls = 0;
  EXPECT_TRUE(update_file_safely(p, [&](const std::string& t) {
    ++calls;
    return t;
  }));
  EXPECT_EQ(calls, 1);
  FileId after = file_id(p);
  EXPECT_EQ(after.ino, before.ino) << "the file was replaced although nothing changed";
  EXPECT_EQ(after.mtime.tv_sec, before.mtime.tv_sec);
  EXPECT_EQ(after.mtime.tv_nsec, before.mtime.tv_nsec);
  EXPECT_TRUE(update_file_safely(p, with_ids));
  EXPECT_EQ(file_id(p).ino, before.ino);
  EXPECT_EQ(read_text(p), "- a [#i1]\n");
}

TEST(IdeasUpdateSafely, AChangeIsWrittenAtomicallyKeepingPermissions) {
  TempDir tmp;
  fs::path p = tmp / "ideas.md";
  write_text(p, "- a\n- b\n");
  ASSERT_EQ(::chmod(p.c_str(), 0640), 0);
  EXPECT_TRUE(update_file_safely(p, with_ids));
  EXPECT_EQ(read_text(p), "- a [#i1]\n- b [#i2]\n");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_TRUE(leftovers(tmp.path(), "ideas.md").empty()) << "a temp file was left behind";
}

TEST(IdeasUpdateSafely, MissingFileIsFalseAndNotCreated) {
  TempDir tmp;
  fs::path p = tmp / "ideas.md";
  int calls = 0;
  EXPECT_FALSE(update_file_safely(p, [&](const std::string& t) {
    ++calls;
    return t + "x";
  }));
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(fs::exists(p));
}

TEST(IdeasUpdateSafely, AnInPlaceEditDuringTheTransformIsKeptAndTransformed) {
  // The person appends to the file (in place, like `>>`) while the loop is computing its version:
  // the loop must notice, start over from the person's text, and keep both.
  TempDir tmp;
  fs::path p = tmp / "ideas.md";
  write_text(p, "- a [#i1]\n");
  int calls = 0;
  EXPECT_TRUE(update_file_safely(p, [&](const std::string& t) {
    if (++calls == 1) append_in_place(p, "- written by the person\n");
    return with_mark(t, "i1", "kept in experiment 1: -5.0%");
  }));
  EXPECT_GE(calls, 2) << "the conflict was not noticed";
  EXPECT_EQ(read_text(p),
            "- a [#i1]\n"
            "  - autoresearch: kept in experiment 1: -5.0%\n"
            "- written by the person\n");
  EXPECT_TRUE(leftovers(tmp.path(), "ideas.md").empty());
}

TEST(IdeasUpdateSafely, AReplacementDuringTheTransformIsKeptAndTransformed) {
  // An editor that saves by writing a new file and renaming it over the old one.
  TempDir tmp;
  fs::path p = tmp / "ideas.md";
  write_text(p, "- a [#i1]\n");
  int calls = 0;
  EXPECT_TRUE(update_file_safely(p, [&](const std::string& t) {
    if (++calls == 1) {
      write_text(tmp / "editor.swp", "# My ideas\n- a [#i1]\n- b\n");
      fs::rename(tmp / "editor.swp", p);
    }
    return with_ids(with_mark(t, "i1", "dead end in experiment 2: +3.0%"));
  }));
  EXPECT_GE(calls, 2) << "the conflict was not noticed";
  EXPECT_EQ(read_text(p), "# My ideas\n- a [#i1]\n  - autoresearch: dead end in experiment 2: +3.0%\n- b [#i2]\n");
  EXPECT_TRUE(leftovers(tmp.path(), "ideas.md").empty());
}

TEST(IdeasUpdateSafely, EndlessConflictsGiveUpWithAnErrorAndLoseNothing) {
  TempDir tmp;
  fs::path p = tmp / "ideas.md";
  write_text(p, "- a [#i1]\n");
  int calls = 0;
  std::string person = "- a [#i1]\n";
  EXPECT_THROW(update_file_safely(p,
                                  [&](const std::string& t) {
                                    std::string line = "- edit " + std::to_string(++calls) + "\n";
                                    append_in_place(p, line);
                                    person += line;
                                    return t + "  - autoresearch: never lands\n";
                                  }),
               ar::Error);
  EXPECT_GT(calls, 10);
  EXPECT_EQ(read_text(p), person) << "every edit the person made survives, and nothing half-written";
  EXPECT_TRUE(leftovers(tmp.path(), "ideas.md").empty());
}

} // namespace
} // namespace ar::ideas
