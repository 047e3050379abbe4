#pragma once
// What `autoresearch import` writes for a pi-autoresearch session, computed without touching the
// disk: the config text, the journal lines of the imported history, and the lists of what was
// mapped with a difference and what could not be mapped.

#include "importer/pi_session.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::importer {

struct PlanInput {
  PiFiles files;
  PiLog log;                          // empty when the session has no log
  std::optional<PiConfig> config;     // pi's config.json, when present
  std::set<std::string> untracked;    // session files (relative to files.dir) git does not track
  std::string rel_dir;                // files.dir relative to the repository root ("" at the top)
  // METRIC names the dry run of the benchmark printed (in order of first appearance); nullopt
  // when no dry run ran or it printed none.
  std::optional<std::vector<std::string>> printed;
  std::string session;                // --session; empty: from the log's goal
  std::string imported_at;            // ISO time, for the header and undated runs
  std::string tool_version;
};

struct Plan {
  std::string session;
  std::string metric_name;  // the name the config uses
  std::string config_yaml;
  std::string benchmark_command;         // as the config has it
  std::vector<std::string> harness;      // relative to the session's folder (the config's are to the repository)
  nlohmann::json header;                 // the imported segment's header line
  std::vector<nlohmann::json> records;   // its experiment lines (ids from 1, `idea` unset)
  std::vector<std::string> not_mapped;   // what could not be brought over, and why
  std::vector<std::string> notes;        // what was brought over with a difference
};

// Throws ar::Error when there is nothing to run (no benchmark script) or no metric name is known.
Plan make_plan(const PlanInput& in);

// The METRIC name to configure when the log names `logged` and the benchmark printed `printed`:
// `logged` itself when printed; else a printed name equal to it but for µ/μ against u and case;
// else the printed name closest by edit distance (when close). nullopt: keep `logged`.
std::optional<std::string> closest_metric(const std::string& logged, const std::vector<std::string>& printed);

// A session name from free text: [a-z0-9._-], at most 40 characters; "pi" when nothing is left.
std::string session_slug(const std::string& text);

// A YAML double-quoted scalar.
std::string yaml_quote(const std::string& text);

}  // namespace ar::importer
