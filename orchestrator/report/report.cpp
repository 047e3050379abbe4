#include "report/report.hpp"

#include "journal/record.hpp"


#include "util/files.hpp"

#include <algorithm>
#include <map>

#include "util/format.hpp"

#include <fmt/format.h>

namespace ar::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// One line for the methodology: "<CPU> (2 cores), 23.4 GiB, Linux 6.1.0 x86_64; gcc ...; load 0.52
// 0.40 0.33 at start" (session/environment.hpp writes what it reads).
std::string describe_environment(const nlohmann::json& env) {
  if (!env.is_object() || env.empty()) return "";
  std::string out = env.value("cpu", "unknown CPU");
  if (env.contains("cores")) out += fmt::format(" ({} cores)", env["cores"].get<long>());
  if (env.contains("memory_kb")) out += fmt::format(", {:.1f} GiB", env["memory_kb"].get<double>() / (1024.0 * 1024.0));
  if (env.contains("kernel")) out += ", " + env["kernel"].get<std::string>();
  std::string compilers;
  if (env.contains("compilers") && env["compilers"].is_object()) {
    for (const auto& [tool, v] : env["compilers"].items()) compilers += (compilers.empty() ? "" : "; ") + v.get<std::string>();
  }
  if (!compilers.empty()) out += "; " + compilers;
  if (env.contains("load_average") && env["load_average"].size() == 3) {
    const nlohmann::json& l = env["load_average"];
    out += fmt::format("; load {:.2f} {:.2f} {:.2f} at start", l[0].get<double>(), l[1].get<double>(), l[2].get<double>());
  }
  return out;
}


using util::pct;

std::string num(double v) {
  return fmt::format("{:.4g}", v);
}

// Keeps a table cell on one line.
std::string cell(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '|') c = ' ';
  }
  return text.empty() ? "—" : text;
}

using journal::Summary;

std::string effect_ci(double effect, double lo, double hi) {
  return fmt::format("{} ({} to {})", pct(effect), pct(lo), pct(hi));
}

std::string effect_ci(const Summary& r) {
  return r.has_metric ? effect_ci(r.effect, r.ci_low, r.ci_high) : "—";
}

std::string why(const Summary& r) {
  if (r.mechanism.empty()) return r.reason;
  if (r.reason.empty()) return r.mechanism;
  return r.mechanism + " — " + r.reason;
}

bool is_dead_end(const Summary& r) {
  return r.status == "discard" || r.status == "checks_failed";
}

std::string short_commit(const Summary& r) {
  return r.commit.substr(0, 12);
}

// The report lists the samples of the latest measured experiments only: each is a read of the
// full record, and the rest stay in results.jsonl.
constexpr std::size_t k_raw_numbers = 200;

}  // namespace

Headline headline(const journal::SessionView& view) {
  // From the view's running aggregates: the loop asks before every experiment.
  Headline h;
  if (view.first_measured < 0) return h;
  const Summary& first = view.experiments[static_cast<size_t>(view.first_measured)];
  h.measured = true;
  h.baseline = first.base_median;
  h.baseline_experiment = first.id;
  h.best = h.baseline;
  if (!view.kept.empty()) {
    const Summary& last = view.experiments[view.kept.back()];
    h.best = last.candidate_median;
    h.best_experiment = last.id;
  }
  h.chained = view.keep_product - 1.0;
  return h;
}

