#include "cli/commands.hpp"
#include "cli/read_view.hpp"

#include "config/config.hpp"
#include "git/git.hpp"
#include "ideas/ideas.hpp"
#include "journal/journal.hpp"
#include "session/paths.hpp"
#include "journal/record.hpp"
#include "session/state.hpp"
#include "report/report.hpp"
#include "util/error.hpp"
#include "util/format.hpp"

#include <memory>

#include <fmt/format.h>

namespace ar::cli {

using nlohmann::json;

namespace {

json status_json(const StatusOptions& options) {
  ReadView read = read_view(options.config);
  const config::Config& cfg = read.cfg;
  const session::Paths& paths = read.paths;
  const std::vector<std::string>& warnings = read.warnings;
  const journal::SessionView& view = read.view;
  report::Headline h = report::headline(view);

  json out = {{"session", cfg.session}, {"branch", "autoresearch/" + cfg.session}, {"warnings", warnings}};
  std::optional<json> state = session::read_state(paths);
  const bool has_pid = state && state->contains("pid") && (*state)["pid"].is_number();
  // The pid alone can lie (a zombie, or a number reused after a kill -9): a live run also holds
  // the lock, which dies with its process.
  const bool running = has_pid && session::pid_alive((*state)["pid"].get<long>()) && session::lock_held(paths);
  out["running"] = running;
  if (has_pid && !running) {
    json dead = {{"pid", (*state)["pid"]}, {"started_at", state->value("started_at", "")}};
    if ((*state)["experiment"].is_object()) {
      const json& e = (*state)["experiment"];
      dead["experiment"] = {{"id", e.value("id", 0)}, {"title", e.value("title", "")}, {"stage", e.value("stage", "")}};
    }
    out["dead_run"] = dead;
  }
  if (running) {
    out["pid"] = (*state)["pid"];
    out["started_at"] = state->value("started_at", "");
    if ((*state)["experiment"].is_object()) {
      const json& e = (*state)["experiment"];
      out["current"] = {{"id", e.value("id", 0)},
                        {"title", e.value("title", "")},
                        {"stage", e.value("stage", "")},
                        {"started_at", e.value("started_at", "")}};
    }
    // Executor slots: each slot's experiment and stage (the measured one among them).
    if ((*state)["slots"].is_array()) out["slots"] = (*state)["slots"];
  } else if (state && state->contains("stop_reason")) {
    out["last_stop"] = {{"at", state->value("finished_at", "")}, {"reason", state->value("stop_reason", "")}};
  }
  out["metric"] = {
      {"name", cfg.metric.name}, {"unit", cfg.metric.unit}, {"direction", decide::to_string(cfg.metric.direction)}};
  if (h.measured) {
    out["metric"]["baseline"] = h.baseline;
    out["metric"]["best"] = h.best;
    out["metric"]["change"] = h.best / h.baseline - 1.0;
  }
  out["experiments"] = view.own();
  out["counts"] = view.counts;
  if (!view.imported.empty()) {
    const journal::Summary& first = view.experiments[view.imported.front()];
    out["imported"] = {{"from", "pi-autoresearch"},
                       {"file", first.source_file},
                       {"experiments", view.imported.size()},
                       {"counts", view.imported_counts}};
  }
  json recent = json::array();
  size_t from = view.experiments.size() > 5 ? view.experiments.size() - 5 : 0;
  for (size_t i = from; i < view.experiments.size(); ++i) {
    const journal::Summary& r = view.experiments[i];
    json item = {{"id", r.id}, {"title", r.title}, {"status", r.status}, {"reason", r.reason}};
    if (r.imported()) item["imported"] = true;
    if (r.has_metric) item["effect"] = util::effect_with_ci(r.effect, r.ci_low, r.ci_high);
    recent.push_back(item);
  }
  out["recent"] = recent;
  json ideas = json::array();
  for (const auto& idea : ideas::read_ideas(paths.ideas)) {
    ideas.push_back(
        {{"line", idea.line}, {"id", idea.id}, {"text", idea.text}, {"done", idea.done}, {"marks", idea.marks}});
  }
  out["ideas"] = ideas;
  return out;
}

void print_status(const json& s) {
  fmt::print("session {} (branch {})\n", s["session"].get<std::string>(), s["branch"].get<std::string>());
  if (s["running"].get<bool>()) {
    fmt::print("  running: pid {} since {}\n", s["pid"].get<long>(), s["started_at"].get<std::string>());
    if (s.contains("current")) {
      const json& c = s["current"];
      fmt::print("  now:     #{} {}: {}\n", c["id"].get<int>(), c["title"].get<std::string>(),
                 c["stage"].get<std::string>());
    }
    if (s.contains("slots")) {
      for (const json& k : s["slots"]) {
        if (k.value("id", 0) > 0) {
          fmt::print("  slot {}:  #{} {}: {}\n", k.value("slot", 0), k.value("id", 0), k.value("title", ""),
                     k.value("stage", ""));
        } else {
          fmt::print("  slot {}:  idle\n", k.value("slot", 0));
        }
      }
    }
  } else if (s.contains("dead_run")) {
    const json& d = s["dead_run"];
    std::string where;
    if (d.contains("experiment")) {
      where = fmt::format(" during #{} {} ({}); the next run records it as interrupted",
                          d["experiment"]["id"].get<int>(), d["experiment"]["title"].get<std::string>(),
                          d["experiment"]["stage"].get<std::string>());
    }
    fmt::print("  not running: the run started {} (pid {}) stopped without finishing{}\n",
               d["started_at"].get<std::string>(), d["pid"].get<long>(), where);
  } else if (s.contains("last_stop")) {
    fmt::print("  not running; last run stopped {}: {}\n", s["last_stop"]["at"].get<std::string>(),
               s["last_stop"]["reason"].get<std::string>());
  } else {
    fmt::print("  not running\n");
  }
  const json& m = s["metric"];
  std::string unit = m["unit"].get<std::string>().empty() ? "" : " " + m["unit"].get<std::string>();
  if (m.contains("baseline")) {
    fmt::print("  {}: baseline {:.4g}{} -> best {:.4g}{} ({:+.1f}%, {} is better)\n", m["name"].get<std::string>(),
               m["baseline"].get<double>(), unit, m["best"].get<double>(), unit, m["change"].get<double>() * 100,
               m["direction"].get<std::string>());
  } else {
    fmt::print("  {}: nothing measured yet\n", m["name"].get<std::string>());
  }
  std::string counts;
  for (const auto& [status, n] : s["counts"].items())
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n.get<int>(), status);
  fmt::print("  experiments: {}{}\n", s["experiments"].get<size_t>(), counts.empty() ? "" : " (" + counts + ")");
  if (s.contains("imported")) {
    const json& im = s["imported"];
    std::string ic;
    for (const auto& [status, n] : im["counts"].items())
      ic += fmt::format("{}{} {}", ic.empty() ? "" : ", ", n.get<int>(), status);
    fmt::print("  imported: {} pi-autoresearch run(s) from {} ({}), shown as history\n",
               im["experiments"].get<size_t>(), im["file"].get<std::string>(), ic);
  }
  for (const json& r : s["recent"]) {
    bool imported = r.value("imported", false);
    std::string tail = r.contains("effect") ? "  " + r["effect"].get<std::string>() : "";
    if (imported) {
      std::string reason = r["reason"].get<std::string>();
      if (reason.rfind("imported: ", 0) == 0) reason = reason.substr(10);
      tail = "  (imported; " + reason + ")";
    }
    fmt::print("    #{:<3} {:<13} {}{}\n", r["id"].get<int>(), r["status"].get<std::string>(),
               r["title"].get<std::string>(), tail);
  }
  int open = 0;
  for (const json& i : s["ideas"]) open += i["done"].get<bool>() ? 0 : 1;
  fmt::print("ideas ({} open):\n", open);
  for (const json& i : s["ideas"]) {
    std::string id = i["id"].get<std::string>();
    fmt::print("  {} {}{}\n", i["done"].get<bool>() ? "[x]" : "-", id.empty() ? "" : "[" + id + "] ",
               i["text"].get<std::string>());
    for (const json& mark : i["marks"]) fmt::print("      {}\n", mark.get<std::string>());
  }
  for (const json& w : s["warnings"]) fmt::print(stderr, "warning: {}\n", w.get<std::string>());
}

}  // namespace

int run_status(const StatusOptions& options) {
  json s = status_json(options);
  if (options.json) {
    fmt::print("{}\n", s.dump(2));
  } else {
    print_status(s);
  }
  return k_exit_ok;
}

void setup_status(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<StatusOptions>();
  CLI::App* sub = app.add_subcommand("status", "Show where the session stands (works while `run` is going)");
  sub->add_option("-c,--config", opt->config, "Config file")->capture_default_str();
  sub->add_flag("--json", opt->json, "Print the same as JSON");
  sub->callback([opt, &exit_code]() { exit_code = run_status(*opt); });
}

}  // namespace ar::cli
