#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <vector>

namespace ar::test {

TempDir::TempDir(const std::string& prefix) {
  // Outside /tmp: the sandbox gives every command a private /tmp, and fixtures talk to commands
  // through files (flags, markers, hook outputs) the way a user's files outside the repository do.
  // AUTORESEARCH_TEST_TMPDIR overrides; the sandbox tests make their own repositories under /tmp.
  const char* root = std::getenv("AUTORESEARCH_TEST_TMPDIR");
  std::filesystem::path base = root != nullptr ? std::filesystem::path(root) : std::filesystem::path("/var/tmp");
  std::error_code ec;
  if (!std::filesystem::is_directory(base, ec)) base = std::filesystem::temp_directory_path();
  std::string tmpl = (base / (prefix + "-XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
  m_path = buf.data();
}

TempDir::~TempDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  bool failed = info != nullptr && info->result() != nullptr && info->result()->Failed();
  if (failed || std::getenv("AUTORESEARCH_KEEP_TEMP") != nullptr) {
    std::cerr << "[ kept temp dir ] " << m_path << "\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

void write_text(const std::filesystem::path& path, const std::string& content) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int shell(const std::string& command, std::string* output) {
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = pclose(pipe);
  if (output != nullptr) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string git_in(const std::filesystem::path& dir, const std::string& args) {
  std::string out;
  const int rc = shell("cd " + shell_quote(dir.string()) +
                           " && GIT_CONFIG_GLOBAL=/dev/null git -c user.name=t -c user.email=t@t "
                           "-c init.defaultBranch=main " +
                           args,
                       &out);
  if (rc != 0) ADD_FAILURE() << "git " << args << " (in " << dir << ") exited " << rc << ":\n" << out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

::testing::AssertionResult contains(const std::string& haystack, const std::string& needle) {
  if (haystack.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << needle << "\" not found in:\n" << haystack;
}

} // namespace ar::test
