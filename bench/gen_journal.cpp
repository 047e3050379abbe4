// autoresearch_gen_journal OUT.jsonl N SESSION [SEED]: writes a session header and N realistic
// experiment records (mixed statuses, 6 to 12 pairs of samples, secondary metrics, guards, gates,
// durations, sweep asi on some), deterministic from SEED. For the overhead benchmark and scale
// tests of the journal readers; it does not touch any repository.

#include "journal/journal.hpp"
#include "util/files.hpp"

#include <cstdio>
#include <random>
#include <string>

#include <fmt/format.h>

namespace {

using nlohmann::json;

std::string hex(std::mt19937_64& rng, int chars) {
  static const char* k_digits = "0123456789abcdef";
  std::string out;
  while (static_cast<int>(out.size()) < chars) {
    std::uint64_t v = rng();
    for (int i = 0; i < 16 && static_cast<int>(out.size()) < chars; ++i, v >>= 4) out += k_digits[v & 15];
  }
  return out;
}

std::string iso(long seconds) {
  long day = seconds / 86400, s = seconds % 86400;
  return fmt::format("2026-11-{:02}T{:02}:{:02}:{:02}Z", 1 + day % 28, s / 3600, s / 60 % 60, s % 60);
}

json experiment(std::mt19937_64& rng, int id, const std::string& session, const std::string& start, double& best) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, 0.01);
  static const char* k_words[] = {"hoist",   "inline", "cache", "unroll", "vectorize", "prefetch",  "batch", "pool",
                                  "reserve", "hash",   "table", "buffer", "parser",    "tokenizer", "loop",  "branch"};
  auto word = [&] { return std::string(k_words[rng() % 16]); };
  double u = unit(rng);
  std::string status = u < 0.05   ? "keep"
                       : u < 0.45 ? "discard"
                       : u < 0.70 ? "inconclusive"
                       : u < 0.78 ? "checks_failed"
                       : u < 0.84 ? "crash"
                       : u < 0.88 ? "timeout"
                       : u < 0.92 ? "apply_failed"
                       : u < 0.98 ? "rejected"
                                  : "interrupted";
  bool sweep = rng() % 5 == 0;
  std::string patch = hex(rng, 64);
  std::string title = fmt::format("{} the {} in {}()", word(), word(), word());
  json r = {
      {"type", "experiment"},
      {"schema", ar::journal::k_schema},
      {"id", id},
      {"session", session},
      {"started_at", iso(id * 90L)},
      {"finished_at", iso(id * 90L + 85)},
      {"source", {{"kind", sweep ? "sweep" : "proposer"}, {"file", sweep ? "sweep:block_size" : "proposer"}}},
      {"title", title},
      {"hypothesis", fmt::format("The {} spends most of its time in {}; a {} {} should cut the wall time by a "
                                 "few percent on the large input.",
                                 word(), word(), word(), word())},
      {"mechanism", fmt::format("fewer {} misses in the {} {}", word(), word(), word())},
      {"idea", rng() % 3 == 0 ? fmt::format("I{}", rng() % 40) : ""},
      {"patch_sha256", patch},
      {"key", sweep ? fmt::format("sweep:block_size={}", id) : patch},
      {"diff_sha256", hex(rng, 64)},
      {"files", json::array({fmt::format("src/{}.c", word()), fmt::format("src/{}.h", word())})},
      {"base_commit", start},
      {"gates",
       json::array({{{"name", "build"}, {"exit", 0}, {"seconds", 3.2 + unit(rng)}},
                    {{"name", "tests"}, {"exit", status == "checks_failed" ? 1 : 0}, {"seconds", 11.0 + unit(rng)}}})},
      {"durations",
       {{"build", 3.1 + unit(rng)},
        {"gates", 14.4 + unit(rng)},
        {"measure", 60 + 10 * unit(rng)},
        {"total", 80 + 10 * unit(rng)}}},
      {"asi", sweep ? json{{"key", fmt::format("sweep:block_size={}", id)},
                           {"sweep", "block_size"},
                           {"value", std::to_string(64 << (id % 6))},
                           {"from", "64"}}
                    : json{{"proposer", "agent"}, {"tokens", rng() % 20000}}},
      {"status", status},
      {"patch_file", fmt::format(".autoresearch/patches/{:04}.patch", id)}};
  bool measured = status == "keep" || status == "discard" || status == "inconclusive";
  if (measured) {
    int pairs = 6 + static_cast<int>(rng() % 7);
    double effect = status == "keep"      ? -0.02 - 0.03 * unit(rng)
                    : status == "discard" ? 0.01 + 0.05 * unit(rng)
                                          : 0.01 * (unit(rng) - 0.5);
    json base = json::array(), cand = json::array();
    for (int i = 0; i < pairs; ++i) {
      base.push_back(best * (1 + noise(rng)));
      cand.push_back(best * (1 + effect) * (1 + noise(rng)));
    }
    double cand_median = best * (1 + effect);
    r["metric"] = {{"name", "wall_ms"},
                   {"unit", "ms"},
                   {"direction", "lower"},
                   {"base", base},
                   {"candidate", cand},
                   {"base_median", best},
                   {"candidate_median", cand_median},
                   {"effect", effect},
                   {"ci_low", effect - 0.01},
                   {"ci_high", effect + 0.01},
                   {"p", status == "keep" ? 0.001 : 0.3}};
    r["metrics"] = {{"max_rss_kb", {{"base", 51200.0}, {"candidate", 51200.0 * (1 + noise(rng))}, {"change", 0.0}}},
                    {"instructions", {{"base", 1.2e9}, {"candidate", 1.2e9 * (1 + effect)}, {"change", effect}}},
                    {"cache_misses", {{"base", 3.1e6}, {"candidate", 3.1e6 * (1 + noise(rng))}, {"change", 0.0}}}};
    r["guards"] = {{"max_rss_kb", {{"effect", noise(rng)}, {"ci_low", -0.02}, {"ci_high", 0.02}, {"tolerance", 0.05}}}};
    r["pairs"] = pairs;
    r["reason"] = status == "keep" ? "faster" : status == "discard" ? "regression" : "undecided at 12 pairs";
    if (status == "keep") {
      r["commit"] = hex(rng, 40);
      best = cand_median;
    }
  } else {
    r["reason"] = status == "checks_failed"  ? "gate tests failed: exit 1"
                  : status == "crash"        ? "benchmark exited 139"
                  : status == "timeout"      ? "benchmark timed out after 5m"
                  : status == "apply_failed" ? "patch does not apply: src/a.c hunk 2"
                  : status == "rejected"     ? "duplicate of experiment 3 (proposer)"
                                             : "found unfinished at stage \"measure\" (the previous run stopped)";
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: autoresearch_gen_journal OUT.jsonl N SESSION [SEED]\n");
    return 2;
  }
  std::string out = argv[1];
  long n = std::stol(argv[2]);
  std::string session = argv[3];
  std::mt19937_64 rng(argc == 5 ? std::stoull(argv[4]) : 1);
  std::string start = hex(rng, 40);
  json header = {{"type", "header"},
                 {"schema", ar::journal::k_schema},
                 {"session", session},
                 {"created_at", iso(0)},
                 {"tool_version", "gen"},
                 {"start_commit", start},
                 {"config", {{"metric", {{"name", "wall_ms"}, {"unit", "ms"}, {"direction", "lower"}}}}}};
  std::string text = header.dump() + "\n";
  double best = 200.0;
  std::FILE* f = std::fopen(out.c_str(), "wb");
  if (f == nullptr) {
    std::fprintf(stderr, "autoresearch_gen_journal: cannot write %s\n", out.c_str());
    return 1;
  }
  for (long id = 1; id <= n; ++id) {
    text += experiment(rng, static_cast<int>(id), session, start, best).dump() + "\n";
    if (text.size() > (1 << 20) || id == n) {
      std::fwrite(text.data(), 1, text.size(), f);
      text.clear();
    }
  }
  if (!text.empty()) std::fwrite(text.data(), 1, text.size(), f);
  return std::fclose(f) == 0 ? 0 : 1;
}
