#include "report/report.hpp"

#include "util/files.hpp"

#include <algorithm>

#include "util/format.hpp"

#include <fmt/format.h>

namespace ar::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using util::pct;

std::string num(double v) { return fmt::format("{:.4g}", v); }

// Keeps a table cell on one line.
std::string cell(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '|') c = ' ';
  }
  return text.empty() ? "—" : text;
}

bool has_metric(const json& r) { return r.contains("metric") && r["metric"].is_object(); }

std::string effect_ci(const json& r) {
  if (!has_metric(r)) return "—";
  const json& m = r["metric"];
  return fmt::format("{} ({} to {})", pct(m.value("effect", 0.0)), pct(m.value("ci_low", 0.0)), pct(m.value("ci_high", 0.0)));
}

std::string why(const json& r) {
  std::string mech = r.value("mechanism", "");
  std::string reason = r.value("reason", "");
  if (mech.empty()) return reason;
  if (reason.empty()) return mech;
  return mech + " — " + reason;
}

bool is_dead_end(const json& r) {
  std::string s = r.value("status", "");
  return s == "discard" || s == "checks_failed";
}

std::string short_commit(const json& r) { return r.value("commit", "").substr(0, 12); }

} // namespace

Headline headline(const journal::SessionView& view) {
  Headline h;
  double chain = 1.0;
  for (const json& r : view.experiments) {
    if (!has_metric(r)) continue;
    if (!h.measured) {
      h.measured = true;
      h.baseline = r["metric"].value("base_median", 0.0);
      h.baseline_experiment = r.value("id", 0);
      h.best = h.baseline;
    }
    if (r.value("status", "") == "keep") {
      chain *= 1.0 + r["metric"].value("effect", 0.0);
      h.best = r["metric"].value("candidate_median", 0.0);
      h.best_experiment = r.value("id", 0);
    }
  }
  h.chained = chain - 1.0;
  return h;
}

namespace {

// Dead ends are grouped by what they tried: the idea they tested, the swept knob, or nothing named.
std::string axis_of(const json& r) {
  const json asi = r.value("asi", json::object());
  if (asi.is_object() && asi.contains("sweep")) return "sweep " + asi.value("sweep", "");
  if (!r.value("idea", "").empty()) return "idea " + r.value("idea", "");
  return "";
}

} // namespace

std::string render_dead_ends(const journal::SessionView& view, const config::Config& cfg) {
  std::string out = fmt::format("# Dead ends: session {}\n\n", view.session);
  out += "Each of these was tried and failed; do not retry it without a new reason. Effects are the change of "
         "the primary metric `" + cfg.metric.name + "` (" + decide::to_string(cfg.metric.direction) +
         " is better) with its 95% confidence interval. Grouped by the idea or knob they tried.\n\n";
  std::vector<std::string> axes;
  for (const json& r : view.experiments) {
    if (!is_dead_end(r)) continue;
    std::string a = axis_of(r);
    if (std::find(axes.begin(), axes.end(), a) == axes.end()) axes.push_back(a);
  }
  // Named axes first, in order of first appearance; the unnamed ones last.
  std::stable_partition(axes.begin(), axes.end(), [](const std::string& a) { return !a.empty(); });
  for (const std::string& axis : axes) {
    out += axis.empty() ? std::string("## Other changes\n\n") : fmt::format("## {}\n\n", axis);
    for (const json& r : view.experiments) {
      if (!is_dead_end(r) || axis_of(r) != axis) continue;
      out += fmt::format("### {} (experiment {})\n\n", cell(r.value("title", "")), r.value("id", 0));
      std::string reason = r.value("reason", "");
      out += fmt::format("- outcome: {}{}\n", r.value("status", ""), reason.empty() ? "" : " — " + reason);
      if (has_metric(r)) out += fmt::format("- effect: {} over {} pairs\n", effect_ci(r), r.value("pairs", 0));
      if (!r.value("mechanism", "").empty()) out += "- mechanism: " + r.value("mechanism", "") + "\n";
      if (!r.value("hypothesis", "").empty()) out += "- hypothesis: " + r.value("hypothesis", "") + "\n";
      if (r.contains("files") && !r["files"].empty()) {
        std::string files;
        for (const auto& f : r["files"]) files += (files.empty() ? "" : ", ") + f.get<std::string>();
        out += "- files: " + files + "\n";
      }
      out += fmt::format("- source: {}; diff: {}\n\n", r.value("source", json::object()).value("file", "?"),
                         r.value("patch_file", "?"));
    }
  }
  if (axes.empty()) out += "_None yet._\n";
  return out;
}