HeadlineTable headline_table(const journal::SessionView& view, const config::Config& cfg) {
  HeadlineTable t;
  const Headline h = headline(view);
  if (!h.measured) return t;
  struct Spec {
    std::string name, role;
    decide::Direction direction;
  };
  std::vector<Spec> specs{{cfg.metric.name, "primary", cfg.metric.direction}};
  for (const auto& c : cfg.confirms) specs.push_back({c.name, "confirm", c.direction});
  for (const auto& g : cfg.guards)
    specs.push_back({g.name, fmt::format("guard (tolerance {:.0f}%)", g.tolerance * 100), g.direction});

  const std::string best = best_commit(view);
  const json* verify = nullptr;
  if (!view.kept.empty() && view.last_verify && view.last_verify->value("best_commit", "") == best) {
    verify = &*view.last_verify;
    t.verified = true;
    t.pairs = verify->value("pairs", 0);
    t.at = verify->value("at", "");
  }
  const json* ref = verify != nullptr && verify->contains("reference") ? &(*verify)["reference"] : nullptr;
  if (ref != nullptr) {
    t.reference = ref->contains("commit") ? "commit " + ref->value("commit", "") : "command " + ref->value("command", "");
  }
  // Without a verify: the medians of the first measured experiment's base and the last keep's candidate.
  json first_metrics = json::object(), last_metrics = json::object();
  if (verify == nullptr) {
    const Summary& first = view.experiments[static_cast<size_t>(view.first_measured)];
    first_metrics = journal::read_record(view.journal, first).value("metrics", json::object());
    last_metrics = view.kept.empty() ? first_metrics
                                     : journal::read_record(view.journal, view.experiments[view.kept.back()])
                                           .value("metrics", json::object());
  }
  for (const Spec& spec : specs) {
    HeadlineRow row;
    row.name = spec.name;
    row.role = spec.role;
    row.direction = spec.direction;
    const bool primary = spec.name == cfg.metric.name;
    if (verify != nullptr) {
      const json& m = primary ? (*verify)["metric"] : verify->value("metrics", json::object()).value(spec.name, json());
      if (!m.is_object()) continue;
      row.baseline = m.value(primary ? "base_median" : "base", 0.0);
      row.final = m.value(primary ? "candidate_median" : "candidate", 0.0);
      row.change = m.value(primary ? "effect" : "change", 0.0);
      if (m.contains("ci_low")) {
        row.has_ci = true;
        row.change = m.value("effect", row.change);
        row.ci_low = m.value("ci_low", 0.0);
        row.ci_high = m.value("ci_high", 0.0);
      }
    } else if (primary) {
      row.baseline = h.baseline;
      row.final = h.best;
      row.change = h.baseline != 0 ? h.best / h.baseline - 1 : 0;
    } else {
      if (!first_metrics.contains(spec.name)) continue;
      row.baseline = first_metrics[spec.name].value("base", 0.0);
      row.final = view.kept.empty() ? row.baseline
                                    : last_metrics.value(spec.name, json::object()).value("candidate", row.baseline);
      row.change = row.baseline != 0 ? row.final / row.baseline - 1 : 0;
    }
    if (ref != nullptr) {
      const json r = ref->value("metrics", json::object()).value(spec.name, json());
      if (r.is_object() && r.contains("ci_low")) {
        // effect = best / reference - 1; "times better": reference / best when lower is better.
        auto times = [&](double e) { return spec.direction == decide::Direction::lower ? 1 / (1 + e) : 1 + e; };
        row.has_reference = true;
        row.reference = r.value("reference", 0.0);
        row.ratio = times(r.value("effect", 0.0));
        double a = times(r.value("ci_low", 0.0)), b = times(r.value("ci_high", 0.0));
        row.ratio_low = std::min(a, b);
        row.ratio_high = std::max(a, b);
      }
    }
    t.rows.push_back(row);
  }
  return t;
}

std::string best_commit(const journal::SessionView& view) {
  return view.kept.empty() ? view.start_commit : view.experiments[view.kept.back()].commit;
}

std::map<int, const json*> current_ablations(const journal::SessionView& view) {
  std::map<int, const json*> out;
  const std::string best = best_commit(view);
  for (const auto& [id, a] : view.ablations) {
    if (a.value("best_commit", "") == best) out[id] = &a;
  }
  return out;
}

bool no_longer_helps(const json& a) {
  return a.value("verdict", "") == "no_longer_helps";
}

std::string ablation_text(const json& a) {
  const std::string verdict = a.value("verdict", "");
  std::string text = verdict == "still_helps"       ? "still helps"
                     : verdict == "no_longer_helps" ? "no longer helps"
                     : verdict == "entangled"       ? "entangled"
                                                    : "not measured";
  if (a.contains("metric") && a["metric"].is_object()) text += ": " + journal::effect_text(a["metric"]);
  return text;
}

