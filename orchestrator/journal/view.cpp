#include "journal/journal.hpp"

#include <algorithm>
#include <stdexcept>

namespace ar::journal {

using nlohmann::json;

namespace {

// A field the loop writes as a string; anything else (a hand edit) is kept as its JSON text.
std::string text(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

double number(const json& object, const char* key, double fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : fallback;
}

std::uint64_t hash_of(const std::string& a, const std::string& b = {}) {
  std::hash<std::string> h;
  return h(a) * 1099511628211ULL ^ h(b);
}

}  // namespace

Summary summarize(const json& record, std::uint64_t offset, std::uint64_t length) {
  Summary s;
  s.id = record.value("id", 0);
  s.status = text(record, "status");
  s.reason = text(record, "reason");
  s.title = text(record, "title");
  s.hypothesis = text(record, "hypothesis");
  s.mechanism = text(record, "mechanism");
  s.idea = text(record, "idea");
  auto source = record.find("source");
  if (source != record.end() && source->is_object()) {
    s.source_kind = text(*source, "kind");
    s.source_file = text(*source, "file");
  }
  s.patch_sha256 = text(record, "patch_sha256");
  s.key = record.contains("key") ? text(record, "key") : s.patch_sha256;
  s.diff_sha256 = text(record, "diff_sha256");
  s.commit = text(record, "commit");
  s.base_commit = text(record, "base_commit");
  s.patch_file = text(record, "patch_file");
  auto asi = record.find("asi");
  if (asi != record.end() && asi->is_object() && asi->contains("sweep")) {
    s.has_sweep = true;
    s.sweep = text(*asi, "sweep");
    s.sweep_value = text(*asi, "value");
    s.sweep_from = text(*asi, "from");
  }
  auto files = record.find("files");
  if (files != record.end() && files->is_array()) {
    for (const json& f : *files) {
      if (f.is_string()) s.files.push_back(f.get<std::string>());
    }
  }
  auto metric = record.find("metric");
  if (metric != record.end() && metric->is_object()) {
    s.has_metric = true;
    s.effect = number(*metric, "effect", 0.0);
    s.ci_low = number(*metric, "ci_low", 0.0);
    s.ci_high = number(*metric, "ci_high", 0.0);
    s.p = number(*metric, "p", 1.0);
    s.base_median = number(*metric, "base_median", 0.0);
    s.candidate_median = number(*metric, "candidate_median", 0.0);
  }
  auto pairs = record.find("pairs");
  if (pairs != record.end() && pairs->is_number_integer()) s.pairs = pairs->get<int>();
  s.offset = offset;
  s.length = length;
  return s;
}

void SessionView::reserve(size_t n) {
  experiments.reserve(n);
  if (keep != Keep::everything) return;
  m_by_key.reserve(n);
  m_by_diff.reserve(n);
  m_by_origin.reserve(n);
}

void SessionView::add(const Summary& s) {
  add(Summary(s));
}

void SessionView::add(Summary&& s) {
  auto index = static_cast<std::uint32_t>(experiments.size());
  experiments.push_back(std::move(s));
  const Summary& e = experiments.back();
  m_ids.insert(e.id);
  next_id = std::max(next_id, e.id + 1);
  if (e.imported()) {
    // History from another tool (autoresearch import): shown, and its failures are dead ends, but
    // it was measured elsewhere, so it is no keep on the session branch, no baseline and no count
    // of this session's own experiments.
    imported.push_back(index);
    ++imported_counts[e.status];
    if (e.status == "discard" || e.status == "checks_failed") dead_ends.push_back(index);
    return;
  }
  ++counts[e.status];
  // A hypothesis is known by its key: the patch hash for queued and proposed patches,
  // "sweep:<name>=<value>" for a sweep point.
  bool final = e.status != "interrupted";
  bool lookups = keep == Keep::everything;
  if (!lookups) {
    // A reader's view: no bookkeeping of hypotheses.
  } else if (!final) {
    if (!e.key.empty()) ++interrupted_count[e.key];
  } else if (!e.key.empty()) {
    tried_hashes.insert(e.key);
  }
  if (e.status == "keep") {
    kept.push_back(index);
    keep_product *= 1.0 + e.effect;
  }
  if (e.status == "discard" || e.status == "checks_failed") dead_ends.push_back(index);
  if (e.has_metric && first_measured < 0) first_measured = static_cast<long>(index);
  if (!lookups) return;
  if (final && !e.key.empty() && find_by_key(e.key) == nullptr) m_by_key.emplace(hash_of(e.key), index);
  if (final && !e.diff_sha256.empty() && find_by_diff(e.diff_sha256) == nullptr) {
    m_by_diff.emplace(hash_of(e.diff_sha256), index);
  }
  if (!e.patch_sha256.empty() && !recorded_from(e.patch_sha256, e.source_file)) {
    m_by_origin.emplace(hash_of(e.patch_sha256, e.source_file), index);
  }
}

void SessionView::add_record(const json& record, Appended where) {
  if (record.value("session", "") != session) return;
  std::string type = record.value("type", "");
  if (type == "experiment") {
    add(summarize(record, where.offset, where.length));
  } else if (type == "header") {
    // The first header that names one (an import's header names none).
    if (start_commit.empty()) start_commit = record.value("start_commit", "");
    header = record;
  } else if (type == "stop") {
    last_stop = record;
  } else if (type == "calibration") {
    last_calibration = record;
  } else if (type == "verify") {
    last_verify = record;
  } else if (type == "ablation") {
    ablations[record.value("experiment", 0)] = record;
  }
}

const Summary* SessionView::find(const std::unordered_multimap<std::uint64_t, std::uint32_t>& map, std::uint64_t hash,
                                 const std::function<bool(const Summary&)>& same) const {
  if (keep != Keep::everything) throw std::logic_error("journal: lookup in a view loaded without lookups");
  auto [begin, end] = map.equal_range(hash);
  for (auto it = begin; it != end; ++it) {
    const Summary& s = experiments[it->second];
    if (same(s)) return &s;
  }
  return nullptr;
}

const Summary* SessionView::find_by_key(const std::string& key) const {
  return find(m_by_key, hash_of(key), [&](const Summary& s) { return s.key == key; });
}

const Summary* SessionView::find_by_diff(const std::string& diff_sha256) const {
  return find(m_by_diff, hash_of(diff_sha256), [&](const Summary& s) { return s.diff_sha256 == diff_sha256; });
}

bool SessionView::recorded_from(const std::string& patch_sha256, const std::string& source_file) const {
  return find(m_by_origin, hash_of(patch_sha256, source_file), [&](const Summary& s) {
           return s.patch_sha256 == patch_sha256 && s.source_file == source_file;
         }) != nullptr;
}

}  // namespace ar::journal
