#pragma once
// results.jsonl: the append-only journal (DESIGN §9). One JSON object a line. A `header` line
// (schema version, session, the config in force, the commit the session started from) opens each
// segment; `experiment` lines follow, one per finished experiment, appended and fsync'd as a whole
// line. The journal is the source of truth for everything the loop did; reports are derived.
//
// Reading scales with the journal: readers stream it line by line and keep one compact Summary per
// experiment (no samples); a rebuildable index under .autoresearch/ (journal/index.hpp) holds the
// summaries of the lines already seen, so only the part of the journal written since is parsed.
// A full record is read back by its offset when a report needs its samples.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::journal {

inline constexpr int k_schema = 1;
inline constexpr int k_oldest_schema = 1;

// Every status an experiment record may carry (DESIGN §8).
const std::vector<std::string>& statuses();
bool is_status(const std::string& status);

// Every record as JSON, in file order. For tests and tools only: it holds the whole journal in
// memory; the loop and the readers use load_view.
struct Journal {
  std::filesystem::path path;
  std::vector<nlohmann::json> headers;       // in file order
  std::vector<nlohmann::json> experiments;   // in file order, all sessions
  std::vector<nlohmann::json> stops;         // why each run ended: {type: stop, session, at, reason}
  std::vector<nlohmann::json> measurements;  // calibration (A/A), verify and ablation records
};

// How a journal is read (load, load_view, scan). A missing or empty file is an empty journal. A
// torn last line (no trailing newline and not valid JSON: a cut-off append) is moved to
// "<path>.corrupt" and cut from the file, with a warning added to `warnings`. A malformed line
// elsewhere, an unknown status or an unsupported schema, or a field of the wrong type throws
// ar::Error naming "<path>:<line>". A complete last record without its newline gets the newline.
// Readers that must not write the journal (status, report: a run may be appending right now) pass
// repair = false: an incomplete last line is then only skipped with a warning.
Journal load(const std::filesystem::path& path, std::vector<std::string>& warnings, bool repair = true);

// One validated record of the journal and where its line is (offset and length in bytes, without
// the newline; line numbers from 1).
struct Line {
  const nlohmann::json& record;
  std::uint64_t offset, length;
  int line_no;
  bool terminated;  // false only for a complete last record whose newline is missing (repair = false)
};

// Where a scan stopped: just past the last newline-terminated line read, and that line's number.
struct ScanEnd {
  std::uint64_t offset = 0;
  int lines = 0;
};

// Streams the journal from byte `from` (the start of a line, counted as line `first_line`) to its
// end with load()'s rules, calling `on_line` for every record. Holds one line at a time.
// With `summaries_only`, an experiment line is read by parse_for_summary (journal/light_parse.hpp):
// Line::record then holds what summarize() and validation use, not the samples.
ScanEnd scan(const std::filesystem::path& path, std::uint64_t from, int first_line, std::vector<std::string>& warnings,
             bool repair, const std::function<void(const Line&)>& on_line, bool summaries_only = false);

// Where append() wrote: the line's first byte and its length without the newline.
struct Appended {
  std::uint64_t offset = 0, length = 0;
};

// The record as its journal line, newline included.
std::string line_of(const nlohmann::json& record);

// Appends one record as one line and fsyncs; throws ar::Error (disk full, read-only) without
// leaving a partial line.
Appended append(const std::filesystem::path& path, const nlohmann::json& record);

// One experiment record, without samples.
struct Summary {
  int id = 0;
  std::string status, reason, title, hypothesis, mechanism, idea;
  std::string source_kind, source_file;        // record["source"]["kind"/"file"]
  std::string key, patch_sha256, diff_sha256;  // key defaults to patch_sha256 when absent
  std::string commit, base_commit, patch_file;
  std::string sweep, sweep_value, sweep_from;  // record["asi"]["sweep"/"value"/"from"]
  std::vector<std::string> files;
  bool has_metric = false;
  double effect = 0, ci_low = 0, ci_high = 0, p = 1, base_median = 0, candidate_median = 0;
  int pairs = 0;
  std::uint64_t offset = 0, length = 0;  // the record's line in results.jsonl (bytes)
  bool has_sweep = false;                // record["asi"] has "sweep" (its name may be "")

  // Brought in by `autoresearch import` (source kind "import"): history measured by another tool.
  bool imported() const { return source_kind == "import"; }
};
Summary summarize(const nlohmann::json& record, std::uint64_t offset, std::uint64_t length);

// Reads one full record back by its Summary's offset and length. Throws ar::Error naming the
// journal when the bytes there are not that record (the journal was rewritten since).
nlohmann::json read_record(const std::filesystem::path& journal, const Summary& summary);
nlohmann::json read_record(const std::filesystem::path& journal, std::uint64_t offset, std::uint64_t length);

