#pragma once
// Helpers for end-to-end tests: a fixture git repository with a seeded noisy benchmark, and a way
// to run the built autoresearch binary and capture its exit code and output.

#include "support/temp_dir.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::test {

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs the autoresearch binary with `args` in `cwd`.
CliResult run_cli(const std::filesystem::path& cwd, const std::string& args);

// Runs git in `repo` with no user or system config; returns trimmed output, throws on failure.
std::string git(const std::filesystem::path& repo, const std::string& args);

// A repository whose benchmark prints `METRIC score=<100 * speed * slow>` with 1% seeded normal
// noise (seed: a run counter outside the repository), a gate checking ok.txt, and a config.
struct FixtureRepo {
  std::filesystem::path root;
  std::filesystem::path counter;

  explicit FixtureRepo(const std::filesystem::path& dir, const std::string& extra_config = "");
  // Writes experiments/<name>: a header and the diff that turns `file` into `content`.
  void queue_change(const std::string& name, const std::string& header, const std::string& file,
                    const std::string& content);
  void queue_raw(const std::string& name, const std::string& text);
  std::vector<nlohmann::json> records() const;  // experiment records of results.jsonl
};

} // namespace ar::test