json report_json(const journal::SessionView& view, const config::Config& cfg) {
  const Headline h = headline(view);
  json metric = {{"name", cfg.metric.name}, {"unit", cfg.metric.unit}, {"direction", decide::to_string(cfg.metric.direction)}};
  if (h.measured) {
    metric["baseline"] = h.baseline;
    metric["best"] = h.best;
    metric["change"] = h.best / h.baseline - 1.0;
    metric["baseline_experiment"] = h.baseline_experiment;
    metric["best_experiment"] = h.best_experiment;
  }
  json experiments = json::array();
  json inconclusive = json::array();
  for (const Summary& r : view.experiments) {
    json e = {{"id", r.id},         {"status", r.status}, {"reason", r.reason},     {"title", r.title},
              {"mechanism", r.mechanism}, {"idea", r.idea}, {"source", r.source_kind}, {"pairs", r.pairs},
              {"files", r.files}};
    if (r.has_metric) {
      e["effect"] = r.effect;
      e["ci_low"] = r.ci_low;
      e["ci_high"] = r.ci_high;
      e["p"] = r.p;
    }
    if (!r.commit.empty()) e["commit"] = r.commit;
    if (r.imported()) e["imported"] = true;
    if (r.has_sweep) e["sweep"] = {{"name", r.sweep}, {"value", r.sweep_value}};
    if (r.status == "inconclusive") inconclusive.push_back(r.id);
    experiments.push_back(std::move(e));
  }
  json kept = json::array();
  for (std::size_t i : view.kept) kept.push_back(view.experiments[i].id);
  json dead = json::array();
  for (std::size_t i : view.dead_ends) dead.push_back(view.experiments[i].id);
  json out = {{"session", view.session}, {"metric", metric},   {"experiments", experiments}, {"kept", kept},
              {"dead_ends", dead},       {"inconclusive", inconclusive}, {"counts", view.counts}};
  if (!view.imported.empty()) out["imported_counts"] = view.imported_counts;
  if (view.header) {
    out["start_commit"] = view.start_commit;
    for (const char* key : {"environment", "sandbox"}) {
      if (view.header->contains(key)) out[key] = (*view.header)[key];
    }
  }
  if (view.last_calibration) out["calibration"] = *view.last_calibration;
  if (view.last_verify) out["verify"] = *view.last_verify;
  const HeadlineTable t = headline_table(view, cfg);
  json rows = json::array();
  for (const HeadlineRow& r : t.rows) {
    json row = {{"name", r.name},         {"role", r.role},     {"direction", decide::to_string(r.direction)},
                {"baseline", r.baseline}, {"final", r.final},   {"change", r.change}};
    if (r.has_ci) row["ci"] = {r.ci_low, r.ci_high};
    if (r.has_reference) {
      row["reference"] = r.reference;
      row["times_better_than_reference"] = r.ratio;
      row["times_better_ci"] = {r.ratio_low, r.ratio_high};
    }
    rows.push_back(row);
  }
  out["headline"] = {{"rows", rows}, {"verified", t.verified}, {"reference", t.reference}};
  json ablations = json::array();
  for (const auto& [id, a] : current_ablations(view)) {
    json brief = {{"experiment", id}, {"verdict", a->value("verdict", "")}, {"reason", a->value("reason", "")},
                  {"at", a->value("at", "")}};
    if (a->contains("metric")) {
      for (const char* k : {"effect", "ci_low", "ci_high", "p"}) brief[k] = (*a)["metric"].value(k, 0.0);
      brief["pairs"] = a->value("pairs", 0);
    }
    ablations.push_back(brief);
  }
  out["ablations"] = ablations;
  return out;
}

namespace {

// Dead ends are grouped by what they tried: the idea they tested, the swept knob, or nothing named.
std::string axis_of(const Summary& r) {
  if (r.has_sweep) return "sweep " + r.sweep;
  if (!r.idea.empty()) return "idea " + r.idea;
  return "";
}

// Where the Markdown goes: a string, or a file piece by piece, so that the report of a long
// session is never held whole.
class Out {
 public:
  explicit Out(util::AtomicFile* file = nullptr) : m_file(file) {}
  Out& operator+=(std::string_view text) {
    m_text += text;
    if (m_file != nullptr && m_text.size() >= (1u << 20)) flush();
    return *this;
  }
  void flush() {
    if (m_file == nullptr) return;
    m_file->write(m_text);
    m_text.clear();
  }
  std::string take() { return std::move(m_text); }

 private:
  util::AtomicFile* m_file;
  std::string m_text;
};

void render_dead_ends_to(Out& out, const journal::SessionView& view, const config::Config& cfg, size_t limit);
void render_report_to(Out& out, const journal::SessionView& view, const config::Config& cfg);

// Renders into `path` atomically, streamed.
template <typename Render>
void write_streamed(const fs::path& path, Render render) {
  util::AtomicFile file(path);
  Out out(&file);
  render(out);
  out.flush();
  file.commit();
}

}  // namespace

std::string render_dead_ends(const journal::SessionView& view, const config::Config& cfg, size_t limit) {
  Out out;
  render_dead_ends_to(out, view, cfg, limit);
  return out.take();
}

std::string render_report(const journal::SessionView& view, const config::Config& cfg) {
  Out out;
  render_report_to(out, view, cfg);
  return out.take();
}

