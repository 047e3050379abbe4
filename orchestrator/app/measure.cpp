// Measurements outside the loop, built from the same stages: the A/A calibration, verify (start
// commit against the best), and the dry run.

#include "app/commands.hpp"
#include "decide/schedule.hpp"
#include "metrics/metric_parser.hpp"
#include "pipeline/bench.hpp"
#include "pipeline/stages.hpp"
#include "util/affinity.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/format.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace ar::app {

using nlohmann::json;
using util::pct;

namespace {

std::string short_hex(const git_oid& oid) {
  return git::to_hex(oid).substr(0, 12);
}

// `pairs` base/candidate pairs (no early stop) in balanced blocks ordered by `seed`; throws
// ar::Error naming `what` when a run fails.
pipeline::Samples collect_pairs(pipeline::Context& ctx, int pairs, std::uint64_t seed, const std::string& what,
                                const std::string& base_command = "") {
  pipeline::Bench bench(ctx, 0, what);
  if (!base_command.empty()) bench.use_command(0, base_command);
  pipeline::Samples samples;
  int ran = 0;
  pipeline::StageResult end = bench.run_pairs(
      what, pairs, seed, true, [](int, const pipeline::Samples&) { return false; }, samples, ran,
      [pairs](int) { return pairs; });
  if (end && end->status == journal::Status::interrupted) throw Interrupted(what + " interrupted");
  if (end) {
    throw Error(fmt::format("{}: {} ({}); see {}", what, end->reason, journal::to_string(end->status),
                            ctx.session.run_log().string()));
  }
  return samples;
}

void build_or_throw(pipeline::Context& ctx, int side, const std::string& what, const std::string& label) {
  if (ctx.cfg().build.command.empty()) return;
  ctx.stage(0, what, label);
  exec::CommandResult b = pipeline::build_side(ctx, side, 0, what + " " + label);
  if (b.interrupted()) throw Interrupted(what + " interrupted");
  if (!b.ok()) throw Error(fmt::format("{}: the build failed: {}\n{}", what, b.process.describe(), b.process.tail));
  if (side == 0) ctx.workspace().trust_base(ctx.cfg().protected_paths);
}

// The direction a metric is compared in: its guard's or confirm's, else the primary's.
decide::Direction direction_of(const config::Config& cfg, const std::string& name) {
  for (const auto& g : cfg.guards)
    if (g.name == name) return g.direction;
  for (const auto& c : cfg.confirms)
    if (c.name == name) return c.direction;
  return cfg.metric.direction;
}

// Every metric both sides printed in every pair: medians, the change and, when all values are
// positive, its paired 95% CI.
json compare_all(const config::Config& cfg, pipeline::Samples& samples, const std::string& skip,
                 const char* base_key, const char* candidate_key) {
  json out = json::object();
  for (const auto& [name, base] : samples[0]) {
    if (name == skip || samples[1].count(name) == 0) continue;
    const std::vector<double>& cand = samples[1][name];
    double b = metrics::median(base), c = metrics::median(cand);
    json m = {{base_key, b}, {candidate_key, c}, {"change", b != 0 ? c / b - 1 : 0.0}};
    auto positive = [](const std::vector<double>& v) {
      return std::all_of(v.begin(), v.end(), [](double x) { return x > 0; });
    };
    if (base.size() == cand.size() && base.size() >= 2 && positive(base) && positive(cand)) {
      decide::Effect e = decide::estimate({base, cand}, direction_of(cfg, name));
      m["effect"] = e.change;
      m["ci_low"] = e.ci_low;
      m["ci_high"] = e.ci_high;
      m["p"] = e.p_better;
    }
    out[name] = m;
  }
  return out;
}

// The reference (config `reference`) on the base side against the best commit on the candidate
// side, `pairs` pairs: the headline's reference column and its ratio, measured in the same run.
json measure_reference(pipeline::Context& ctx, int pairs, const git_oid& best) {
  const config::Reference& ref = ctx.cfg().reference;
  json out = json::object();
  if (!ref.commit.empty()) {
    git_object* obj = nullptr;
    if (git_revparse_single(&obj, ctx.session.repo().get(), (ref.commit + "^{commit}").c_str()) != 0) {
      git_error_clear();
      throw ConfigError(fmt::format("{}: reference.commit: {} is not a commit of this repository",
                                    ctx.cfg().path.string(), ref.commit));
    }
    git_oid oid = *git_object_id(obj);
    git_object_free(obj);
    out["commit"] = ref.commit;
    out["resolved"] = git::to_hex(oid);
    ctx.workspace().move_base(oid);
    build_or_throw(ctx, 0, "verify", "build (reference)");
  } else {
    out["command"] = ref.command;
    ctx.workspace().move_base(best);
    build_or_throw(ctx, 0, "verify", "build (reference side)");
  }
  const std::uint64_t seed = pipeline::order_seed();
  ctx.session.progress().note(fmt::format("verifying: {} pairs of the reference ({}) against the best commit {}", pairs,
                                          ref.commit.empty() ? ref.command : ref.commit, short_hex(best)));
  pipeline::Samples samples = collect_pairs(ctx, pairs, seed, "verify reference", ref.command);
  out["pairs"] = pairs;
  out["seed"] = seed;
  out["metrics"] = compare_all(ctx.cfg(), samples, "", "reference", "best");
  return out;
}

// Runs `body`; whatever happens, both worktrees are back at the best commit afterwards.
template <typename F>
auto restoring(pipeline::Context& ctx, F body) {
  try {
    auto out = body();
    ctx.workspace().restore();
    return out;
  } catch (...) {
    ctx.workspace().restore();
    throw;
  }
}

}  // namespace

