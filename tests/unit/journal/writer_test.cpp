// journal::Writer: appends while the journal is as the loop left it, and refuses, appending
// nothing, once anything else changed it.

#include "journal/writer.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

namespace ar::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json record(int id) {
  return {{"type", "experiment"}, {"id", id}, {"title", std::string(300, 'x')}};
}

// The error append() throws, or "" when it appended.
std::string append_error(journal::Writer& w, int id) {
  try {
    w.append(record(id));
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

class JournalWriter : public ::testing::Test {
 protected:
  TempDir tmp;
  fs::path path = tmp / "results.jsonl";
};

TEST_F(JournalWriter, AppendsAfterItsOwnRecordsAndFromAMissingFile) {
  journal::Writer w(path);
  for (int id = 1; id <= 30; ++id) ASSERT_EQ(append_error(w, id), "") << id;  // past the 4 KiB tail
  journal::Writer again(path);  // a new run's checkpoint of the same file
  EXPECT_EQ(append_error(again, 31), "");
  std::string want;
  for (int id = 1; id <= 31; ++id) want += journal::line_of(record(id));
  EXPECT_EQ(read_text(path), want);
}

TEST_F(JournalWriter, RefusesAnAppendByAnotherWriter) {
  journal::Writer w(path);
  ASSERT_EQ(append_error(w, 1), "");
  std::string before = read_text(path);
  write_text(path, before + "{\"type\":\"stop\"}\n");
  std::string error = append_error(w, 2);
  EXPECT_NE(error.find("results.jsonl changed behind the loop's back"), std::string::npos) << error;
  EXPECT_NE(error.find("bytes where the loop left " + std::to_string(before.size())), std::string::npos) << error;
  EXPECT_EQ(read_text(path), before + "{\"type\":\"stop\"}\n") << "appended to a changed journal";
}

TEST_F(JournalWriter, RefusesARewriteOfTheSameLengthInPlace) {
  journal::Writer w(path);
  for (int id = 1; id <= 3; ++id) ASSERT_EQ(append_error(w, id), "");
  std::string text = read_text(path);
  text[text.rfind("\"id\":3") + 5] = '4';  // the same length, a different last record
  int fd = ::open(path.c_str(), O_WRONLY);  // in place: same inode
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
  ::close(fd);
  EXPECT_NE(append_error(w, 4).find("its last records were rewritten"), std::string::npos);
}

TEST_F(JournalWriter, RefusesAReplacedOrDeletedJournal) {
  journal::Writer w(path);
  ASSERT_EQ(append_error(w, 1), "");
  std::string text = read_text(path);
  int hold = ::open(path.c_str(), O_RDONLY);  // keeps the old inode from being reused
  write_text(tmp / "copy", text);
  fs::rename(tmp / "copy", path);  // byte for byte the same, another file
  EXPECT_NE(append_error(w, 2).find("it was replaced by another file"), std::string::npos);
  ::close(hold);
  fs::remove(path);
  EXPECT_NE(append_error(w, 2).find("it was deleted"), std::string::npos);
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace ar::test
