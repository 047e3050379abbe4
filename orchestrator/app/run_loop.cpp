// The run loop: pick -> pipeline -> record -> observers, until a source runs dry, a limit is
// reached or an interrupt arrives.

#include "app/commands.hpp"
#include "app/slots.hpp"
#include "decide/noise_watch.hpp"
#include "ideas/ideas.hpp"
#include "pipeline/experiment.hpp"
#include "pipeline/stages.hpp"
#include "report/report.hpp"
#include "sources/near_dead_end.hpp"
#include "sources/source.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/interrupt.hpp"

#include <algorithm>
#include <climits>

#include <map>

#include <fmt/format.h>

namespace ar::app {

using journal::Status;

namespace {

// The counters the stop rules read; updated once per experiment.
struct Streaks {
  int consecutive_failures = 0;  // crash, timeout, checks_failed, apply_failed, rejected proposals
  int since_keep = 0;            // the plateau rule
  int proposer_idle = 0;         // proposals in a row that were rejected or timed out
};

std::optional<std::string> limit_reached(const session::Session& s, const Streaks& st, int ran, double started) {
  const config::Limits& lim = s.config().limits;
  if (lim.max_experiments > 0 && ran >= lim.max_experiments) {
    return fmt::format("max_experiments reached ({})", lim.max_experiments);
  }
  if (lim.max_duration.count() > 0 &&
      util::monotonic_seconds() - started >= static_cast<double>(lim.max_duration.count()) / 1000.0) {
    return fmt::format("max_duration reached ({})", config::format_duration(lim.max_duration));
  }
  if (lim.max_consecutive_failures > 0 && st.consecutive_failures >= lim.max_consecutive_failures) {
    return fmt::format("max_consecutive_failures reached ({} in a row)", st.consecutive_failures);
  }
  const journal::SessionView& view = s.view();
  if (lim.target && !view.kept.empty()) {
    double best = view.experiments[view.kept.back()].candidate_median;
    bool reached = s.config().metric.direction == decide::Direction::lower ? best <= *lim.target : best >= *lim.target;
    if (reached) return fmt::format("target reached ({} {} {})", s.config().metric.name, best, *lim.target);
  }
  return std::nullopt;
}

void recover_unfinished(pipeline::Context& ctx) {
  if (auto running = ctx.session.unfinished()) {
    journal::ExperimentRecord r = pipeline::interrupted_record(*running);
    ctx.session.record(r);
    ctx.session.progress().finished(r);
  }
  ctx.session.state().end();
}

// Points the noise watch at the session's last calibration (its primary metric's noise and level).
void watch_calibration(session::Session& s, decide::NoiseWatch& noise) {
  const auto& cal = s.view().last_calibration;
  if (!cal || !cal->contains("metrics")) return;
  const nlohmann::json& metrics = (*cal)["metrics"];
  const std::string& name = s.config().metric.name;
  if (!metrics.contains(name) || !metrics[name].contains("cv")) return;
  std::vector<double> base = metrics[name].value("base", std::vector<double>());
  if (base.empty()) return;
  std::sort(base.begin(), base.end());
  noise.calibrated(metrics[name]["cv"].get<double>(), base[base.size() / 2]);
}

}  // namespace

Summary run_loop(pipeline::Context& ctx, bool once, const SlotExecutorFactory& slot_executors) {
  session::Session& s = ctx.session;
  recover_unfinished(ctx);
  // A new session first measures its own noise, and refuses a harness that tells two copies of
  // the same commit apart; a harness found broken is measured again on every start until it passes.
  const auto& last_cal = s.view().last_calibration;
  if (s.config().calibration.on_start && !(last_cal && !last_cal->value("broken", false))) calibrate(ctx, true);
  // Noise is tracked per node (Slurm; "" for this machine): one node's noisy neighbour must not
  // hide in, or trigger a calibration for, another's estimate.
  std::map<std::string, decide::NoiseWatch> noise;
  auto watch = [&](const std::string& node) -> decide::NoiseWatch& {
    auto [it, fresh] = noise.try_emplace(node);
    if (fresh) watch_calibration(s, it->second);
    return it->second;
  };

  std::vector<std::unique_ptr<Observer>> observers;
  observers.push_back(ideas_observer(s));
  observers.push_back(progress_observer(s.progress()));
  observers.push_back(hook_observer(ctx));
  sources::Picker picker;
  sources::SourceEnv env{s, ctx.executor};
  sources::NearDeadEnds near;
  for (const journal::Summary& e : s.view().experiments) near.add(e);
  Streaks st;
  Summary summary;
  double started = util::monotonic_seconds();
  // Executor slots: the next candidates are prepared while one is measured (app/slots). The count
  // in force when the run starts holds for the whole run.
  std::unique_ptr<Slots> slots;
  if (s.config().executor.slots > 1 && slot_executors) {
    slots = std::make_unique<Slots>(ctx, s.config().executor.slots, slot_executors);
  }
  while (true) {
    if (interrupted()) throw Interrupted("interrupted before the next experiment; nothing was running");
    if (auto why = limit_reached(s, st, summary.experiments, started)) {
      summary.stop_reason = *why;
      break;
    }
    s.reload_config();
    if (!slots) pipeline::ensure_base_built(ctx);  // slots build their own base
    try {
      ideas::update_file_safely(s.paths().ideas, ideas::with_ids);
    } catch (const Error& e) {
      s.progress().note(fmt::format("warning: could not give ideas ids: {}", e.what()));
    }
    int id = s.view().next_id;
    std::optional<sources::Hypothesis> h = picker.next(env, id);
    if (!h) {
      summary.stop_reason = "no more hypotheses (every source is done)";
      break;
    }
    if (auto m = near.find(h->title)) {
      h->asi["near_dead_end"] = {{"id", m->id}, {"title", m->title}, {"similarity", m->similarity}};
      s.progress().note(fmt::format("note: \"{}\" nearly repeats dead end {} (\"{}\")", h->title, m->id, m->title));
    }
    for (auto& o : observers) o->before(*h, id);
    journal::ExperimentRecord record;
    if (slots) {
      const int max = s.config().limits.max_experiments;
      const int ahead = once ? 0 : max > 0 ? max - summary.experiments - 1 : INT_MAX;
      record = slots->run(*h, id, picker, env, ahead);
    } else {
      record = pipeline::run_experiment(ctx, *h, id);
    }
    ++summary.experiments;
    near.add(s.view().experiments.back());
    bool proposal = h->source == "proposer";
    bool failure = journal::is_failure(record.status) || (record.status == Status::rejected && proposal);
    st.consecutive_failures = failure ? st.consecutive_failures + 1 : 0;
    st.since_keep = record.status == Status::keep ? 0 : st.since_keep + 1;
    // A proposer that only produces nothing, repeats, or breaks the rules is switched off rather
    // than asked all night.
    if (proposal) {
      st.proposer_idle =
          record.status == Status::rejected || record.status == Status::timeout ? st.proposer_idle + 1 : 0;
      if (st.proposer_idle >= 3) {
        s.progress().note(
            "the proposer produced nothing usable three times in a row: it is off for the rest of this run");
        picker.disable(config::SourceKind::proposer);
      }
    }
    for (auto& o : observers) o->after(record);
    // Noise tracked, not assumed: the best's side of every experiment feeds the rolling estimate;
    // when it leaves the calibrated band, or the best's level moved, the noise is measured again.
    // (After a keep the candidate's samples are the new best's.)
    decide::NoiseWatch& node_noise = watch(record.measurement ? record.measurement->node : std::string());
    if (record.measurement) {
      const journal::PrimaryMetric& m = record.measurement->primary;
      node_noise.add(record.status == Status::keep ? m.candidate : m.base);
    }
    const config::Calibration& cal = s.config().calibration;
    if (cal.on_start && record.status != Status::interrupted) {
      if (auto why = node_noise.recalibration_reason(cal.level_change, cal.noise_band)) {
        if (record.measurement && !record.measurement->node.empty()) *why += " on node " + record.measurement->node;
        s.progress().note("calibrating again: " + *why);
        if (slots) slots->quiesce();  // a calibration measures: nothing runs beside it
        // Recorded, not fatal: the harness passed at the session's start.
        calibrate(ctx, false, *why);
        for (auto& [node, w] : noise) watch_calibration(s, w);
      }
    }
    const config::Limits& lim = s.config().limits;
    if (lim.plateau > 0 && st.since_keep >= lim.plateau && record.status != Status::interrupted) {
      if (lim.plateau_stop) {
        summary.stop_reason = fmt::format("plateau: no keep in {} experiments", st.since_keep);
        break;
      }
      s.progress().note(fmt::format("plateau: no keep in {} experiments from {}; switching to the next source",
                                    st.since_keep, config::to_string(picker.last())));
      picker.disable(picker.last());
      st.since_keep = 0;
    }
    if (record.status == Status::interrupted) {
      throw Interrupted(
          fmt::format("interrupted during experiment {}; recorded as interrupted, worktrees restored", id));
    }
    if (once) {
      summary.stop_reason = "--once: one experiment done";
      break;
    }
  }
  s.record_line({{"type", "stop"},
                 {"schema", journal::k_schema},
                 {"session", s.config().session},
                 {"at", util::utc_now_iso()},
                 {"reason", summary.stop_reason},
                 {"experiments", summary.experiments}});
  s.state().finish(summary.stop_reason);
  report::write_report(s.view(), s.config(), s.paths().reports);
  return summary;
}

}  // namespace ar::app