void write_dead_ends(const journal::SessionView& view, const config::Config& cfg, const fs::path& dir) {
  fs::create_directories(dir);
  write_streamed(dir / "dead-ends.md", [&](Out& out) { render_dead_ends_to(out, view, cfg, static_cast<size_t>(-1)); });
}

void write_report(const journal::SessionView& view, const config::Config& cfg, const fs::path& dir) {
  fs::create_directories(dir);
  write_streamed(dir / "report.md", [&](Out& out) { render_report_to(out, view, cfg); });
  write_dead_ends(view, cfg, dir);
}

namespace {

void render_dead_ends_to(Out& out, const journal::SessionView& view, const config::Config& cfg, size_t limit) {
  out += fmt::format("# Dead ends: session {}\n\n", view.session);
  out +=
      "Each of these was tried and failed; do not retry it without a new reason. Effects are the change of "
      "the primary metric `" +
      cfg.metric.name + "` (" + decide::to_string(cfg.metric.direction) +
      " is better) with its 95% confidence interval. Grouped by the idea or knob they tried.\n\n";
  // One pass groups the dead ends by axis.
  std::vector<std::string> axes;
  std::map<std::string, std::vector<const Summary*>> by_axis;
  size_t skip = view.dead_ends.size() > limit ? view.dead_ends.size() - limit : 0;
  for (size_t k = skip; k < view.dead_ends.size(); ++k) {
    const Summary& r = view.experiments[view.dead_ends[k]];
    std::string a = axis_of(r);
    auto& list = by_axis[a];
    if (list.empty()) axes.push_back(a);
    list.push_back(&r);
  }
  // Named axes first, in order of first appearance; the unnamed ones last.
  std::stable_partition(axes.begin(), axes.end(), [](const std::string& a) { return !a.empty(); });
  for (const std::string& axis : axes) {
    out += axis.empty() ? std::string("## Other changes\n\n") : fmt::format("## {}\n\n", axis);
    for (const Summary* rp : by_axis[axis]) {
      const Summary& r = *rp;
      out += fmt::format("### {} (experiment {})\n\n", cell(r.title), r.id);
      out += fmt::format("- outcome: {}{}\n", r.status, r.reason.empty() ? "" : " — " + r.reason);
      if (r.has_metric) out += fmt::format("- effect: {} over {} pairs\n", effect_ci(r), r.pairs);
      if (!r.mechanism.empty()) out += "- mechanism: " + r.mechanism + "\n";
      if (!r.hypothesis.empty()) out += "- hypothesis: " + r.hypothesis + "\n";
      if (!r.files.empty()) {
        std::string files;
        for (const auto& f : r.files) files += (files.empty() ? "" : ", ") + f;
        out += "- files: " + files + "\n";
      }
      out += fmt::format("- source: {}; diff: {}\n\n", r.source_file.empty() ? "?" : r.source_file,
                         r.patch_file.empty() ? "?" : r.patch_file);
    }
  }
  if (axes.empty()) out += "_None yet._\n";
}

void render_report_to(Out& out, const journal::SessionView& view, const config::Config& cfg) {
  std::string unit = cfg.metric.unit.empty() ? "" : " " + cfg.metric.unit;
  Headline h = headline(view);
  out += fmt::format("# autoresearch report: session {}\n\n", view.session);
  if (!cfg.goal.empty()) out += "**Goal:** " + cfg.goal + "\n\n";
  std::string best_short =
      view.kept.empty() ? view.start_commit.substr(0, 12) : short_commit(view.experiments[view.kept.back()]);
  out += fmt::format(
      "Branch `autoresearch/{}`: started at `{}`, best `{}`. Merge it with `git merge autoresearch/{}`.\n\n",
      view.session, view.start_commit.substr(0, 12), best_short, view.session);

  out += "## Headline\n\n";
  if (h.measured) {
    const HeadlineTable t = headline_table(view, cfg);
    const bool with_ref = !t.reference.empty();
    out += with_ref ? "| metric | role | reference | baseline | final | change (95% CI) | × better than the reference (95% "
                      "CI) |\n|---|---|---:|---:|---:|---:|---:|\n"
                    : "| metric | role | baseline | final | change (95% CI) |\n|---|---|---:|---:|---:|\n";
    for (const HeadlineRow& r : t.rows) {
      // The config's unit belongs to the primary metric only.
      auto value = [&](double v) { return num(v) + (r.role == "primary" ? unit : ""); };
      std::string change = r.has_ci ? fmt::format("**{}** ({} to {})", pct(r.change), pct(r.ci_low), pct(r.ci_high))
                                    : fmt::format("**{}** (—)", pct(r.change));
      std::string name = fmt::format("`{}` ({} is better)", r.name, decide::to_string(r.direction));
      if (with_ref) {
        std::string ratio = r.has_reference ? fmt::format("**{:.2f}×** ({:.2f}× to {:.2f}×)", r.ratio, r.ratio_low, r.ratio_high)
                                            : "—";
        out += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", name, r.role,
                           r.has_reference ? value(r.reference) : "—", value(r.baseline), value(r.final), change, ratio);
      } else {
        out += fmt::format("| {} | {} | {} | {} | {} |\n", name, r.role, value(r.baseline), value(r.final), change);
      }
    }
    out += "\n";
    if (t.verified) {
      out += fmt::format("Baseline and final: `autoresearch verify` at {}, {} pairs of the start commit against the best "
                         "commit, each change with its paired 95% CI{}.\n\n",
                         t.at, t.pairs,
                         with_ref ? fmt::format("; the reference ({}) was measured in the same run, {} pairs against the "
                                                "best commit", t.reference, t.pairs)
                                  : "");
    } else {
      out += "Baseline and final: medians from the journal (no interval until `autoresearch verify` measures the best "
             "commit against the start commit" +
             std::string(cfg.reference.set() ? ", and the reference against the best" : "") + ").\n\n";
    }
    std::string best_commit_hex = best_commit(view);
    if (view.last_verify && view.last_verify->value("best_commit", "") == best_commit_hex && !view.kept.empty()) {
      const json& v = *view.last_verify;
      const json& vm = v["metric"];
      out += fmt::format(
          "**Verified cumulative gain: {} (95% CI {} to {})**, measured by `autoresearch verify` at {}: {} "
          "alternating pairs of the start commit against the best commit ({:.4g}{} -> {:.4g}{}, p={:.2g}). "
          "This is the figure to quote; per-step effects chained together ({}) can overstate it when "
          "many small wins are kept.\n\n",
          pct(vm.value("effect", 0.0)), pct(vm.value("ci_low", 0.0)), pct(vm.value("ci_high", 0.0)), v.value("at", ""),
          v.value("pairs", 0), vm.value("base_median", 0.0), unit, vm.value("candidate_median", 0.0), unit,
          vm.value("p", 1.0), pct(h.chained));
    } else if (!view.kept.empty()) {
      out +=
          "Not verified yet: `autoresearch verify` re-measures the best commit against the start commit with more "
          "pairs and puts the cumulative gain with its confidence interval here.\n\n";
    }
    if (!t.verified) {
      out += fmt::format(
          "Baseline: median of the base runs of experiment {} (the start commit). Final: median of the "
          "candidate runs of experiment {}. The per-keep effects below are paired measurements; "
          "chained together they give {}.\n\n",
          h.baseline_experiment, h.best_experiment == 0 ? h.baseline_experiment : h.best_experiment, pct(h.chained));
    }
  } else {
    out += "Nothing has been measured yet.\n\n";
  }
  std::string counts;
  for (const std::string& s : journal::statuses()) {
    auto it = view.counts.find(s);
    if (it != view.counts.end()) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", it->second, s);
  }
  out += fmt::format("Experiments: {}{}.\n\n", view.own(), counts.empty() ? "" : " (" + counts + ")");
  if (!view.imported.empty()) {
    std::string ic;
    for (const auto& [status, n] : view.imported_counts) ic += fmt::format("{}{} {}", ic.empty() ? "" : ", ", n, status);
    out += fmt::format(
        "Imported history: {} pi-autoresearch run(s) ({}), listed under \"Imported history\" below; their "
        "discards and check failures are in the dead ends.\n\n",
        view.imported.size(), ic);
  }

