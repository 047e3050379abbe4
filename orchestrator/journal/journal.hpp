#pragma once
// results.jsonl: the append-only journal (DESIGN §9). One JSON object a line. A `header` line
// (schema version, session, the config in force, the commit the session started from) opens each
// segment; `experiment` lines follow, one per finished experiment, appended and fsync'd as a whole
// line. The journal is the source of truth for everything the loop did; reports are derived.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::journal {

inline constexpr int k_schema = 1;
inline constexpr int k_oldest_schema = 1;

// Every status an experiment record may carry (DESIGN §8).
const std::vector<std::string>& statuses();
bool is_status(const std::string& status);

struct Journal {
  std::filesystem::path path;
  std::vector<nlohmann::json> headers;      // in file order
  std::vector<nlohmann::json> experiments;  // in file order, all sessions
  std::vector<nlohmann::json> stops;        // why each run ended: {type: stop, session, at, reason}
  std::vector<nlohmann::json> measurements; // calibration (A/A) and verify records
};

// Reads the journal (a missing or empty file is an empty journal). A torn last line (no trailing
// newline and not valid JSON: a cut-off append) is moved to "<path>.corrupt" and cut from the file,
// with a warning added to `warnings`. A malformed line elsewhere, an unknown status or an
// unsupported schema, or a field of the wrong type throws ar::Error naming "<path>:<line>".
// A complete last record without its newline gets the newline. Readers that must not write (status,
// report: a run may be appending right now) pass repair = false: an incomplete last line is then
// only skipped with a warning.
Journal load(const std::filesystem::path& path, std::vector<std::string>& warnings, bool repair = true);

// Appends one record as one line and fsyncs; throws ar::Error (disk full, read-only) without
// leaving a partial line. Returns where the line is.
struct Appended {
  std::uint64_t offset = 0, length = 0;
};
Appended append(const std::filesystem::path& path, const nlohmann::json& record);

struct Summary {            // one experiment record, without samples
  int id = 0;
  std::string status, reason, title, hypothesis, mechanism, idea;
  std::string source_kind, source_file;          // record["source"]["kind"/"file"]
  std::string key, patch_sha256, diff_sha256;    // key defaults to patch_sha256 when absent
  std::string commit, base_commit, patch_file;
  std::string sweep, sweep_value, sweep_from;    // record["asi"]["sweep"/"value"/"from"]
  std::vector<std::string> files;
  bool has_metric = false;
  double effect = 0, ci_low = 0, ci_high = 0, p = 1, base_median = 0, candidate_median = 0;
  int pairs = 0;
  std::uint64_t offset = 0, length = 0;          // the record's line in results.jsonl (bytes)
};
Summary summarize(const nlohmann::json& record, std::uint64_t offset, std::uint64_t length);

// What the journal says about one session.
struct SessionView {
  std::string session;
  std::optional<nlohmann::json> header;      // the latest header of the session
  std::string start_commit;                  // from the first header
  std::vector<nlohmann::json> experiments;   // this session's, in order
  std::set<std::string> tried_hashes;        // hypothesis keys (`key`, else `patch_sha256`) with a
                                             // final (not interrupted) record
  std::map<std::string, int> interrupted_count;  // by hypothesis key
  std::vector<size_t> kept;                  // indices into `experiments` of keep records
  std::map<std::string, int> counts;         // by status
  int next_id = 1;
  std::optional<nlohmann::json> last_stop;  // the session's latest stop record
  std::optional<nlohmann::json> last_calibration;
  std::optional<nlohmann::json> last_verify;

  std::vector<Summary> summaries;            // interim: the typed view the loop uses
  std::map<std::string, size_t> by_key, by_diff;
  std::set<std::pair<std::string, std::string>> from_file;
  void add(const Summary& s);
  const Summary* find_by_key(const std::string& key) const;
  const Summary* find_by_diff(const std::string& diff_sha256) const;
  bool recorded_from(const std::string& patch_sha256, const std::string& source_file) const;
};

SessionView view(const Journal& journal, const std::string& session);

} // namespace ar::journal
