#include "sources/context.hpp"

#include "report/report.hpp"

#include "util/format.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace ar::sources {

using nlohmann::json;

namespace {

using util::pct;

}  // namespace

json proposer_context(const config::Config& cfg, const journal::SessionView& view,
                      const std::vector<ideas::Idea>& ideas, const std::string& dead_ends_markdown,
                      const std::string& notes) {
  report::Headline h = report::headline(view);
  json ctx = {
      {"session", cfg.session},
      {"goal", cfg.goal},
      {"metric",
       {{"name", cfg.metric.name}, {"direction", decide::to_string(cfg.metric.direction)}, {"unit", cfg.metric.unit}}},
      {"protected", cfg.protected_paths},
      {"scope", cfg.scope},
      {"min_effect", cfg.decision.min_effect}};
  if (h.measured) {
    ctx["baseline"] = {{"value", h.baseline}, {"experiment", h.baseline_experiment}};
    ctx["best"] = {
        {"value", h.best}, {"experiment", h.best_experiment}, {"change_vs_baseline", h.best / h.baseline - 1}};
    if (!view.kept.empty()) {
      const journal::Summary& k = view.experiments[view.kept.back()];
      ctx["best"]["last_keep"] = {{"effect", k.effect}, {"ci_low", k.ci_low}, {"ci_high", k.ci_high}};
    }
  }
  // Bounded: the context is built before every experiment, and nothing per experiment may grow
  // with the journal.
  json recent = json::array();
  size_t n = view.experiments.size();
  size_t want = static_cast<size_t>(std::max(0, cfg.sources.proposer.recent));
  for (size_t i = n > want ? n - want : 0; i < n; ++i) {
    const journal::Summary& r = view.experiments[i];
    json item = {{"id", r.id},         {"title", r.title},         {"status", r.status},
                 {"reason", r.reason}, {"mechanism", r.mechanism}, {"files", r.files}};
    if (r.imported()) item["imported"] = true;
    if (r.has_metric) {
      item["effect"] = r.effect;
      item["ci_low"] = r.ci_low;
      item["ci_high"] = r.ci_high;
    }
    recent.push_back(item);
  }
  ctx["recent_experiments"] = recent;
  // Imported history (autoresearch import): its size is fixed at import, so listing its latest
  // k_context_imported runs does not grow with the journal.
  if (!view.imported.empty()) {
    json runs = json::array();
    size_t k = view.imported.size();
    for (size_t j = k > k_context_imported ? k - k_context_imported : 0; j < k; ++j) {
      const journal::Summary& r = view.experiments[view.imported[j]];
      runs.push_back({{"id", r.id}, {"title", r.title}, {"status", r.status}, {"reason", r.reason},
                      {"mechanism", r.mechanism}});
    }
    ctx["imported"] = {{"from", "pi-autoresearch"},
                       {"file", view.experiments[view.imported.front()].source_file},
                       {"experiments", k},
                       {"counts", view.imported_counts},
                       {"runs", runs}};
  }
  json open_ideas = json::array();
  for (const auto& idea : ideas) {
    if (idea.done) continue;
    open_ideas.push_back({{"id", idea.id}, {"text", idea.text}, {"marks", idea.marks}});
  }
  ctx["ideas"] = open_ideas;
  size_t d = view.dead_ends.size();
  std::vector<const journal::Summary*> latest;
  for (size_t k = d > k_context_dead_ends ? d - k_context_dead_ends : 0; k < d; ++k) {
    latest.push_back(&view.experiments[view.dead_ends[k]]);
  }
  json dead = json::array();
  for (const journal::Summary* rp : latest) {
    const journal::Summary& r = *rp;
    json item = {
        {"id", r.id}, {"title", r.title}, {"status", r.status}, {"reason", r.reason}, {"mechanism", r.mechanism}};
    if (r.imported()) item["imported"] = true;
    if (r.has_metric) item["effect"] = r.effect;
    dead.push_back(item);
  }
  ctx["dead_ends"] = dead;
  ctx["dead_ends_markdown"] = dead_ends_markdown;
  ctx["notes"] = notes;
  return ctx;
}