  out += "## Kept commits\n\n";
  const std::map<int, const json*> ablated = current_ablations(view);
  if (view.kept.empty()) {
    out += "_None._\n\n";
  } else {
    out +=
        "| exp | commit | title | effect when kept (95% CI) | p | pairs | cumulative | at the best now (ablate) | "
        "mechanism |\n"
        "|---:|---|---|---|---:|---:|---:|---|---|\n";
    double chain = 1.0;
    for (size_t i : view.kept) {
      const Summary& r = view.experiments[i];
      chain *= 1.0 + r.effect;
      auto a = ablated.find(r.id);
      std::string now = a == ablated.end() ? "—" : ablation_text(*a->second);
      if (a != ablated.end() && no_longer_helps(*a->second)) now = "**⚠ " + now + "**";
      out += fmt::format("| {} | `{}` | {} | {} | {:.2g} | {} | {} | {} | {} |\n", r.id, short_commit(r),
                         cell(r.title), effect_ci(r), r.p, r.pairs, pct(chain - 1.0), cell(now), cell(r.mechanism));
    }
    out += "\n";
    std::string flagged;
    for (const auto& [id, a] : ablated) {
      if (no_longer_helps(*a)) {
        flagged += fmt::format("- ⚠ **Experiment {} ({}) no longer helps** at the best commit: {} ({}, `autoresearch "
                               "ablate` at {}). Consider dropping it.\n",
                               id, cell(a->value("title", "")), ablation_text(*a), a->value("reason", ""),
                               a->value("at", ""));
      }
    }
    if (!flagged.empty()) out += flagged + "\n";
    if (ablated.empty()) {
      out += "Not ablated yet: `autoresearch ablate` measures the best commit with each keep reverted and fills "
             "the \"at the best now\" column.\n\n";
    } else {
      out += "\"At the best now\": `autoresearch ablate` reverted the keep from the best commit and measured the "
             "best against that under the keep rule (the best without it as base): *still helps* when the rule would "
             "keep it again, *no longer helps* otherwise (a regression, an interval that rules out min_effect, or "
             "not significant), *entangled* when its revert no longer applies (later keeps edited its lines; not "
             "measured).\n\n";
    }
  }

