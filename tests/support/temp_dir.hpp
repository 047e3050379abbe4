#pragma once
// A fresh temp dir per test: removed when the test passed, kept (and its path printed) when it
// failed, so the evidence survives.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace ar::test {

class TempDir {
public:
  explicit TempDir(const std::string& prefix = "autoresearch-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& rel) const { return m_path / rel; }

private:
  std::filesystem::path m_path;
};

// Writes `content` to `path`, creating parent folders. Throws on failure.
void write_text(const std::filesystem::path& path, const std::string& content);
// Reads a whole file; throws when it cannot.
std::string read_text(const std::filesystem::path& path);
// Runs `/bin/sh -c command` via std::system-like semantics, returns the exit status, and stores
// stdout+stderr in *output when given. For test fixtures only (the product uses proc::run).
int shell(const std::string& command, std::string* output = nullptr);
// Quotes a string for /bin/sh.
std::string shell_quote(const std::string& text);
// Runs `git <args>` in `dir` for a fixture: no global config, a fixed identity, `main` as the
// first branch. A failing command fails the test; returns the output without trailing newlines.
std::string git_in(const std::filesystem::path& dir, const std::string& args);
// Whether `needle` is in `haystack`; on failure the message shows both.
::testing::AssertionResult contains(const std::string& haystack, const std::string& needle);

} // namespace ar::test