bool calibrate(pipeline::Context& ctx, bool refuse_broken, const std::string& reason) {
  const config::Config& cfg = ctx.cfg();
  session::Progress& progress = ctx.session.progress();
  progress.note(fmt::format("calibrating: {} A/A pairs of the best commit {} against itself", cfg.calibration.pairs,
                            short_hex(ctx.workspace().best())));
  pipeline::ensure_base_built(ctx);
  const std::uint64_t seed = pipeline::order_seed();
  pipeline::Samples samples = restoring(ctx, [&] {
    build_or_throw(ctx, 1, "calibration", "build (candidate)");
    return collect_pairs(ctx, cfg.calibration.pairs, seed, "calibration");
  });
  json metrics = json::object();
  decide::Noise primary;
  for (const auto& [name, base] : samples[0]) {
    auto it = samples[1].find(name);
    if (it == samples[1].end() || it->second.size() != base.size()) continue;
    decide::Noise n = decide::noise(base, it->second);
    json m = {{"base", base}, {"candidate", it->second}};
    if (n.positive) {
      m["cv"] = n.cv;
      m["sd_pair"] = n.sd_pair;
      m["effect"] = n.difference.change;
      m["ci_low"] = n.difference.ci_low;
      m["ci_high"] = n.difference.ci_high;
      m["p_differ"] = n.p_differ;
      if (name == cfg.metric.name) primary = n;
    }
    metrics[name] = m;
  }
  double mde = decide::detectable_effect(primary.sd_pair, cfg.decision);
  bool broken = decide::harness_broken(primary, cfg.decision);
  ctx.session.record_line({{"type", "calibration"},
                           {"schema", journal::k_schema},
                           {"session", cfg.session},
                           {"at", util::utc_now_iso()},
                           {"commit", git::to_hex(ctx.workspace().best())},
                           {"pairs", cfg.calibration.pairs},
                           {"seed", seed},
                           {"cpus", util::cpu_list_text(ctx.pinning.benchmark)},
                           {"metric", cfg.metric.name},
                           {"prior", {{"sd_pair", primary.prior.sd_pair}, {"df", primary.prior.df}}},
                           {"metrics", metrics},
                           {"detectable_effect", mde},
                           {"min_effect", cfg.decision.min_effect},
                           {"p_differ", primary.p_differ},
                           {"broken", broken},
                           {"reason", reason},
                           // What the loop does when the noise hides min_effect: no dead end can
                           // be proven, so such experiments end inconclusive (underpowered).
                           {"underpowered", mde > cfg.decision.min_effect}});
  for (const auto& [name, m] : metrics.items()) {
    if (!m.contains("cv")) continue;
    progress.note(
        fmt::format("  noise of {}: {:.2f}% run to run, {:.2f}% per pair; A/A difference {} (95% CI {} to {})", name,
                    m["cv"].get<double>() * 100, m["sd_pair"].get<double>() * 100, pct(m["effect"].get<double>()),
                    pct(m["ci_low"].get<double>()), pct(m["ci_high"].get<double>())));
  }
  progress.note(fmt::format("  smallest effect detectable at {} pairs: {:.2f}% (min_effect is {:.2f}%)",
                            cfg.decision.max_pairs, mde * 100, cfg.decision.min_effect * 100));
  if (mde > cfg.decision.min_effect) {
    progress.note(
        fmt::format("warning: min_effect {:.2f}% is below what this benchmark can detect in {} pairs ({:.2f}%): "
                    "no experiment can become a dead end on that noise, so small changes end inconclusive "
                    "(underpowered) and stay retryable; raise min_effect or max_pairs, or quieten the benchmark",
                    cfg.decision.min_effect * 100, cfg.decision.max_pairs, mde * 100));
  }
  if (broken && refuse_broken) {
    const decide::Effect& e = primary.difference;
    throw Error(
        fmt::format("calibration: the benchmark tells two copies of the same commit apart ({} {}, 95% CI {} to {}, "
                    "p={:.2g}): the harness is broken (does the metric depend on the worktree path or on "
                    "which side runs first?); fix it before running experiments",
                    cfg.metric.name, pct(e.change), pct(e.ci_low), pct(e.ci_high), primary.p_differ));
  }
  return broken;
}