  out += "## Dead ends (do not retry)\n\n";
  bool any = false;
  for (const Summary& r : view.experiments) {
    if (!is_dead_end(r)) continue;
    if (!any) out += "| exp | title | outcome | effect (95% CI) | why |\n|---:|---|---|---|---|\n";
    any = true;
    out += fmt::format("| {} | {} | {} | {} | {} |\n", r.id, cell(r.title), r.status, effect_ci(r), cell(why(r)));
  }
  out += any ? "\nFull entries: `reports/dead-ends.md`.\n\n" : "_None._\n\n";

  out += "## Inconclusive (retry candidates)\n\n";
  any = false;
  for (const Summary& r : view.experiments) {
    if (r.status != "inconclusive") continue;
    if (!any) out += "| exp | title | effect (95% CI) | pairs |\n|---:|---|---|---:|\n";
    any = true;
    out += fmt::format("| {} | {} | {} | {} |\n", r.id, cell(r.title), effect_ci(r), r.pairs);
  }
  out += any ? "\n" : "_None._\n\n";

  out += "## Not measured\n\n";
  any = false;
  for (const Summary& r : view.experiments) {
    if (r.imported() || r.status == "keep" || r.status == "inconclusive" || is_dead_end(r)) continue;
    if (!any) out += "| exp | title | outcome | reason |\n|---:|---|---|---|\n";
    any = true;
    out += fmt::format("| {} | {} | {} | {} |\n", r.id, cell(r.title), r.status, cell(r.reason));
  }
  out += any ? "\n" : "_None._\n\n";

  if (!view.imported.empty()) {
    out += fmt::format("## Imported history\n\nRuns of the pi-autoresearch session, as its log recorded them (`{}`); pi's "
                       "agent chose each status, and the values are what it logged, not measured here.\n\n",
                       view.experiments[view.imported.front()].source_file);
    out += "| exp | title | pi's status | what pi logged |\n|---:|---|---|---|\n";
    for (size_t i : view.imported) {
      const Summary& r = view.experiments[i];
      std::string logged = r.reason.rfind("imported: ", 0) == 0 ? r.reason.substr(10) : r.reason;
      out += fmt::format("| {} | {} | {} | {} |\n", r.id, cell(r.title), r.status, cell(logged));
    }
    out += "\n";
  }

  // One pass groups the sweep points by sweep, in order of first appearance.
  struct SweepRows {
    std::string name, from, rows;
    const Summary* best = nullptr;
  };
  std::vector<SweepRows> sweeps;
  std::map<std::string, size_t> sweep_at;
  for (const Summary& r : view.experiments) {
    if (!r.has_sweep) continue;
    auto [it, added] = sweep_at.emplace(r.sweep, sweeps.size());
    if (added) sweeps.push_back({r.sweep, "", "", nullptr});
    SweepRows& sw = sweeps[it->second];
    if (sw.from.empty()) sw.from = r.sweep_from;
    sw.rows += fmt::format("| {} | {} | {} | {} | {} |\n", r.sweep_value, r.id, r.status, effect_ci(r), r.pairs);
    // Each value is tried against the best commit of its time, so the last value kept is the one
    // in force at the end: the best any of them did.
    if (r.status == "keep") sw.best = &r;
  }
  if (!sweeps.empty()) out += "## Sweeps\n\n";
  for (const SweepRows& sw : sweeps) {
    std::string from = sw.from.empty() ? "?" : sw.from;
    out += fmt::format("### {}\n\n| value | exp | outcome | effect (95% CI) | pairs |\n|---|---:|---|---|---:|\n",
                       sw.name);
    out += fmt::format("| {} (in force) | — | baseline | — | — |\n", from);
    out += sw.rows;
    if (sw.best != nullptr) {
      out += fmt::format("\nBest value: **{}** (experiment {}, {}).\n\n", sw.best->sweep_value, sw.best->id,
                         effect_ci(*sw.best));
    } else {
      out += fmt::format("\nBest value: **{}**, the value in force; no other value was kept.\n\n", from);
    }
  }

