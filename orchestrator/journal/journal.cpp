#include "journal/journal.hpp"

#include "journal/light_parse.hpp"

#include "util/error.hpp"
#include "util/files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>

#include <fmt/format.h>

namespace ar::journal {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& statuses() {
  static const std::vector<std::string> k_statuses = {"keep",          "discard",  "inconclusive",
                                                      "checks_failed", "crash",    "timeout",
                                                      "apply_failed",  "rejected", "interrupted"};
  return k_statuses;
}

bool is_status(const std::string& status) {
  const auto& all = statuses();
  return std::find(all.begin(), all.end(), status) != all.end();
}

namespace {

// Checks the fields the loop relies on, so that later reads never meet a wrong type.
void validate(const json& record, const fs::path& path, int line_no) {
  auto fail = [&](const std::string& what) { throw Error(fmt::format("{}:{}: {}", path.string(), line_no, what)); };
  auto require = [&](const char* key, json::value_t type, const char* type_name) {
    auto it = record.find(key);
    if (it == record.end()) fail(fmt::format("missing field \"{}\"", key));
    bool ok = it->type() == type || (type == json::value_t::number_integer && it->is_number_unsigned());
    if (!ok) fail(fmt::format("field \"{}\" must be {}, got {}", key, type_name, it->dump()));
  };
  require("type", json::value_t::string, "a string");
  require("schema", json::value_t::number_integer, "an integer");
  int schema = record["schema"].get<int>();
  if (schema < k_oldest_schema || schema > k_schema) {
    fail(fmt::format("unsupported journal schema {} (this version reads {} to {})", schema, k_oldest_schema, k_schema));
  }
  require("session", json::value_t::string, "a string");
  std::string type = record["type"];
  if (type == "header") {
    if (record.contains("start_commit") && !record["start_commit"].is_string())
      fail("field \"start_commit\" must be a string");
    return;
  }
  if (type == "stop" || type == "calibration" || type == "verify") return;
  if (type == "ablation") {
    require("experiment", json::value_t::number_integer, "an integer");
    require("verdict", json::value_t::string, "a string");
    require("best_commit", json::value_t::string, "a string");
    return;
  }
  if (type != "experiment") fail(fmt::format("unknown record type \"{}\"", type));
  require("id", json::value_t::number_integer, "an integer");
  require("status", json::value_t::string, "a string");
  std::string status = record["status"];
  if (!is_status(status)) fail(fmt::format("unknown status \"{}\"", status));
  for (const char* key : {"patch_sha256", "key", "diff_sha256", "title", "hypothesis", "mechanism", "idea", "commit",
                          "reason", "patch_file"}) {
    if (record.contains(key) && !record[key].is_string()) fail(fmt::format("field \"{}\" must be a string", key));
  }
  for (const char* key : {"source", "asi", "guards", "metrics", "durations", "decision"}) {
    if (record.contains(key) && !record[key].is_object() && !record[key].is_null()) {
      fail(fmt::format("field \"{}\" must be an object", key));
    }
  }
  if (record.contains("metric") && !record["metric"].is_null()) {
    const json& m = record["metric"];
    if (!m.is_object()) fail("field \"metric\" must be an object");
    for (const char* key : {"effect", "ci_low", "ci_high", "p", "base_median", "candidate_median", "improvement"}) {
      if (m.contains(key) && !m[key].is_number()) fail(fmt::format("field \"metric.{}\" must be a number", key));
    }
  }
  if (record.contains("pairs") && !record["pairs"].is_number_integer()) fail("field \"pairs\" must be an integer");
}

// A line of a pi-autoresearch log (a renamed `autoresearch.jsonl` or `.auto/log.jsonl`): no schema, and
// either pi's own record types or a run line. Such lines are not ours to validate; they are skipped
// with one warning per scan, so a pi log in the journal's place never stops status, report or run.
bool is_pi_line(const json& record) {
  if (record.contains("schema")) return false;
  auto type = record.find("type");
  if (type != record.end()) return type->is_string() && (*type == "config" || *type == "hook");
  auto run = record.find("run");
  return run != record.end() && run->is_number() && record.contains("status");
}

}  // namespace

ScanEnd scan(const fs::path& path, std::uint64_t from, int first_line, std::vector<std::string>& warnings, bool repair,
             const std::function<void(const Line&)>& on_line, bool summaries_only) {
  std::vector<char> buffer(1 << 16);
  std::ifstream in;
  in.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  in.open(path, std::ios::binary);
  if (!in) {
    if (!fs::exists(path)) return {};
    throw Error(fmt::format("{}: cannot read journal: {}", path.string(), std::strerror(errno)));
  }
  in.seekg(static_cast<std::streamoff>(from));
  std::uint64_t pos = from;
  ScanEnd covered{from, first_line - 1};
  int line_no = first_line - 1;
  int pi_lines = 0, pi_first = 0, own_lines = 0;
  std::string line;
  while (std::getline(in, line)) {
    bool terminated = !in.eof();
    ++line_no;
    std::uint64_t next = pos + line.size() + (terminated ? 1 : 0);
    std::optional<json> light;
    // Our own lines end with the type (keys are written sorted); other lines are parsed in full.
    static constexpr std::string_view k_tail = "\"type\":\"experiment\"}";
    if (summaries_only && line.size() > k_tail.size() &&
        std::string_view(line).substr(line.size() - k_tail.size()) == k_tail) {
      light = parse_for_summary(line);
    }
    json record = light ? std::move(*light) : json::parse(line.begin(), line.end(), nullptr, false);
    if (record.is_discarded() || !record.is_object()) {
      if (!terminated && !repair) {
        warnings.push_back(
            fmt::format("{}:{}: incomplete last line ignored (being written, or torn)", path.string(), line_no));
        break;
      }
      if (!terminated) {
        // A cut-off append: keep the bytes for inspection, then cut them from the journal.
        in.close();
        fs::path aside = path;
        aside += ".corrupt";
        util::append_durably(aside, line + "\n");
        fs::resize_file(path, pos);
        warnings.push_back(fmt::format("{}:{}: torn last line (an interrupted write) moved to {}", path.string(),
                                       line_no, aside.string()));
        break;
      }
      if (line.find_first_not_of(" \t\r") == std::string::npos) {
        pos = next;
        covered = {next, line_no};
        continue;
      }
      if (pi_lines > 0 && own_lines == 0) {
        // Inside a pi log in the journal's place: pi skips its unparsable lines, and so do we.
        ++pi_lines;
        pos = next;
        covered = {next, line_no};
        continue;
      }
      throw Error(
          fmt::format("{}:{}: malformed journal line (not a JSON object); fix or remove it", path.string(), line_no));
    }
    if (is_pi_line(record)) {
      if (pi_lines++ == 0) pi_first = line_no;
      pos = next;
      if (terminated) covered = {next, line_no};
      continue;
    }
    if (!record.contains("schema")) {
      throw Error(fmt::format("{}:{}: not an autoresearch journal record (no \"schema\" field); {} is the loop's "
                              "journal: move this file away",
                              path.string(), line_no, path.filename().string()));
    }
    validate(record, path, line_no);
    ++own_lines;
    if (!terminated && repair) {
      // A whole record whose newline did not make it to disk: finish the line so the next
      // append starts a line of its own.
      util::append_durably(path, "\n");
      terminated = true;
      ++next;
    }
    on_line(Line{record, pos, line.size(), line_no, terminated});
    pos = next;
    if (terminated) covered = {next, line_no};
  }
  if (pi_lines > 0) {
    warnings.push_back(fmt::format(
        "{}:{}: {} line(s) of a pi-autoresearch log (from line {} on) are not autoresearch records and were "
        "skipped; to bring that history in, move the file to autoresearch.jsonl and run `autoresearch import`",
        path.string(), pi_first, pi_lines, pi_first));
  }
  return covered;
}

Journal load(const fs::path& path, std::vector<std::string>& warnings, bool repair) {
  Journal j;
  j.path = path;
  scan(path, 0, 1, warnings, repair, [&](const Line& l) {
    const std::string& type = l.record["type"].get_ref<const std::string&>();
    if (type == "header") {
      j.headers.push_back(l.record);
    } else if (type == "stop") {
      j.stops.push_back(l.record);
    } else if (type == "calibration" || type == "verify" || type == "ablation") {
      j.measurements.push_back(l.record);
    } else {
      j.experiments.push_back(l.record);
    }
  });
  return j;
}

std::string line_of(const json& record) {
  return record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Appended append(const fs::path& path, const json& record) {
  std::string line = line_of(record);
  std::uint64_t offset = util::append_durably(path, line);
  return {offset, line.size() - 1};
}

RecordReader::RecordReader(fs::path journal) : m_path(std::move(journal)), m_in(m_path, std::ios::binary) {}

json RecordReader::read(std::uint64_t offset, std::uint64_t length) {
  m_bytes.resize(length);
  m_in.clear();
  m_in.seekg(static_cast<std::streamoff>(offset));
  m_in.read(m_bytes.data(), static_cast<std::streamsize>(length));
  json record = m_in ? json::parse(m_bytes, nullptr, false) : json();
  if (!record.is_object()) {
    throw Error(fmt::format("{}: no record at byte {} ({} bytes): the journal changed while it was read",
                            m_path.string(), offset, length));
  }
  return record;
}

json read_record(const fs::path& journal, std::uint64_t offset, std::uint64_t length) {
  return RecordReader(journal).read(offset, length);
}

json read_record(const fs::path& journal, const Summary& summary) {
  return read_record(journal, summary.offset, summary.length);
}

}  // namespace ar::journal