std::string context_markdown(const json& c) {
  std::string out = fmt::format("# autoresearch: propose the next experiment (session {})\n\n", c.value("session", ""));
  if (!c.value("goal", "").empty()) out += "**Goal:** " + c.value("goal", "") + "\n\n";
  const json& m = c["metric"];
  out += fmt::format(
      "Primary metric: `{}` ({} is better{}). A change is kept only if it improves it by at least "
      "{} with statistical confidence and passes every gate.\n\n",
      m.value("name", ""), m.value("direction", ""), m.value("unit", "").empty() ? "" : ", unit " + m.value("unit", ""),
      pct(c.value("min_effect", 0.0)).substr(1));
  if (c.contains("best")) {
    out += fmt::format("Baseline {:.4g}, best so far {:.4g} ({} vs baseline).\n\n", c["baseline"].value("value", 0.0),
                       c["best"].value("value", 0.0), pct(c["best"].value("change_vs_baseline", 0.0)));
  }
  out +=
      "## How to propose\n\nEdit files in the current directory (a clean checkout of the best commit) to make "
      "ONE small change that tests ONE hypothesis. Then write a JSON object to the file named by "
      "$AUTORESEARCH_PROPOSAL: {\"title\", \"hypothesis\", \"mechanism\", \"idea\" (an idea id or \"\"), \"asi\" "
      "(any extra data)}. Do not run the benchmark; autoresearch measures it.\n\n";
  std::string prot;
  for (const auto& p : c["protected"]) prot += (prot.empty() ? "`" : ", `") + p.get<std::string>() + "`";
  out += "Never touch: " + (prot.empty() ? std::string("(nothing listed)") : prot) + ".\n";
  if (!c["scope"].empty()) {
    std::string scope;
    for (const auto& p : c["scope"]) scope += (scope.empty() ? "`" : ", `") + p.get<std::string>() + "`";
    out += "Only change: " + scope + ".\n";
  }
  out += "\n## Recent experiments\n\n";
  if (c["recent_experiments"].empty()) out += "_None yet._\n";
  for (const json& r : c["recent_experiments"]) {
    out += fmt::format(
        "- #{} {} — {}{}{}\n", r.value("id", 0), r.value("title", ""), r.value("status", ""),
        r.contains("effect")
            ? ", " + util::effect_with_ci(r.value("effect", 0.0), r.value("ci_low", 0.0), r.value("ci_high", 0.0))
            : "",
        r.value("mechanism", "").empty() ? "" : "; mechanism: " + r.value("mechanism", ""));
    if (r.value("imported", false)) out.insert(out.size() - 1, " (imported)");
  }
  if (c.contains("imported")) {
    const json& im = c["imported"];
    out += fmt::format(
        "\n## Imported history ({} runs of a pi-autoresearch session, {}; statuses chosen by pi's agent, values "
        "as it logged them)\n\n",
        im.value("experiments", 0), im.value("file", ""));
    for (const json& r : im["runs"]) {
      out += fmt::format("- #{} {} — {}; {}{}\n", r.value("id", 0), r.value("title", ""), r.value("status", ""),
                         r.value("reason", ""),
                         r.value("mechanism", "").empty() ? "" : "; why: " + r.value("mechanism", ""));
    }
  }
  out += "\n## Open ideas\n\n";
  if (c["ideas"].empty()) out += "_None._\n";
  for (const json& i : c["ideas"]) {
    out += fmt::format("- [{}] {}\n", i.value("id", ""), i.value("text", ""));
    for (const auto& mk : i["marks"]) out += "  - " + mk.get<std::string>() + "\n";
  }
  out += "\n## Dead ends: do not retry\n\n";
  std::string dead = c.value("dead_ends_markdown", "");
  size_t first_section = dead.find("\n## ");
  if (first_section == std::string::npos) {
    out += "_None._\n";
  } else {
    // The catalogue's headings sit one level below this section's.
    std::string body = dead.substr(first_section + 1);
    size_t pos = 0;
    while (pos < body.size()) {
      size_t end = body.find('\n', pos);
      if (end == std::string::npos) end = body.size();
      std::string line = body.substr(pos, end - pos);
      out += (line.rfind("#", 0) == 0 ? "#" + line : line) + "\n";
      pos = end + 1;
    }
  }
  if (!c.value("notes", "").empty()) out += "\n## Notes\n\n" + c.value("notes", "") + "\n";
  return out;
}

}  // namespace ar::sources