  out += "## Secondary metrics: baseline vs best\n\n";
  // Two full records: the first measured experiment's base side and the last keep's candidate side.
  const Summary* first = nullptr;
  for (const Summary& r : view.experiments) {
    if (r.has_metric) {
      first = &r;
      break;
    }
  }
  const Summary* last = view.kept.empty() ? first : &view.experiments[view.kept.back()];
  json first_metrics =
      first != nullptr ? journal::read_record(view.journal, *first).value("metrics", json::object()) : json::object();
  json last_metrics = last != nullptr && last != first
                          ? journal::read_record(view.journal, *last).value("metrics", json::object())
                          : json::object();
  if (first_metrics.is_object() && !first_metrics.empty()) {
    out += "| metric | baseline | best | change |\n|---|---:|---:|---:|\n";
    for (const auto& [name, v] : first_metrics.items()) {
      double base = v.value("base", 0.0);
      double best = base;
      if (last != first && last_metrics.is_object() && last_metrics.contains(name)) {
        best = last_metrics[name].value("candidate", base);
      } else if (last == first && !view.kept.empty()) {
        best = v.value("candidate", base);
      }
      out +=
          fmt::format("| `{}` | {} | {} | {} |\n", name, num(base), num(best), base != 0 ? pct(best / base - 1) : "—");
    }
    out += "\n";
  } else {
    out += "_No secondary metrics recorded._\n\n";
  }

  // What a reviewer checks before trusting the numbers: every kept change passed the gates, stayed
  // within its guards, and nothing touched what defines the experiment.
  out += "## Safety\n\n";
  int measured = 0, tampering = 0, protected_rejects = 0;
  for (const Summary& r : view.experiments) {
    if (r.has_metric) ++measured;
    if (r.reason.rfind("tampering:", 0) == 0) ++tampering;
    if (r.status == "rejected" && r.reason.find("protected") != std::string::npos) ++protected_rejects;
  }
  out += fmt::format(
      "- Gates: all {} measured experiments passed every gate before a single benchmark run (an "
      "experiment whose gate fails is never measured).\n",
      measured);
  // The guards of kept changes are in their full records: one pass over the keeps.
  std::vector<std::string> worst(cfg.guards.size());
  std::vector<double> worst_effect(cfg.guards.size(), -1e9);
  if (!cfg.guards.empty()) {
    journal::RecordReader reader(view.journal);
    for (size_t i : view.kept) {
      const Summary& r = view.experiments[i];
      json rec = reader.read(r);
      if (!rec.contains("guards") || !rec["guards"].is_object()) continue;
      for (size_t k = 0; k < cfg.guards.size(); ++k) {
        const auto& g = cfg.guards[k];
        if (!rec["guards"].contains(g.name)) continue;
        const json& ge = rec["guards"][g.name];
        double e = ge.value("effect", 0.0);
        double worsening = g.direction == decide::Direction::lower ? e : -e;
        if (worsening > worst_effect[k]) {
          worst_effect[k] = worsening;
          worst[k] =
              fmt::format("experiment {}: {}", r.id, effect_ci(e, ge.value("ci_low", 0.0), ge.value("ci_high", 0.0)));
        }
      }
    }
  }
  for (size_t k = 0; k < cfg.guards.size(); ++k) {
    const auto& g = cfg.guards[k];
    out += worst[k].empty() ? fmt::format("- Guard `{}`: no kept change to check.\n", g.name)
                            : fmt::format(
                                  "- Guard `{}` (tolerance {:.0f}%): every kept change within it; the largest "
                                  "move was {}.\n",
                                  g.name, g.tolerance * 100, worst[k]);
  }
  out += fmt::format(
      "- Protected paths: {} patch(es) rejected for touching them; {} experiment(s) caught changing the "
      "tracked tree or a protected file while running (rejected as tampering).\n\n",
      protected_rejects, tampering);

