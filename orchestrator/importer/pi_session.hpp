#pragma once
// A pi-autoresearch session on disk, read as it is (the formats: README "Coming from
// pi-autoresearch"). Nothing here writes: the pi files stay byte-identical.
//
// Layouts: if any `.auto/` file exists, everything is read from `.auto/` (log.jsonl, prompt.md,
// measure.sh, checks.sh, ideas.md, config.json, hooks/) and the flat names are ignored; otherwise
// the flat names (autoresearch.jsonl, autoresearch.md, autoresearch.sh, autoresearch.checks.sh,
// autoresearch.ideas.md, autoresearch.config.json, autoresearch.hooks/).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::importer {

struct PiFiles {
  std::filesystem::path dir;  // the session's folder (where pi ran)
  bool dot_auto = false;      // the .auto/ layout
  // Relative to `dir`, "" when missing.
  std::string log, prompt, benchmark, checks, ideas, config;
  std::vector<std::string> hooks;  // hook scripts found (not mapped: see the import's list)
  // Every regular file of the session (the names above and anything else under .auto/).
  std::vector<std::string> all;
};

// Finds the session in `dir`. Throws ar::Error naming `dir` when neither layout has a benchmark
// script nor a log.
PiFiles find_session(const std::filesystem::path& dir);

// One segment of the log: opened by a config line (the last config line before its first run
// counts).
struct PiSegment {
  std::string name, metric_name, metric_unit, direction = "lower";
  int line = 0;  // of its config line; 0 when runs came before any config line
};

struct PiRun {
  int line = 0;  // in the log, from 1
  long run = 0;  // pi's run number (0 when the line had none)
  int segment = 0;
  std::string commit, status, description;
  std::optional<double> metric;  // absent or not a number: none
  nlohmann::json metrics = nlohmann::json::object();
  std::optional<std::int64_t> timestamp_ms;
  nlohmann::json confidence;  // as logged (advisory in pi)
  nlohmann::json asi;         // as logged, or null
};

struct PiLog {
  std::vector<PiSegment> segments;  // at least one when there is any run or config line
  std::vector<PiRun> runs;
  int hook_lines = 0;
  std::vector<std::string> skipped;  // "<file>:<line>: why", for the import's "not mapped" list
};

// Reads the log with pi's own rules: unparsable lines are skipped (and listed), hook lines are
// counted, missing fields default, `segment` is recomputed from the config lines' positions.
PiLog read_log(const std::filesystem::path& path, const std::string& shown_name);

// pi's config.json: {"maxIterations": N, "workingDir": "..."}, both optional. Throws ar::Error
// "<file>: ..." when it is not a JSON object.
struct PiConfig {
  std::optional<long> max_iterations;
  std::optional<std::string> working_dir;
  std::vector<std::string> other_keys;
};
PiConfig read_config(const std::filesystem::path& path, const std::string& shown_name);

}  // namespace ar::importer