void write_dead_ends(const journal::SessionView& view, const config::Config& cfg, const fs::path& dir) {
  fs::create_directories(dir);
  util::write_file_atomic(dir / "dead-ends.md", render_dead_ends(view, cfg));
}

std::string render_report(const journal::SessionView& view, const config::Config& cfg) {
  const std::string& metric = cfg.metric.name;
  std::string unit = cfg.metric.unit.empty() ? "" : " " + cfg.metric.unit;
  Headline h = headline(view);
  std::string out = fmt::format("# autoresearch report: session {}\n\n", view.session);
  if (!cfg.goal.empty()) out += "**Goal:** " + cfg.goal + "\n\n";
  std::string best_commit = view.kept.empty() ? view.start_commit.substr(0, 12)
                                              : short_commit(view.experiments[view.kept.back()]);
  out += fmt::format("Branch `autoresearch/{}`: started at `{}`, best `{}`. Merge it with `git merge autoresearch/{}`.\n\n",
                     view.session, view.start_commit.substr(0, 12), best_commit, view.session);

  out += "## Headline\n\n";
  if (h.measured) {
    out += fmt::format("| metric | baseline | best | change |\n|---|---:|---:|---:|\n");
    out += fmt::format("| `{}` ({} is better) | {}{} | {}{} | **{}** |\n\n", metric, decide::to_string(cfg.metric.direction),
                       num(h.baseline), unit, num(h.best), unit, pct(h.best / h.baseline - 1.0));
    std::string best_commit_hex = view.kept.empty() ? view.start_commit : view.experiments[view.kept.back()].value("commit", "");
    if (view.last_verify && view.last_verify->value("best_commit", "") == best_commit_hex && !view.kept.empty()) {
      const json& v = *view.last_verify;
      const json& vm = v["metric"];
      out += fmt::format("**Verified cumulative gain: {} (95% CI {} to {})**, measured by `autoresearch verify` at {}: {} "
                         "alternating pairs of the start commit against the best commit ({:.4g}{} -> {:.4g}{}, p={:.2g}). "
                         "This is the figure to quote; per-step effects chained together ({}) can overstate it when "
                         "many small wins are kept.\n\n",
                         pct(vm.value("effect", 0.0)), pct(vm.value("ci_low", 0.0)), pct(vm.value("ci_high", 0.0)),
                         v.value("at", ""), v.value("pairs", 0), vm.value("base_median", 0.0), unit,
                         vm.value("candidate_median", 0.0), unit, vm.value("p", 1.0), pct(h.chained));
    } else if (!view.kept.empty()) {
      out += "Not verified yet: `autoresearch verify` re-measures the best commit against the start commit with more "
             "pairs and puts the cumulative gain with its confidence interval here.\n\n";
    }
    out += fmt::format("Baseline: median of the base runs of experiment {} (the start commit). Best: median of the "
                       "candidate runs of experiment {}. The per-keep effects below are paired measurements; "
                       "chained together they give {}.\n\n",
                       h.baseline_experiment, h.best_experiment == 0 ? h.baseline_experiment : h.best_experiment,
                       pct(h.chained));
  } else {
    out += "Nothing has been measured yet.\n\n";
  }
  std::string counts;
  for (const std::string& s : journal::statuses()) {
    auto it = view.counts.find(s);
    if (it != view.counts.end()) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", it->second, s);
  }
  out += fmt::format("Experiments: {}{}.\n\n", view.experiments.size(), counts.empty() ? "" : " (" + counts + ")");

  out += "## Kept commits\n\n";
  if (view.kept.empty()) {
    out += "_None._\n\n";
  } else {
    out += "| exp | commit | title | effect (95% CI) | p | pairs | cumulative | mechanism |\n"
           "|---:|---|---|---|---:|---:|---:|---|\n";
    double chain = 1.0;
    for (size_t i : view.kept) {
      const json& r = view.experiments[i];
      chain *= 1.0 + r["metric"].value("effect", 0.0);
      out += fmt::format("| {} | `{}` | {} | {} | {:.2g} | {} | {} | {} |\n", r.value("id", 0), short_commit(r),
                         cell(r.value("title", "")), effect_ci(r), r["metric"].value("p", 1.0), r.value("pairs", 0),
                         pct(chain - 1.0), cell(r.value("mechanism", "")));
    }
    out += "\n";
  }

  out += "## Dead ends (do not retry)\n\n";
  bool any = false;
  for (const json& r : view.experiments) {
    if (!is_dead_end(r)) continue;
    if (!any) out += "| exp | title | outcome | effect (95% CI) | why |\n|---:|---|---|---|---|\n";
    any = true;
    out += fmt::format("| {} | {} | {} | {} | {} |\n", r.value("id", 0), cell(r.value("title", "")),
                       r.value("status", ""), effect_ci(r), cell(why(r)));
  }
  out += any ? "\nFull entries: `reports/dead-ends.md`.\n\n" : "_None._\n\n";

  out += "## Inconclusive (retry candidates)\n\n";
  any = false;
  for (const json& r : view.experiments) {
    if (r.value("status", "") != "inconclusive") continue;
    if (!any) out += "| exp | title | effect (95% CI) | pairs |\n|---:|---|---|---:|\n";
    any = true;
    out += fmt::format("| {} | {} | {} | {} |\n", r.value("id", 0), cell(r.value("title", "")), effect_ci(r),
                       r.value("pairs", 0));
  }
  out += any ? "\n" : "_None._\n\n";

  out += "## Not measured\n\n";
  any = false;
  for (const json& r : view.experiments) {
    std::string s = r.value("status", "");
    if (s == "keep" || s == "inconclusive" || is_dead_end(r)) continue;
    if (!any) out += "| exp | title | outcome | reason |\n|---:|---|---|---|\n";
    any = true;
    out += fmt::format("| {} | {} | {} | {} |\n", r.value("id", 0), cell(r.value("title", "")), s,
                       cell(r.value("reason", "")));
  }
  out += any ? "\n" : "_None._\n\n";

  std::vector<std::string> sweeps;
  for (const json& r : view.experiments) {
    const json asi = r.value("asi", json::object());
    if (!asi.is_object() || !asi.contains("sweep")) continue;
    std::string name = asi.value("sweep", "");
    if (std::find(sweeps.begin(), sweeps.end(), name) == sweeps.end()) sweeps.push_back(name);
  }
  if (!sweeps.empty()) out += "## Sweeps\n\n";
  for (const std::string& name : sweeps) {
    std::string from;
    const json* best = nullptr;
    std::string rows;
    for (const json& r : view.experiments) {
      const json asi = r.value("asi", json::object());
      if (!asi.is_object() || asi.value("sweep", "") != name) continue;
      if (from.empty()) from = asi.value("from", "");
      rows += fmt::format("| {} | {} | {} | {} | {} |\n", asi.value("value", ""), r.value("id", 0), r.value("status", ""),
                          effect_ci(r), r.value("pairs", 0));
      // Each value is tried against the best commit of its time, so the last value kept is the one
      // in force at the end: the best any of them did.
      if (r.value("status", "") == "keep") best = &r;
    }
    out += fmt::format("### {}\n\n| value | exp | outcome | effect (95% CI) | pairs |\n|---|---:|---|---|---:|\n", name);
    out += fmt::format("| {} (in force) | — | baseline | — | — |\n", from.empty() ? "?" : from);
    out += rows;
    if (best != nullptr) {
      out += fmt::format("\nBest value: **{}** (experiment {}, {}).\n\n", (*best)["asi"].value("value", ""),
                         best->value("id", 0), effect_ci(*best));
    } else {
      out += fmt::format("\nBest value: **{}**, the value in force; no other value was kept.\n\n", from.empty() ? "?" : from);
    }
  }

  out += "## Secondary metrics: baseline vs best\n\n";
  const json* first = nullptr;
  for (const json& r : view.experiments) {
    if (has_metric(r)) {
      first = &r;
      break;
    }
  }
  const json* last = view.kept.empty() ? first : &view.experiments[view.kept.back()];
  if (first != nullptr && first->contains("metrics") && !(*first)["metrics"].empty()) {
    out += "| metric | baseline | best | change |\n|---|---:|---:|---:|\n";
    for (const auto& [name, v] : (*first)["metrics"].items()) {
      double base = v.value("base", 0.0);
      double best = base;
      if (last != first && last->contains("metrics") && (*last)["metrics"].contains(name)) {
        best = (*last)["metrics"][name].value("candidate", base);
      } else if (last == first && !view.kept.empty()) {
        best = v.value("candidate", base);
      }
      out += fmt::format("| `{}` | {} | {} | {} |\n", name, num(base), num(best), base != 0 ? pct(best / base - 1) : "—");
    }
    out += "\n";
  } else {
    out += "_No secondary metrics recorded._\n\n";
  }

  // What a reviewer checks before trusting the numbers: every kept change passed the gates, stayed
  // within its guards, and nothing touched what defines the experiment.
  out += "## Safety\n\n";
  int measured = 0, tampering = 0, protected_rejects = 0;
  for (const json& r : view.experiments) {
    if (has_metric(r)) ++measured;
    std::string reason = r.value("reason", "");
    if (reason.rfind("tampering:", 0) == 0) ++tampering;
    if (r.value("status", "") == "rejected" && reason.find("protected") != std::string::npos) ++protected_rejects;
  }
  out += fmt::format("- Gates: all {} measured experiments passed every gate before a single benchmark run (an "
                     "experiment whose gate fails is never measured).\n", measured);
  for (const auto& g : cfg.guards) {
    std::string worst;
    double worst_effect = -1e9;
    for (size_t i : view.kept) {
      const json& r = view.experiments[i];
      if (!r.contains("guards") || !r["guards"].contains(g.name)) continue;
      double e = r["guards"][g.name].value("effect", 0.0);
      double worsening = g.direction == decide::Direction::lower ? e : -e;
      if (worsening > worst_effect) {
        worst_effect = worsening;
        worst = fmt::format("experiment {}: {}", r.value("id", 0), effect_ci(json{{"metric", r["guards"][g.name]}}));
      }
    }
    out += worst.empty() ? fmt::format("- Guard `{}`: no kept change to check.\n", g.name)
                         : fmt::format("- Guard `{}` (tolerance {:.0f}%): every kept change within it; the largest "
                                       "move was {}.\n", g.name, g.tolerance * 100, worst);
  }
  out += fmt::format("- Protected paths: {} patch(es) rejected for touching them; {} experiment(s) caught changing the "
                     "tracked tree or a protected file while running (rejected as tampering).\n\n",
                     protected_rejects, tampering);

  const decide::Rule& rule = cfg.decision;
  out += "## Methodology\n\n";
  if (view.last_calibration) {
    const json& c = *view.last_calibration;
    std::string noise;
    for (const auto& [name, m] : c["metrics"].items()) {
      if (!m.contains("cv")) continue;
      noise += fmt::format("{}`{}` {:.2f}%", noise.empty() ? "" : ", ", name, m["cv"].get<double>() * 100);
    }
    out += fmt::format("- Noise (A/A calibration at {}, {} pairs of the best commit against itself): run-to-run {}; "
                       "smallest effect detectable at {} pairs: {:.2f}%{}.\n",
                       c.value("at", ""), c.value("pairs", 0), noise, rule.max_pairs,
                       c.value("detectable_effect", 0.0) * 100, c.value("broken", false) ? " — the A/A run told the copies apart" : "");
  }
  out += fmt::format("- Each sample is one run of `{}`; base (best commit) and candidate run in alternating pairs "
                     "(AB, BA, ...) from two worktrees with equal-length paths, after {} warm-up run(s) per side.\n",
                     cfg.benchmark.command, cfg.benchmark.warmup);
  std::string looks;
  for (int l : rule.looks) looks += (looks.empty() ? "" : ", ") + std::to_string(l);
  if (rule.method == decide::Method::sequential) {
    out += fmt::format("- Keep rule (sequential): per pair d = ln(candidate/base); looks at {} pairs; at the first only "
                       "discard (the mean of the pairs without the worst one shows no {} improvement); from the second a "
                       "one-sided trimmed (Yuen) t-test with alpha {} spent across the looks (at {} pairs: {:.4g}); keep "
                       "when significant and the median effect beats {}; discard when it is below half of that; undecided "
                       "at {} pairs is inconclusive.\n",
                       looks, pct(rule.min_effect).substr(1), rule.alpha, rule.max_pairs,
                       decide::look_alpha(rule, rule.max_pairs), pct(rule.min_effect).substr(1), rule.max_pairs);
  } else {
    out += fmt::format("- Keep rule ({}): min_effect {}, alpha {}, at most {} pairs.\n", decide::to_string(rule.method),
                       pct(rule.min_effect).substr(1), rule.alpha, rule.max_pairs);
  }
  if (!cfg.guards.empty()) {
    for (const auto& g : cfg.guards) {
      out += fmt::format("- Guard `{}` ({} is better) may not worsen by more than {:.0f}%.\n", g.name,
                         decide::to_string(g.direction), g.tolerance * 100);
    }
  }
  std::string gates = cfg.build.command.empty() ? "" : "build";
  for (const auto& g : cfg.gates) gates += (gates.empty() ? "" : ", ") + g.name;
  out += fmt::format("- Gates, run on every candidate before it is measured: {}. No change was measured, let alone "
                     "kept, without passing all of them.\n", gates.empty() ? "none" : gates);
  std::string prot;
  for (const auto& p : cfg.protected_paths) prot += (prot.empty() ? "`" : ", `") + p + "`";
  out += fmt::format("- Protected paths (patches touching them are rejected before anything runs): {}.\n",
                     prot.empty() ? "none besides the config and journal" : prot);
  out += "- Every experiment's diff is kept as `.autoresearch/patches/<id>.patch`; full logs in "
         "`.autoresearch/logs/<id>.log`.\n\n";

  out += "## Raw numbers\n\n";
  for (const json& r : view.experiments) {
    if (!has_metric(r)) continue;
    auto join = [](const json& arr) {
      std::string s;
      for (const auto& v : arr) s += (s.empty() ? "" : ", ") + num(v.get<double>());
      return s;
    };
    out += fmt::format("- experiment {} ({}): base [{}]; candidate [{}]\n", r.value("id", 0), r.value("status", ""),
                       join(r["metric"]["base"]), join(r["metric"]["candidate"]));
  }
  return out;
}

void write_report(const journal::SessionView& view, const config::Config& cfg, const fs::path& dir) {
  fs::create_directories(dir);
  util::write_file_atomic(dir / "report.md", render_report(view, cfg));
  write_dead_ends(view, cfg, dir);
}

} // namespace ar::report