Summary calibrate_command(pipeline::Context& ctx) {
  bool broken = calibrate(ctx, false);
  ctx.session.state().release();
  Summary s;
  s.stop_reason = broken ? "calibration: the harness is broken (see above); `run` calibrates again and refuses to "
                           "start until it passes"
                         : "calibration recorded in results.jsonl";
  return s;
}

// Re-measures the best commit against the commit the session started from, with more pairs than
// any single experiment, and records the cumulative gain with its confidence interval.
Summary verify_command(pipeline::Context& ctx, int pairs) {
  session::Session& s = ctx.session;
  const config::Config& cfg = ctx.cfg();
  if (s.view().start_commit.empty()) throw Error("verify: the session has no start commit yet; run experiments first");
  git_oid start = git::from_hex(s.view().start_commit);
  git_oid best = ctx.workspace().best();
  if (git_oid_equal(&start, &best) != 0)
    throw Error("verify: nothing was kept yet; the best commit is the start commit");
  if (pairs <= 0) pairs = cfg.verify_pairs > 0 ? cfg.verify_pairs : 2 * cfg.decision.max_pairs;
  s.progress().note(
      fmt::format("verifying: {} pairs of the start commit {} (base) against the best commit {} (candidate)", pairs,
                  short_hex(start), short_hex(best)));
  json record = restoring(ctx, [&] {
    ctx.workspace().move_base(start);
    build_or_throw(ctx, 0, "verify", "build (start commit)");
    build_or_throw(ctx, 1, "verify", "build (best commit)");
    const std::uint64_t seed = pipeline::order_seed();
    pipeline::Samples samples = collect_pairs(ctx, pairs, seed, "verify");
    decide::Paired prim{samples[0][cfg.metric.name], samples[1][cfg.metric.name]};
    decide::Effect e = decide::estimate(prim, cfg.metric.direction);
    json others = compare_all(cfg, samples, cfg.metric.name, "base", "candidate");
    json line = {{"type", "verify"},
                 {"schema", journal::k_schema},
                 {"session", cfg.session},
                 {"at", util::utc_now_iso()},
                 {"start_commit", s.view().start_commit},
                 {"best_commit", git::to_hex(best)},
                 {"pairs", pairs},
                 {"seed", seed},
                 {"metric",
                  {{"name", cfg.metric.name},
                   {"unit", cfg.metric.unit},
                   {"direction", decide::to_string(cfg.metric.direction)},
                   {"base", prim.base},
                   {"candidate", prim.candidate},
                   {"base_median", metrics::median(prim.base)},
                   {"candidate_median", metrics::median(prim.candidate)},
                   {"effect", e.change},
                   {"ci_low", e.ci_low},
                   {"ci_high", e.ci_high},
                   {"p", e.p_better}}},
                 {"metrics", others}};
    if (cfg.reference.set()) line["reference"] = measure_reference(ctx, pairs, best);
    s.record_line(line);
    return line;
  });
  s.state().release();
  Summary out;
  out.stop_reason =
      fmt::format("verified: {} from the start commit to the best, {} over {} pairs (p={:.2g})", cfg.metric.name,
                  journal::effect_text(record["metric"]), pairs, record["metric"]["p"].get<double>());
  return out;
}

