#include "pipeline/stages.hpp"

#include "decide/schedule.hpp"
#include "metrics/metric_parser.hpp"
#include "pipeline/bench.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/interrupt.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

namespace ar::pipeline {

namespace fs = std::filesystem;
using journal::Status;

exec::CommandResult build_side(Context& ctx, int side, int experiment, const std::string& label) {
  const config::Config& cfg = ctx.cfg();
  if (cfg.build.command.empty()) {
    exec::CommandResult none;
    none.process.ending = proc::Ending::exited;
    none.process.exit_code = 0;
    return none;
  }
  exec::Command c = exec::make_command(exec::Kind::build, label, experiment, side, cfg.build.command,
                                       ctx.workspace().cwd(side), cfg.build.timeout);
  ctx.workspace().ran_command(side);
  return ctx.executor.run(c);
}

void ensure_base_built(Context& ctx) {
  session::Workspace& ws = ctx.workspace();
  if (ctx.cfg().build.command.empty() || ws.base_built()) return;
  std::string best = git::to_hex(ws.best());
  ctx.stage(0, "best commit", "build (base)");
  ctx.sandbox().clear_tmp(0);
  exec::CommandResult r = build_side(ctx, 0, 0, "build base " + best.substr(0, 12));
  if (r.interrupted()) throw Interrupted("interrupted while building the best commit; nothing was running");
  if (!r.ok()) {
    throw Error(fmt::format("the build of the best commit {} failed in {} ({}); see {}:\n{}", best.substr(0, 12),
                            ws.side(0).path().string(), r.process.describe(), ctx.session.run_log().string(),
                            r.process.tail));
  }
  ws.mark_base_built();
  ws.trust_base(ctx.cfg().protected_paths);
}

void save_patch(Context& ctx, const sources::Hypothesis& h, journal::ExperimentRecord& record) {
  if (h.patch.empty()) return;  // nothing read (an oversized file) or nothing proposed
  const session::Paths& paths = ctx.session.paths();
  fs::path saved = paths.patches / fmt::format("{:04d}.patch", record.run.id);
  util::write_file_atomic(saved, h.patch, false);  // re-creatable from its source
  record.patch_file = saved.lexically_relative(paths.root).generic_string();
}

namespace {

// The commit a patch that does not apply to the best commit was written against, when that is
// an older commit of the session: its base-commit trailer, else the newest kept commit (or the
// start) whose blobs match its index lines, else the session's start commit.
std::optional<git_oid> stale_base(Context& ctx, const std::string& patch) {
  const std::string& start_hex = ctx.session.view().start_commit;
  if (start_hex.empty()) return std::nullopt;
  const git_oid start = git::from_hex(start_hex);
  const git_oid best = ctx.workspace().best();
  std::vector<git_oid> candidates = ctx.session.repo().first_parent_chain(best, start);
  candidates.push_back(start);
  git_oid base = git::patch_base(ctx.session.repo(), patch, candidates).value_or(start);
  if (git_oid_equal(&base, &best) != 0) return std::nullopt;
  return base;
}

}  // namespace

StageResult apply(Context& ctx, const sources::Hypothesis& h, journal::ExperimentRecord& record) {
  git::ApplyOutcome ap = ctx.workspace().apply(h.patch);
  if (ap.ok) return std::nullopt;
  std::optional<git_oid> base;
  if (ap.error.rfind("not a patch", 0) != 0) base = stale_base(ctx, h.patch);
  if (!base) return Outcome{Status::apply_failed, "patch does not apply: " + ap.error};
  const std::string from = git::to_hex(*base);
  git::ApplyOutcome merged = ctx.workspace().apply_merged(h.patch, *base);
  if (!merged.ok) {
    return Outcome{
        Status::apply_failed,
        fmt::format("patch does not apply: {}; three-way merge from {}, the commit it was written against: {}",
                    ap.error, from.substr(0, 12), merged.error)};
  }
  record.merged_from = from;
  if (ctx.on_stage) return std::nullopt;  // a slot's thread: the loop's thread says it when it takes the slot
  ctx.session.progress().note(
      fmt::format("experiment {}: the patch no longer applied to the best commit; applied to "
                  "{} and merged three-way",
                  record.run.id, from.substr(0, 12)));
  return std::nullopt;
}

StageResult build(Context& ctx, journal::ExperimentRecord& record, int side) {
  if (ctx.cfg().build.command.empty()) return std::nullopt;
  ctx.stage(record.run.id, record.run.title, "build");
  exec::CommandResult r = build_side(ctx, side, record.run.id, side == 1 ? "build candidate" : "build base");
  record.durations["build"] = r.process.seconds;
  StageResult end = command_outcome(r, "build", Status::checks_failed);
  if (end && !r.interrupted()) {
    record.gates.push_back({"build", r.process.exit_code, r.process.seconds, r.process.describe(), r.process.tail});
  }
  return end;
}

namespace {

// One gate in side `side`'s worktree (1: the candidate; ablate gates the base, 0): run, recorded in
// record.gates, checked for tampering against that side's last snapshot. `when` qualifies the gate's name in the
// reasons.
StageResult run_gate(Context& ctx, journal::ExperimentRecord& record, const config::Gate& g, const std::string& when,
                     int side) {
  const config::Config& cfg = ctx.cfg();
  session::Workspace& ws = ctx.workspace();
  ctx.stage(record.run.id, record.run.title, "gate " + g.name + when);
  exec::Command c =
      exec::make_command(exec::Kind::gate, "gate " + g.name, record.run.id, side, g.command, ws.cwd(side), g.timeout);
  ws.ran_command(side);
  exec::CommandResult r = ctx.executor.run(c);
  record.durations["gates"] += r.process.seconds;
  if (r.interrupted()) return Outcome{Status::interrupted, ""};
  journal::GateRun entry{g.name, r.process.exit_code, r.process.seconds, r.process.describe(), std::nullopt};
  if (!r.ok()) entry.tail = r.process.tail;
  record.gates.push_back(entry);
  if (auto path = ws.check(side, cfg.protected_paths)) {
    ws.mark_tampered(side);
    return Outcome{Status::rejected, fmt::format("tampering: gate {}{} changed {} in the {} worktree while it ran",
                                                 g.name, when, *path, side == 1 ? "candidate" : "base")};
  }
  if (r.timed_out()) return Outcome{Status::timeout, fmt::format("gate {}{} {}", g.name, when, r.process.describe())};
  if (!r.ok()) {
    return Outcome{Status::checks_failed, fmt::format("gate {}{} failed: {} after {:.1f}s", g.name, when,
                                                      r.process.describe(), r.process.seconds)};
  }
  return std::nullopt;
}

}  // namespace

StageResult gates(Context& ctx, journal::ExperimentRecord& record, int side) {
  const config::Config& cfg = ctx.cfg();
  if (std::none_of(cfg.gates.begin(), cfg.gates.end(), [](const config::Gate& g) { return !g.after_benchmark; }))
    return std::nullopt;
  ctx.workspace().snapshot(side, cfg.protected_paths);
  for (const config::Gate& g : cfg.gates) {
    if (g.after_benchmark) continue;
    if (StageResult end = run_gate(ctx, record, g, "", side)) return end;
  }
  return std::nullopt;
}

bool has_gates_after_benchmark(const config::Config& cfg) {
  return std::any_of(cfg.gates.begin(), cfg.gates.end(), [](const config::Gate& g) { return g.after_benchmark; });
}

StageResult gates_after_benchmark(Context& ctx, journal::ExperimentRecord& record) {
  for (const config::Gate& g : ctx.cfg().gates) {
    if (!g.after_benchmark) continue;
    if (StageResult end = run_gate(ctx, record, g, " (after the benchmark)", 1)) return end;
  }
  return std::nullopt;
}

namespace {

journal::MetricEffect effect_of(const decide::Effect& e) {
  return {e.change, e.ci_low, e.ci_high, e.improvement, e.p_better, e.p_worse};
}

// The samples of `name` on `side`, empty when the metric was not printed.
std::vector<double> get(const Samples& samples, int side, const std::string& name) {
  auto it = samples[static_cast<size_t>(side)].find(name);
  return it == samples[static_cast<size_t>(side)].end() ? std::vector<double>() : it->second;
}

// Both blocks in run order, per side and metric.
Samples joined(const Samples& first, const Samples& second) {
  Samples all = first;
  for (size_t side = 0; side < 2; ++side)
    for (const auto& [name, values] : second[side]) {
      auto& into = all[side][name];
      into.insert(into.end(), values.begin(), values.end());
    }
  return all;
}

journal::Measurement measurement_of(const config::Config& cfg, const decide::Rule& rule, const Samples& samples,
                                    const decide::Verdict& verdict, int pairs, double seconds) {
  const std::string& primary = cfg.metric.name;
  journal::Measurement m;
  m.pairs = pairs;
  m.seconds = seconds;
  m.primary.name = primary;
  m.primary.unit = cfg.metric.unit;
  m.primary.direction = decide::to_string(cfg.metric.direction);
  m.primary.base = get(samples, 0, primary);
  m.primary.candidate = get(samples, 1, primary);
  m.primary.base_median = metrics::median(m.primary.base);
  m.primary.candidate_median = metrics::median(m.primary.candidate);
  m.primary.effect = effect_of(verdict.primary);
  for (const auto& [name, base_values] : samples[0]) {
    if (name == primary) continue;
    std::vector<double> cand = get(samples, 1, name);
    if (base_values.empty() || cand.empty()) continue;
    journal::OtherMetric o;
    o.base = metrics::median(base_values);
    o.candidate = metrics::median(cand);
    o.base_samples = base_values;
    o.candidate_samples = cand;
    if (o.base != 0) o.change = o.candidate / o.base - 1.0;
    m.others[name] = o;
  }
  for (const auto& g : cfg.guards) {
    auto it = verdict.guards.find(g.name);
    if (it == verdict.guards.end()) continue;
    m.guards[g.name] = {decide::to_string(g.direction), g.tolerance, effect_of(it->second)};
  }
  for (const auto& [name, e] : verdict.confirms) m.confirms[name] = effect_of(e);
  m.decision = {decide::to_string(rule.method),
                decide::to_string(verdict.outcome),
                verdict.reason,
                decide::look_alpha(rule, pairs),
                rule.min_effect,
                rule.alpha,
                rule.max_pairs,
                rule.looks};
  return m;
}

decide::Paired paired(const Samples& s, const std::string& name) {
  return decide::Paired{get(s, 0, name), get(s, 1, name)};
}

// Waits `pause` (checking for an interrupt) between the blocks: long enough that an interference
// streak behind the first block's pass is likely over when the confirmation block starts.
bool pause_between_blocks(std::chrono::nanoseconds pause) {
  const auto until = std::chrono::steady_clock::now() + pause;
  for (auto now = std::chrono::steady_clock::now(); now < until; now = std::chrono::steady_clock::now()) {
    if (interrupted()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(std::chrono::milliseconds(50), until - now));
  }
  return !interrupted();
}

}  // namespace

decide::Prior calibrated_prior(const session::Session& session) {
  const auto& cal = session.view().last_calibration;
  if (!cal || !cal->contains("prior")) return {};
  const nlohmann::json& p = (*cal)["prior"];
  return decide::Prior{p.value("sd_pair", 0.0), p.value("df", 0.0)};
}

StageResult measure(Context& ctx, journal::ExperimentRecord& record, decide::Verdict& verdict) {
  return measure(ctx, record, verdict, ctx.cfg().decision);
}

StageResult measure(Context& ctx, journal::ExperimentRecord& record, decide::Verdict& verdict,
                    const decide::Rule& rule) {
  struct Measuring {  // tells ctx.measuring on every way out
    Context& c;
    explicit Measuring(Context& ctx) : c(ctx) {
      if (c.measuring) c.measuring(true);
    }
    ~Measuring() {
      if (c.measuring) c.measuring(false);
    }
  } measuring(ctx);
  const config::Config& cfg = ctx.cfg();
  const decide::Prior prior = calibrated_prior(ctx.session);
  Bench bench(ctx, record.run.id, record.run.title);
  if (has_gates_after_benchmark(cfg))
    bench.after_first_candidate_run([&] { return gates_after_benchmark(ctx, record); });
  std::map<std::string, decide::Paired> guard_samples, confirm_samples;
  auto metric_samples = [&](const Samples& s) {
    for (const auto& g : cfg.guards) guard_samples[g.name] = paired(s, g.name);
    for (const auto& c : cfg.confirms) confirm_samples[c.name] = paired(s, c.name);
  };

  // The first block: balanced blocks of pairs until the rule decides.
  Samples first;
  int first_pairs = 0;
  const std::uint64_t first_seed = order_seed();
  auto decided = [&](int k, const Samples& s) {
    if (!decide::look_after(rule, k)) return false;
    metric_samples(s);
    verdict = decide::evaluate(paired(s, cfg.metric.name), cfg.metric.direction, guard_samples, cfg.guards, rule,
                               confirm_samples, cfg.confirms, prior);
    return verdict.outcome != decide::Outcome::undecided;
  };
  // A batch runs up to the rule's next look (on Slurm one job per batch).
  auto next_look = [&](int k) {
    int j = k + 1;
    while (j < rule.max_pairs && !decide::look_after(rule, j)) ++j;
    return j;
  };
  StageResult end = bench.run_pairs("first", rule.max_pairs, first_seed, true, decided, first, first_pairs, next_look);
  std::vector<journal::BlockInfo> blocks{{"first", first_pairs, first_seed, effect_of(verdict.primary)}};

  // A pass is measured again: after a pause, in a fresh block with a fresh order.
  Samples second;
  int second_pairs = 0;
  if (!end && verdict.outcome == decide::Outcome::keep && rule.confirmation_pairs > 0) {
    const decide::Verdict pass = verdict;
    ctx.stage(record.run.id, record.run.title, "pause");
    if (!pause_between_blocks(cfg.benchmark.pause)) end = Outcome{Status::interrupted, ""};
    const std::uint64_t second_seed = order_seed();
    int planned = pass.confirmation_pairs;
    auto agreed = [&](int k, const Samples& s) {
      if (k < planned) return false;
      metric_samples(s);
      const decide::Paired primary = paired(s, cfg.metric.name);
      verdict = decide::evaluate_confirmation(pass, {primary, guard_samples, confirm_samples}, cfg.metric.direction,
                                              cfg.guards, cfg.confirms, rule, prior);
      if (verdict.outcome != decide::Outcome::undecided) return true;
      planned = verdict.confirmation_pairs;
      return false;
    };
    if (!end) {
      end = bench.run_pairs("confirmation", rule.confirmation_pairs, second_seed, false, agreed, second, second_pairs,
                            [&](int k) { return std::max(k + 1, planned); });
    }
    blocks.push_back({"confirmation", second_pairs, second_seed, effect_of(verdict.primary)});
  }
  if (!end && verdict.outcome == decide::Outcome::keep) end = bench.check_base();
  record.warnings = bench.warnings();
  record.benchmark_tail = bench.tail();
  record.jobs = bench.jobs();
  if (end) return end;
  record.measurement =
      measurement_of(cfg, rule, joined(first, second), verdict, first_pairs + second_pairs, bench.seconds());
  record.measurement->blocks = std::move(blocks);
  record.measurement->runs = bench.runs();
  if (!bench.runs().empty()) record.measurement->node = bench.runs().front().node;
  record.measurement->cpus = util::cpu_list_text(ctx.pinning.benchmark);
  record.measurement->orchestrator_cpus = util::cpu_list_text(ctx.pinning.orchestrator);
  record.measurement->prior_sd_pair = prior.sd_pair;
  record.measurement->prior_df = prior.df;
  return std::nullopt;
}

Outcome decide_outcome(const decide::Verdict& v) {
  switch (v.outcome) {
    case decide::Outcome::keep:
      return {Status::keep, v.reason};
    case decide::Outcome::discard:
      return {Status::discard, v.reason};
    default:
      return {Status::inconclusive, v.reason};
  }
}

void commit(Context& ctx, const sources::Hypothesis& h, journal::ExperimentRecord& record) {
  const config::Config& cfg = ctx.cfg();
  ctx.stage(record.run.id, h.title, "commit");
  const journal::Measurement& m = *record.measurement;
  const journal::PrimaryMetric& p = m.primary;
  std::string unit = cfg.metric.unit.empty() ? "" : " " + cfg.metric.unit;
  std::string msg = h.title + "\n\n";
  if (!h.hypothesis.empty()) msg += "Hypothesis: " + h.hypothesis + "\n";
  if (!h.mechanism.empty()) msg += "Mechanism: " + h.mechanism + "\n";
  msg += fmt::format("\n{}: {:.4g}{} -> {:.4g}{}, {} (one-sided p={:.2g}, {} pairs, {} is better)\n", cfg.metric.name,
                     p.base_median, unit, p.candidate_median, unit, journal::effect_text(p.effect), p.effect.p, m.pairs,
                     decide::to_string(cfg.metric.direction));
  for (const auto& [name, g] : m.guards) {
    msg += fmt::format("guard {}: {} (tolerance {:.0f}%)\n", name, journal::effect_text(g.effect), g.tolerance * 100);
  }
  nlohmann::json others = nlohmann::json::object();
  for (const auto& [name, o] : m.others) others[name] = o.candidate;
  nlohmann::json result = {{"status", "keep"},          {"metric", cfg.metric.name},
                           {"base", p.base_median},     {"candidate", p.candidate_median},
                           {"effect", p.effect.effect}, {"ci", {p.effect.ci_low, p.effect.ci_high}},
                           {"p", p.effect.p},           {"pairs", m.pairs},
                           {"metrics", others}};
  msg += fmt::format("\nExperiment: {}\nResult: {}\n", record.run.id, result.dump());
  record.commit = git::to_hex(ctx.workspace().keep(msg));
  ctx.faults.point("commit");
}

}  // namespace ar::pipeline
