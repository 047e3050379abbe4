// `autoresearch show N`: one experiment as a reviewer wants it: what it tried, what became of it,
// the numbers behind the verdict, its diff and the end of its log. `--diff`, `--log` and `--json`
// narrow it.
#include "cli/commands.hpp"
#include "cli/read_view.hpp"

#include "config/config.hpp"
#include "git/git.hpp"
#include "journal/journal.hpp"
#include "session/paths.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/format.hpp"

#include <memory>

#include <fmt/format.h>

namespace ar::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t k_log_tail = 4000;  // characters of the log `show` prints by default

// The last `n` characters of `text`, cut at a line start.
std::string tail_of(const std::string& text, std::size_t n) {
  if (text.size() <= n) return text;
  std::size_t from = text.find('\n', text.size() - n);
  return from == std::string::npos ? text.substr(text.size() - n) : text.substr(from + 1);
}

std::string verdict_lines(const json& r) {
  std::string out;
  if (r.contains("metric") && r["metric"].is_object()) {
    const json& m = r["metric"];
    out += fmt::format("{}: {} over {} pairs (base median {}, candidate median {}); p {:.3g}\n",
                       m.value("name", "metric"),
                       util::effect_with_ci(m.value("effect", 0.0), m.value("ci_low", 0.0), m.value("ci_high", 0.0)),
                       r.value("pairs", 0), m.value("base_median", 0.0), m.value("candidate_median", 0.0),
                       m.value("p", 1.0));
  }
  if (r.contains("guards") && r["guards"].is_object()) {
    for (const auto& [name, g] : r["guards"].items()) {
      out += fmt::format("guard {}: {}\n", name,
                         util::effect_with_ci(g.value("effect", 0.0), g.value("ci_low", 0.0), g.value("ci_high", 0.0)));
    }
  }
  if (r.contains("gates") && r["gates"].is_array()) {
    for (const json& g : r["gates"]) {
      out += fmt::format("gate {}: {} in {:.1f}s\n", g.value("name", "?"), g.value("result", "?"), g.value("seconds", 0.0));
    }
  }
  return out;
}

}  // namespace

int run_show(const ShowOptions& options) {
  ReadView read = read_view(options.config);
  const config::Config& cfg = read.cfg;
  const session::Paths& paths = read.paths;
  const journal::SessionView& view = read.view;
  for (const auto& w : read.warnings) fmt::print(stderr, "warning: {}\n", w);
  const journal::Summary* found = nullptr;
  for (const journal::Summary& s : view.experiments) {
    if (s.id == options.id) found = &s;
  }
  if (found == nullptr) {
    throw ConfigError(fmt::format("{}: no experiment {} in session \"{}\" ({} recorded)", paths.journal.string(),
                                 options.id, cfg.session, view.experiments.size()));
  }
  json r = journal::read_record(paths.journal, *found);
  std::string patch_file = r.value("patch_file", "");
  std::optional<std::string> diff =
      patch_file.empty() ? std::nullopt : util::read_file(paths.root / patch_file);
  fs::path log = paths.logs / fmt::format("{:04d}.log", options.id);
  std::optional<std::string> log_text = util::read_file(log);

  if (options.json) {
    json out = {{"record", r},
                {"diff", diff ? json(*diff) : json(nullptr)},
                {"log_file", log_text ? json(log.string()) : json(nullptr)},
                {"log_tail", log_text ? json(tail_of(*log_text, k_log_tail)) : json(nullptr)}};
    fmt::print("{}\n", out.dump(2, ' ', false, json::error_handler_t::replace));
    return k_exit_ok;
  }
  const bool everything = !options.diff && !options.log;
  if (everything) {
    fmt::print("#{} {}\n", options.id, r.value("title", ""));
    fmt::print("status: {}{}\n", r.value("status", "?"),
               r.value("reason", "").empty() ? "" : " (" + r.value("reason", "") + ")");
    for (const char* key : {"hypothesis", "mechanism", "idea"}) {
      if (!r.value(key, "").empty()) fmt::print("{}: {}\n", key, r.value(key, ""));
    }
    if (r.contains("source")) {
      fmt::print("source: {} {}\n", r["source"].value("kind", ""), r["source"].value("file", ""));
    }
    const json pi = r.contains("asi") && r["asi"].is_object() ? r["asi"].value("pi", json()) : json();
    if (pi.is_object()) {
      // History from `autoresearch import`: pi's run and commit, not a commit of this session.
      fmt::print("imported: pi-autoresearch run {}, commit {}{}\n", pi.value("run", 0L), pi.value("commit", ""),
                 pi.contains("metric") ? fmt::format(", logged {}={}", pi.value("metric_name", ""), pi["metric"].dump())
                                       : "");
    } else {
      fmt::print("base: {}{}\n", r.value("base_commit", "").substr(0, 12),
                 r.value("commit", "").empty() ? "" : ", kept as " + r.value("commit", "").substr(0, 12));
    }
    fmt::print("{}", verdict_lines(r));
  }
  if (everything || options.diff) {
    if (everything) fmt::print("\n--- diff ({}) ---\n", patch_file.empty() ? "none saved" : patch_file);
    if (diff) fmt::print("{}", *diff);
  }
  if (everything || options.log) {
    if (everything) fmt::print("\n--- log ({}) ---\n", log_text ? log.string() : "none: no command ran");
    if (log_text) fmt::print("{}", options.log ? *log_text : tail_of(*log_text, k_log_tail));
  }
  return k_exit_ok;
}

void setup_show(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<ShowOptions>();
  CLI::App* sub = app.add_subcommand("show", "Show one experiment: what it tried, its verdict, its diff and its log");
  sub->add_option("id", opt->id, "Experiment number")->required()->check(CLI::PositiveNumber);
  sub->add_option("-c,--config", opt->config, "Config file")->capture_default_str();
  sub->add_flag("--diff", opt->diff, "Only the diff");
  sub->add_flag("--log", opt->log, "Only the log, whole");
  sub->add_flag("--json", opt->json, "Record, diff and log tail as JSON");
  sub->callback([opt, &exit_code]() { exit_code = run_show(*opt); });
}

}  // namespace ar::cli