// --dry-run: the config loads (already done), the worktrees and build work, every gate passes on
// the best commit as it is, and the benchmark prints the primary metric (and guards); nothing is
// recorded. The branch and worktrees it creates are the session's own and are reused by `run`.
Summary dry_run(pipeline::Context& ctx) {
  const config::Config& cfg = ctx.cfg();
  session::Progress& progress = ctx.session.progress();
  pipeline::ensure_base_built(ctx);
  restoring(ctx, [&] {
    build_or_throw(ctx, 1, "dry run", "build (candidate)");
    // Gates before the benchmark in the candidate worktree; those after it in the base worktree,
    // right after its first benchmark run there.
    auto run_gates = [&](bool after, int side) {
      for (const config::Gate& g : cfg.gates) {
        if (g.after_benchmark != after) continue;
        ctx.stage(0, "dry run", "gate " + g.name);
        exec::Command c = exec::make_command(exec::Kind::gate, "dry-run gate " + g.name, 0, side, g.command,
                                             ctx.workspace().cwd(side), g.timeout);
        ctx.workspace().ran_command(side);
        exec::CommandResult r = ctx.executor.run(c);
        if (r.interrupted()) throw Interrupted("dry run interrupted");
        if (!r.ok())
          throw Error(fmt::format("dry run: gate {}{} fails on the best commit: {}\n{}", g.name,
                                  after ? " (after the benchmark)" : "", r.process.describe(), r.process.tail));
        progress.note(fmt::format("gate {}{}: ok ({:.2f}s)", g.name, after ? " (after the benchmark)" : "",
                                  r.process.seconds));
      }
    };
    run_gates(false, 1);
    // The same run and checks as in an experiment (required metrics present and positive, no
    // tampering), so a config that passes here does not crash every experiment.
    std::map<std::string, std::vector<double>> values;
    const int runs = std::max(3, cfg.benchmark.warmup + 3);
    pipeline::Bench bench(ctx, 0, "dry run");
    ctx.workspace().snapshot(0, cfg.protected_paths);
    for (int i = 0; i < runs; ++i) {
      ctx.stage(0, "dry run", fmt::format("benchmark {}/{}", i + 1, runs));
      auto got = bench.run_once(0, fmt::format("dry-run benchmark {}", i + 1));
      if (auto* end = std::get_if<pipeline::Outcome>(&got)) {
        if (end->status == journal::Status::interrupted) throw Interrupted("dry run interrupted");
        throw Error(fmt::format("dry run: {} ({}); see {}\n{}", end->reason, journal::to_string(end->status),
                                ctx.session.run_log().string(), bench.tail().value_or("")));
      }
      if (i == 0) run_gates(true, 0);
      if (i >= cfg.benchmark.warmup) {
        for (const auto& [name, v] : std::get<0>(got)) values[name].push_back(v);
      }
    }
    for (const auto& [name, v] : values) {
      progress.note(fmt::format("METRIC {}: median {:.4g} (min {:.4g}, max {:.4g}, {} runs){}", name,
                                metrics::median(v), *std::min_element(v.begin(), v.end()),
                                *std::max_element(v.begin(), v.end()), v.size(),
                                name == cfg.metric.name ? "  <- primary" : ""));
    }
    return 0;
  });
  ctx.session.state().release();
  Summary summary;
  summary.stop_reason = "dry run: config, build, gates and benchmark are fine; nothing was recorded";
  return summary;
}

}  // namespace ar::app
