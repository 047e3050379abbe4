#include "journal/journal.hpp"

#include "util/error.hpp"
#include "util/files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace ar::journal {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& statuses() {
  static const std::vector<std::string> k_statuses = {"keep",  "discard", "inconclusive", "checks_failed",
                                                      "crash", "timeout", "apply_failed", "rejected",
                                                      "interrupted"};
  return k_statuses;
}

bool is_status(const std::string& status) {
  const auto& all = statuses();
  return std::find(all.begin(), all.end(), status) != all.end();
}

namespace {

// Checks the fields the loop relies on, so that later reads never meet a wrong type.
void validate(const json& record, const fs::path& path, int line_no) {
  auto fail = [&](const std::string& what) {
    throw Error(fmt::format("{}:{}: {}", path.string(), line_no, what));
  };
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
    if (record.contains("start_commit") && !record["start_commit"].is_string()) fail("field \"start_commit\" must be a string");
    return;
  }
  if (type == "stop" || type == "calibration" || type == "verify") return;
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

} // namespace

Journal load(const fs::path& path, std::vector<std::string>& warnings, bool repair) {
  Journal j;
  j.path = path;
  std::optional<std::string> content = util::read_file(path);
  if (!content) {
    if (errno == ENOENT || !fs::exists(path)) return j;
    throw Error(fmt::format("{}: cannot read journal: {}", path.string(), std::strerror(errno)));
  }
  const std::string& text = *content;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    bool terminated = end != std::string::npos;
    if (!terminated) end = text.size();
    ++line_no;
    std::string_view line(text.data() + pos, end - pos);
    json record = json::parse(line.begin(), line.end(), nullptr, false);
    if (record.is_discarded() || !record.is_object()) {
      if (!terminated && !repair) {
        warnings.push_back(fmt::format("{}:{}: incomplete last line ignored (being written, or torn)", path.string(), line_no));
        break;
      }
      if (!terminated) {
        // A cut-off append: keep the bytes for inspection, then cut them from the journal.
        fs::path aside = path;
        aside += ".corrupt";
        util::append_durably(aside, std::string(line) + "\n");
        fs::resize_file(path, pos);
        warnings.push_back(fmt::format("{}:{}: torn last line (an interrupted write) moved to {}",
                                       path.string(), line_no, aside.string()));
        break;
      }
      if (std::string_view(line).find_first_not_of(" \t\r") == std::string_view::npos) {
        pos = end + 1;
        continue;
      }
      throw Error(fmt::format("{}:{}: malformed journal line (not a JSON object); fix or remove it", path.string(), line_no));
    }
    if (!terminated && repair) {
      // A whole record whose newline did not make it to disk: finish the line so the next
      // append starts a line of its own.
      util::append_durably(path, "\n");
    }
    validate(record, path, line_no);
    if (record["type"] == "header") {
      j.headers.push_back(std::move(record));
    } else if (record["type"] == "stop") {
      j.stops.push_back(std::move(record));
    } else if (record["type"] == "calibration" || record["type"] == "verify") {
      j.measurements.push_back(std::move(record));
    } else {
      j.experiments.push_back(std::move(record));
    }
    pos = end + 1;
  }
  return j;
}

Appended append(const fs::path& path, const json& record) {
  std::string line = record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  std::error_code ec;
  Appended a;
  a.offset = fs::exists(path, ec) ? fs::file_size(path, ec) : 0;
  a.length = line.size();
  util::append_durably(path, line);
  return a;
}

Summary summarize(const json& r, std::uint64_t offset, std::uint64_t length) {
  auto str = [&](const json& j, const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Summary s;
  s.id = r.value("id", 0);
  s.status = str(r, "status");
  s.reason = str(r, "reason");
  s.title = str(r, "title");
  s.hypothesis = str(r, "hypothesis");
  s.mechanism = str(r, "mechanism");
  s.idea = str(r, "idea");
  if (r.contains("source") && r["source"].is_object()) {
    s.source_kind = str(r["source"], "kind");
    s.source_file = str(r["source"], "file");
  }
  s.patch_sha256 = str(r, "patch_sha256");
  s.key = r.contains("key") ? str(r, "key") : s.patch_sha256;
  s.diff_sha256 = str(r, "diff_sha256");
  s.commit = str(r, "commit");
  s.base_commit = str(r, "base_commit");
  s.patch_file = str(r, "patch_file");
  if (r.contains("asi") && r["asi"].is_object()) {
    s.sweep = str(r["asi"], "sweep");
    s.sweep_value = str(r["asi"], "value");
    s.sweep_from = str(r["asi"], "from");
  }
  if (r.contains("files") && r["files"].is_array()) {
    for (const auto& f : r["files"]) if (f.is_string()) s.files.push_back(f.get<std::string>());
  }
  if (r.contains("metric") && r["metric"].is_object()) {
    const json& m = r["metric"];
    s.has_metric = true;
    s.effect = m.value("effect", 0.0);
    s.ci_low = m.value("ci_low", 0.0);
    s.ci_high = m.value("ci_high", 0.0);
    s.p = m.value("p", 1.0);
    s.base_median = m.value("base_median", 0.0);
    s.candidate_median = m.value("candidate_median", 0.0);
  }
  s.pairs = r.value("pairs", 0);
  s.offset = offset;
  s.length = length;
  return s;
}

void SessionView::add(const Summary& s) {
  size_t i = summaries.size();
  summaries.push_back(s);
  if (s.status != "interrupted") {
    if (!s.key.empty()) by_key.emplace(s.key, i);
    if (!s.diff_sha256.empty()) by_diff.emplace(s.diff_sha256, i);
  }
  from_file.emplace(s.patch_sha256, s.source_file);
  ++counts[s.status];
  if (s.status == "interrupted") {
    if (!s.key.empty()) ++interrupted_count[s.key];
  } else if (!s.key.empty()) {
    tried_hashes.insert(s.key);
  }
  if (s.status == "keep") kept.push_back(i);
  next_id = std::max(next_id, s.id + 1);
}

const Summary* SessionView::find_by_key(const std::string& k) const {
  auto it = by_key.find(k);
  return it == by_key.end() ? nullptr : &summaries[it->second];
}

const Summary* SessionView::find_by_diff(const std::string& d) const {
  auto it = by_diff.find(d);
  return it == by_diff.end() ? nullptr : &summaries[it->second];
}

bool SessionView::recorded_from(const std::string& patch_sha256, const std::string& source_file) const {
  return from_file.count({patch_sha256, source_file}) != 0;
}

SessionView view(const Journal& journal, const std::string& session) {
  SessionView v;
  v.session = session;
  for (const json& h : journal.headers) {
    if (h.value("session", "") != session) continue;
    if (!v.header) v.start_commit = h.value("start_commit", "");
    v.header = h;
  }
  for (const json& e : journal.experiments) {
    if (e.value("session", "") != session) continue;
    v.experiments.push_back(e);
  }
  for (const json& s : journal.stops) {
    if (s.value("session", "") == session) v.last_stop = s;
  }
  for (const json& m : journal.measurements) {
    if (m.value("session", "") != session) continue;
    if (m["type"] == "calibration") v.last_calibration = m;
    if (m["type"] == "verify") v.last_verify = m;
  }
  for (const json& e : v.experiments) v.add(summarize(e, 0, 0));
  return v;
}

} // namespace ar::journal