// read_record for many records: keeps the journal open between reads.
class RecordReader {
 public:
  explicit RecordReader(std::filesystem::path journal);
  nlohmann::json read(std::uint64_t offset, std::uint64_t length);
  nlohmann::json read(const Summary& s) { return read(s.offset, s.length); }

 private:
  std::filesystem::path m_path;
  std::ifstream m_in;
  std::string m_bytes;
};

// What the journal says about one session. Grows by add() as the loop appends; nothing in it is
// re-derived from the whole history.
//
// A view for the loop keeps the hypothesis bookkeeping (tried_hashes, interrupted_count and the
// find_by_* / recorded_from lookups); a reader's view (Keep::summaries: status, report) leaves
// those empty, and its lookups throw std::logic_error. Everything else is the same.
enum class Keep { everything, summaries };

struct SessionView {
  Keep keep = Keep::everything;
  std::string session;
  std::filesystem::path journal;                 // where read_record finds the records
  std::optional<nlohmann::json> header;          // the latest header of the session
  std::string start_commit;                      // from the first header
  std::vector<Summary> experiments;              // this session's, in order (imported ones included)
  std::vector<size_t> imported;                  // indices of imported records (Summary::imported)
  std::map<std::string, int> imported_counts;    // imported records by status
  std::set<std::string> tried_hashes;            // hypothesis keys (`key`, else `patch_sha256`) with a
                                                 // final (not interrupted) record
  std::map<std::string, int> interrupted_count;  // by hypothesis key
  std::vector<size_t> kept;                      // indices into `experiments` of keep records (not imported)
  std::vector<size_t> dead_ends;                 // indices of discard and checks_failed records (imported too)
  long first_measured = -1;                      // index of the first record with a metric, or -1
  double keep_product = 1.0;                     // product of (1 + effect) over the keep records
  std::map<std::string, int> counts;             // by status, the session's own experiments only
  int next_id = 1;
  std::optional<nlohmann::json> last_stop;  // the session's latest stop record
  std::optional<nlohmann::json> last_calibration;
  std::optional<nlohmann::json> last_verify;
  // `autoresearch ablate`'s latest line per kept experiment id (whatever best it was measured at:
  // readers compare its best_commit with the best).
  std::map<int, nlohmann::json> ablations;

  // The session's own experiments (all but the imported ones).
  size_t own() const { return experiments.size() - imported.size(); }

  // Appends one experiment of this session and updates every derived field; O(1) amortized. An
  // imported record joins `experiments`, `imported` and (a discard or checks_failed) `dead_ends`
  // only: it is no keep, no baseline, no tried hypothesis and not in `counts`.
  void add(const Summary& s);
  void add(Summary&& s);
  // Room for `n` experiments in all (a load that knows how many are coming).
  void reserve(size_t n);
  // Takes any record of this session (header, stop, calibration, verify, experiment) just
  // appended at `where`.
  void add_record(const nlohmann::json& record, Appended where);

  // Whether an experiment with this id is in the view (a repeated id is a copied or forged line).
  bool has_id(int id) const { return m_ids.count(id) != 0; }
  // The first final (not interrupted) record with hypothesis key `key`, or null.
  const Summary* find_by_key(const std::string& key) const;
  // The first final record whose diff has this hash, or null.
  const Summary* find_by_diff(const std::string& diff_sha256) const;
  // Whether any record (interrupted ones too) came from `source_file` with this patch hash.
  bool recorded_from(const std::string& patch_sha256, const std::string& source_file) const;

 private:
  // Hash of the looked-up string -> index into `experiments`; a collision is resolved by
  // comparing the strings, so the maps hold no copies of them.
  const Summary* find(const std::unordered_multimap<std::uint64_t, std::uint32_t>& map, std::uint64_t hash,
                      const std::function<bool(const Summary&)>& same) const;
  std::unordered_multimap<std::uint64_t, std::uint32_t> m_by_key, m_by_diff, m_by_origin;
  std::unordered_set<int> m_ids;
};

// The index's file name in the state folder (<repo>/.autoresearch).
inline constexpr const char* k_index_file = "journal.index";

// The view of `session`, streaming the journal. With an `index_path` (under .autoresearch/), the
// summaries of the lines the index covers are taken from it and only the rest of the journal is
// parsed; an index that is missing, corrupt or does not match the journal (truncated, rewritten)
// is rebuilt silently. The index is a cache: writing it may fail without harm. load()'s rules
// apply to the journal lines read.
SessionView load_view(const std::filesystem::path& path, const std::string& session, std::vector<std::string>& warnings,
                      bool repair = true, const std::filesystem::path& index_path = {}, Keep keep = Keep::everything);

}  // namespace ar::journal