  const decide::Rule& rule = cfg.decision;
  out += "## Methodology\n\n";
  if (view.header && view.header->contains("environment")) {
    std::string machine = describe_environment((*view.header)["environment"]);
    if (!machine.empty()) out += "- Machine (as this journal segment started): " + machine + ".\n";
  }
  if (view.last_calibration) {
    const json& c = *view.last_calibration;
    std::string noise;
    for (const auto& [name, m] : c["metrics"].items()) {
      if (!m.contains("cv")) continue;
      noise += fmt::format("{}`{}` {:.2f}%", noise.empty() ? "" : ", ", name, m["cv"].get<double>() * 100);
    }
    out += fmt::format(
        "- Noise (A/A calibration at {}, {} pairs of the best commit against itself): run-to-run {}; "
        "smallest effect detectable at {} pairs: {:.2f}%{}.\n",
        c.value("at", ""), c.value("pairs", 0), noise, rule.max_pairs, c.value("detectable_effect", 0.0) * 100,
        c.value("broken", false) ? " — the A/A run told the copies apart" : "");
  }
  out += fmt::format(
      "- Each sample is one run of `{}`; base (best commit) and candidate run in balanced blocks of two "
      "pairs (one AB, one BA, in an order drawn from a seed recorded with the block) from two worktrees with "
      "equal-length paths, after {} warm-up run(s) per side; both sides pinned to the CPUs `{}` gives.\n",
      cfg.benchmark.command, cfg.benchmark.warmup, cfg.benchmark.cpus);
  std::string looks;
  for (int l : rule.looks) looks += (looks.empty() ? "" : ", ") + std::to_string(l);
  if (rule.method == decide::Method::sequential) {
    out += fmt::format(
        "- Keep rule (sequential, two blocks): per pair d = ln(candidate/base); a block-robust interval "
        "(the spread of block means, pooled with the calibrated noise, hiccups clipped); the first block looks "
        "at {} pairs with a one-sided test at alpha {} spent across the looks and passes when significant and "
        "the estimate beats {}; every pass is measured again after a pause in a fresh confirmation block "
        "(at most {} pairs) and kept only when that block is significant on its own (alpha {}); the kept "
        "effect is the confirmation block's. A dead end needs evidence: a regression, or an interval that "
        "rules out {}; anything else is inconclusive (underpowered, not confirmed, or undecided).\n",
        looks, rule.alpha, pct(rule.min_effect).substr(1), rule.confirmation_pairs, rule.confirmation_alpha,
        pct(rule.min_effect).substr(1));
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
  out += fmt::format(
      "- Gates, run on every candidate before it is measured: {}. No change was measured, let alone "
      "kept, without passing all of them.\n",
      gates.empty() ? "none" : gates);
  std::string prot;
  for (const auto& p : cfg.protected_paths) prot += (prot.empty() ? "`" : ", `") + p + "`";
  out += fmt::format("- Protected paths (patches touching them are rejected before anything runs): {}.\n",
                     prot.empty() ? "none besides the config and journal" : prot);
  out +=
      "- Every experiment's diff is kept as `.autoresearch/patches/<id>.patch`; full logs in "
      "`.autoresearch/logs/<id>.log`.\n\n";

  out += "## Raw numbers\n\n";
  std::vector<const Summary*> measured_list;
  for (const Summary& r : view.experiments) {
    if (r.has_metric) measured_list.push_back(&r);
  }
  size_t skip = measured_list.size() > k_raw_numbers ? measured_list.size() - k_raw_numbers : 0;
  if (skip > 0) {
    out += fmt::format(
        "The samples of the latest {} measured experiments; those of the {} before them are in the "
        "journal (`metric.base` and `metric.candidate` of each record).\n\n",
        k_raw_numbers, skip);
  }
  auto join = [](const json& arr) {
    std::string s;
    if (!arr.is_array()) return s;
    for (const auto& v : arr) s += (s.empty() ? "" : ", ") + num(v.get<double>());
    return s;
  };
  journal::RecordReader reader(view.journal);
  for (size_t i = skip; i < measured_list.size(); ++i) {
    const Summary& r = *measured_list[i];
    json m = reader.read(r)["metric"];
    out += fmt::format("- experiment {} ({}): base [{}]; candidate [{}]\n", r.id, r.status, join(m["base"]),
                       join(m["candidate"]));
  }
}

}  // namespace

}  // namespace ar::report
