#include "importer/pi_session.hpp"

#include "util/error.hpp"
#include "util/files.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

namespace ar::importer {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// Every regular file under `root` (relative to `base`), sorted.
std::vector<std::string> files_under(const fs::path& base, const fs::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) out.push_back(it->path().lexically_relative(base).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string text_of(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

PiFiles find_session(const fs::path& dir) {
  PiFiles f;
  f.dir = dir;
  std::vector<std::string> dot = files_under(dir, dir / ".auto");
  f.dot_auto = !dot.empty();
  auto pick = [&](std::string& slot, const std::string& rel) {
    if (is_file(dir / rel)) slot = rel;
  };
  if (f.dot_auto) {
    pick(f.log, ".auto/log.jsonl");
    pick(f.prompt, ".auto/prompt.md");
    pick(f.benchmark, ".auto/measure.sh");
    pick(f.checks, ".auto/checks.sh");
    pick(f.ideas, ".auto/ideas.md");
    pick(f.config, ".auto/config.json");
    for (const std::string& p : dot) {
      if (p.rfind(".auto/hooks/", 0) == 0) f.hooks.push_back(p);
    }
    f.all = dot;
  } else {
    pick(f.log, "autoresearch.jsonl");
    pick(f.prompt, "autoresearch.md");
    pick(f.benchmark, "autoresearch.sh");
    pick(f.checks, "autoresearch.checks.sh");
    pick(f.ideas, "autoresearch.ideas.md");
    pick(f.config, "autoresearch.config.json");
    f.hooks = files_under(dir, dir / "autoresearch.hooks");
    for (const std::string* p : {&f.log, &f.prompt, &f.benchmark, &f.checks, &f.ideas, &f.config}) {
      if (!p->empty()) f.all.push_back(*p);
    }
    f.all.insert(f.all.end(), f.hooks.begin(), f.hooks.end());
  }
  if (f.benchmark.empty() && f.log.empty()) {
    throw Error(fmt::format(
        "import: no pi-autoresearch session in {}: neither .auto/measure.sh or .auto/log.jsonl nor "
        "autoresearch.sh or autoresearch.jsonl is there",
        dir.string()));
  }
  return f;
}

PiLog read_log(const fs::path& path, const std::string& shown_name) {
  PiLog log;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("import: cannot read {}", path.string()));
  std::string line;
  int line_no = 0;
  bool segment_has_runs = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      log.skipped.push_back(fmt::format("{}:{}: not a JSON object; skipped (as pi does)", shown_name, line_no));
      continue;
    }
    std::string type = text_of(j, "type");
    if (type == "config") {
      PiSegment seg;
      seg.line = line_no;
      seg.name = text_of(j, "name");
      seg.metric_name = text_of(j, "metricName");
      seg.metric_unit = text_of(j, "metricUnit");
      std::string dir = text_of(j, "bestDirection");
      if (dir == "higher" || dir == "lower") {
        seg.direction = dir;
      } else if (!dir.empty()) {
        log.skipped.push_back(fmt::format("{}:{}: bestDirection \"{}\" is neither lower nor higher; lower assumed",
                                          shown_name, line_no, dir));
      }
      // A config line after at least one run starts a segment; before any, it replaces the
      // segment's settings.
      if (log.segments.empty() || segment_has_runs) {
        log.segments.push_back(seg);
        segment_has_runs = false;
      } else {
        log.segments.back() = seg;
      }
      continue;
    }
    if (type == "hook") {
      ++log.hook_lines;
      continue;
    }
    if (!type.empty()) {
      log.skipped.push_back(fmt::format("{}:{}: unknown line type \"{}\"; skipped", shown_name, line_no, type));
      continue;
    }
    if (log.segments.empty()) log.segments.emplace_back();  // runs before any config line
    PiRun r;
    r.line = line_no;
    r.segment = static_cast<int>(log.segments.size()) - 1;
    if (j.contains("run") && j["run"].is_number()) r.run = j["run"].get<long>();
    r.commit = text_of(j, "commit");
    r.status = text_of(j, "status");
    r.description = text_of(j, "description");
    if (j.contains("metric") && j["metric"].is_number()) r.metric = j["metric"].get<double>();
    if (j.contains("metrics") && j["metrics"].is_object()) r.metrics = j["metrics"];
    if (j.contains("timestamp") && j["timestamp"].is_number()) r.timestamp_ms = j["timestamp"].get<std::int64_t>();
    r.confidence = j.value("confidence", json());
    r.asi = j.value("asi", json());
    log.runs.push_back(std::move(r));
    segment_has_runs = true;
  }
  return log;
}

PiConfig read_config(const fs::path& path, const std::string& shown_name) {
  std::optional<std::string> text = util::read_file(path);
  if (!text) throw Error(fmt::format("import: cannot read {}", path.string()));
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Error(fmt::format("{}: not a JSON object", shown_name));
  PiConfig c;
  for (const auto& [key, value] : j.items()) {
    if (key == "maxIterations" && value.is_number()) {
      c.max_iterations = value.get<long>();
    } else if (key == "workingDir" && value.is_string()) {
      c.working_dir = value.get<std::string>();
    } else {
      c.other_keys.push_back(key);
    }
  }
  return c;
}

}  // namespace ar::importer
