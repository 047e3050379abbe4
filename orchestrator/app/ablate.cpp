// `autoresearch ablate`: does each kept commit still pay for itself at the end? Each keep is tried
// again at the final best, under the loop's own rule: the best with that keep reverted is the base
// (side 0, moved there as verify moves it to the start commit), the best itself the candidate. So
// the loop's verdict "keep" means the keep still helps, and the effect is the keep's effect now,
// signed as when it was kept. A keep whose revert does not apply to the best (later keeps edited
// its lines) is `entangled` and not measured. One journal line of type "ablation" per keep, written
// as soon as it is known, so an interrupted run keeps what it finished.
#include "app/commands.hpp"

#include "journal/record.hpp"
#include "metrics/metric_parser.hpp"
#include "pipeline/stages.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/format.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

namespace ar::app {

using nlohmann::json;

namespace {

struct Plan {
  const journal::Summary* keep;
  git::RevertOutcome revert;
};

// The rule with at most `pairs` pairs a block (0: unchanged).
decide::Rule capped(decide::Rule rule, int pairs) {
  if (pairs <= 0) return rule;
  std::vector<int> looks;
  for (int l : rule.looks) {
    if (l < pairs) looks.push_back(l);
  }
  looks.push_back(pairs);
  rule.looks = looks;
  rule.max_pairs = pairs;
  rule.confirmation_pairs = std::min(rule.confirmation_pairs, pairs);
  return rule;
}

double median_or(std::vector<double> v, double fallback) {
  return v.empty() ? fallback : metrics::median(v);
}

std::string seconds_text(double s) {
  if (s < 120) return fmt::format("{:.0f} s", std::max(1.0, s));
  if (s < 7200) return fmt::format("{:.0f} min", s / 60);
  return fmt::format("{:.1f} h", s / 3600);
}

// The time estimate from the kept experiments' own records: their benchmark runs, builds and gates.
std::string estimate(pipeline::Context& ctx, const std::vector<Plan>& plans, const decide::Rule& rule) {
  const journal::SessionView& view = ctx.session.view();
  journal::RecordReader reader(view.journal);
  std::vector<double> run_s, build_s, gate_s, pairs;
  for (std::size_t i : view.kept) {
    json r = reader.read(view.experiments[i]);
    for (const json& row : r.value("runs", json::array())) {
      if (row.is_array() && row.size() > 4 && row[4].is_number()) run_s.push_back(row[4].get<double>());
    }
    const json d = r.value("durations", json::object());
    if (d.contains("build")) build_s.push_back(d["build"].get<double>());
    if (d.contains("gates")) gate_s.push_back(d["gates"].get<double>());
    pairs.push_back(r.value("pairs", 0));
  }
  int measured = 0;
  for (const Plan& p : plans) measured += p.revert.ok ? 1 : 0;
  const double run = median_or(run_s, 0), build = median_or(build_s, 0), gate = median_or(gate_s, 0);
  const int warmup_runs = 2 * ctx.cfg().benchmark.warmup;
  const int most_pairs = rule.max_pairs + rule.confirmation_pairs;
  const double fixed = 2 * build + gate;
  const double at_most = measured * (fixed + run * (warmup_runs + 2 * most_pairs) + std::chrono::duration<double>(ctx.cfg().benchmark.pause).count());
  const double typical = measured * (fixed + run * (warmup_runs + 2 * median_or(pairs, most_pairs)));
  return fmt::format(
      "{} keep(s) to measure ({} entangled); a benchmark run took {:.3g} s, a build {:.3g} s, the gates {:.3g} s "
      "(medians of the kept experiments' records); up to {} pairs a keep ({} + {} confirmation): at most {}, "
      "about {} if each keep needs the pairs it needed when kept",
      measured, plans.size() - static_cast<std::size_t>(measured), run, build, gate, most_pairs, rule.max_pairs,
      rule.confirmation_pairs, seconds_text(at_most), seconds_text(typical));
}

// The verdict of the loop's rule, read as an ablation verdict.
void settle(journal::AblationRecord& a, const decide::Verdict& v) {
  if (v.outcome == decide::Outcome::keep) {
    a.verdict = "still_helps";
    a.reason = "the loop's rule keeps it again at the best (" + v.reason + ")";
  } else if (v.reason == "regression") {
    a.verdict = "no_longer_helps";
    a.reason = "it now hurts: the best is significantly worse with it (regression)";
  } else if (v.reason == "no effect") {
    a.verdict = "no_longer_helps";
    a.reason = "no effect: the interval rules out a benefit of min_effect";
  } else {
    a.verdict = "no_longer_helps";
    a.reason = "not significant (" + v.reason + ")";
  }
}

// Measures one keep; the worktrees are left for the caller to restore.
journal::AblationRecord ablate_one(pipeline::Context& ctx, const Plan& plan, const decide::Rule& rule) {
  session::Session& s = ctx.session;
  const journal::Summary& k = *plan.keep;
  const git_oid best = ctx.workspace().best();
  journal::AblationRecord a;
  a.session = s.config().session;
  a.experiment = k.id;
  a.title = k.title;
  a.commit = k.commit;
  a.best_commit = git::to_hex(best);
  a.at_keep = {k.effect, k.ci_low, k.ci_high, 0, k.p, 1};
  if (!plan.revert.ok) {
    a.verdict = "entangled";
    a.reason = "its revert does not apply to the best: later keeps changed its lines (" + plan.revert.error + ")";
    a.at = util::utc_now_iso();
    return a;
  }
  const git_oid without = git::commit_tree_on(
      s.repo(), best, plan.revert.tree,
      fmt::format("autoresearch ablate: the best without experiment {} ({})", k.id, k.title));
  a.revert_commit = git::to_hex(without);

  journal::ExperimentRecord rec;
  rec.run.id = 0;
  rec.run.session = a.session;
  rec.run.title = fmt::format("ablate #{}", k.id);
  ctx.workspace().move_base(without);
  pipeline::StageResult end = pipeline::build(ctx, rec, 0);
  if (!end) {
    ctx.workspace().trust_base(ctx.cfg().protected_paths);
    end = pipeline::gates(ctx, rec, 0);
  }
  if (!end) {
    exec::CommandResult b = pipeline::build_side(ctx, 1, 0, "ablate build best");
    if (b.interrupted()) end = pipeline::Outcome{journal::Status::interrupted, ""};
    else if (!b.ok()) throw Error(fmt::format("ablate: the build of the best commit failed ({})", b.process.describe()));
  }
  decide::Verdict verdict;
  if (!end) end = pipeline::measure(ctx, rec, verdict, rule);
  if (end && end->status == journal::Status::interrupted) throw Interrupted(fmt::format("ablate #{} interrupted", k.id));
  a.gates = rec.gates;
  a.at = util::utc_now_iso();
  if (end) {
    a.verdict = "not_measured";
    a.reason = fmt::format("without it: {} ({})", end->reason, journal::to_string(end->status));
    return a;
  }
  a.measurement = rec.measurement;
  settle(a, verdict);
  return a;
}

std::string line_of(const journal::AblationRecord& a) {
  std::string head = fmt::format("#{} {}: ", a.experiment, a.title);
  std::string then = util::effect_with_ci(a.at_keep.effect, a.at_keep.ci_low, a.at_keep.ci_high);
  if (!a.measurement) return head + a.verdict + " — " + a.reason;
  const journal::MetricEffect& e = a.measurement->primary.effect;
  std::string verdict = a.verdict == "still_helps" ? "still helps" : "NO LONGER HELPS";
  return fmt::format("{}{}: {} now over {} pairs (when kept: {}) — {}", head, verdict,
                     util::effect_with_ci(e.effect, e.ci_low, e.ci_high), a.measurement->pairs, then, a.reason);
}

}  // namespace

Summary ablate_command(pipeline::Context& ctx, const Options& options) {
  session::Session& s = ctx.session;
  const journal::SessionView& view = s.view();
  const std::string& session = s.config().session;
  if (view.kept.empty()) throw Error(fmt::format("ablate: session {} kept nothing yet", session));
  for (int id : options.only) {
    auto it = std::find_if(view.experiments.begin(), view.experiments.end(),
                           [&](const journal::Summary& e) { return e.id == id; });
    if (it == view.experiments.end()) throw ConfigError(fmt::format("ablate --only: session {} has no experiment {}", session, id));
    if (it->status != "keep")
      throw ConfigError(fmt::format("ablate --only: experiment {} was not kept ({}); only keeps can be ablated", id,
                                    it->status));
  }
  const decide::Rule rule = capped(s.config().decision, options.max_pairs);
  const git_oid best = ctx.workspace().best();
  std::vector<Plan> plans;
  for (std::size_t i : view.kept) {
    const journal::Summary& k = view.experiments[i];
    if (!options.only.empty() && std::find(options.only.begin(), options.only.end(), k.id) == options.only.end()) continue;
    plans.push_back({&k, git::revert_onto(s.repo(), git::from_hex(k.commit), git::from_hex(k.base_commit), best)});
  }
  s.progress().note(fmt::format("ablate: each keep reverted from the best {}, measured against it with the loop's rule",
                                git::to_hex(best).substr(0, 12)));
  for (const Plan& p : plans) {
    s.progress().note(fmt::format("  #{} {}: {}", p.keep->id, p.keep->title,
                                  p.revert.ok ? "its revert applies" : "entangled (" + p.revert.error + ")"));
  }
  s.progress().note("ablate: " + estimate(ctx, plans, rule));
  Summary out;
  out.data = json::array();
  if (options.dry_run) {
    ctx.session.state().release();
    out.stop_reason = "ablate --dry-run: nothing was measured or recorded";
    return out;
  }
  int still = 0, no_longer = 0, entangled = 0, failed = 0;
  for (const Plan& p : plans) {
    journal::AblationRecord a;
    try {
      a = ablate_one(ctx, p, rule);
      ctx.workspace().restore();
    } catch (...) {
      ctx.workspace().restore();
      throw;
    }
    json line = journal::to_json(a);
    s.record_line(line);
    out.data.push_back(line);
    s.progress().note("  " + line_of(a));
    if (a.verdict == "still_helps") ++still;
    if (a.verdict == "no_longer_helps") ++no_longer;
    if (a.verdict == "entangled") ++entangled;
    if (a.verdict == "not_measured") ++failed;
  }
  ctx.session.state().release();
  out.experiments = static_cast<int>(plans.size());
  out.stop_reason = fmt::format(
      "ablate: {} still help, {} no longer help, {} entangled, {} not measured; recorded in results.jsonl (`report` "
      "shows them)",
      still, no_longer, entangled, failed);
  return out;
}

}  // namespace ar::app
