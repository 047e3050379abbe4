#include "pipeline/experiment.hpp"

#include "pipeline/stages.hpp"
#include "sources/screen.hpp"
#include "util/files.hpp"
#include "util/interrupt.hpp"

#include <fmt/format.h>

namespace ar::pipeline {

using journal::ExperimentRecord;
using journal::Status;

namespace {

ExperimentRecord start_record(Context& ctx, const sources::Hypothesis& h, int id) {
  ExperimentRecord r;
  journal::RunningExperiment& x = r.run;
  x.id = id;
  x.session = ctx.cfg().session;
  x.started_at = util::utc_now_iso();
  x.source_kind = h.source;
  x.source_file = h.origin;
  x.title = h.title;
  x.hypothesis = h.hypothesis;
  x.mechanism = h.mechanism;
  x.idea = h.idea;
  x.patch_sha256 = h.patch_sha256;
  x.key = h.identity();
  x.base_commit = git::to_hex(ctx.workspace().best());
  r.diff_sha256 = h.patch.empty() ? std::string() : sources::diff_sha256(h.patch);
  r.asi = h.asi;
  return r;
}

StageResult screen(Context& ctx, const sources::Hypothesis& h, ExperimentRecord& record) {
  const session::Paths& paths = ctx.session.paths();
  std::vector<std::string> harness;
  for (const config::HarnessFile& f : ctx.cfg().harness) harness.push_back(f.path);
  sources::ScreenRules rules{ctx.cfg().protected_paths,
                             ctx.cfg().scope,
                             {paths.config.lexically_relative(paths.repo_root).generic_string(),
                              paths.journal.lexically_relative(paths.repo_root).generic_string()},
                             std::move(harness),
                             ctx.workspace().side(1).path()};
  if (auto no = sources::screen(h, ctx.session.view(), rules, record.files)) return Outcome{no->status, no->reason};
  return std::nullopt;
}

// The stages in order; the first that ends the experiment gives its status.
Outcome run_stages(Context& ctx, const sources::Hypothesis& h, ExperimentRecord& record, bool& applied) {
  const int id = record.run.id;
  ctx.stage(id, h.title, "screen");
  save_patch(ctx, h, record);
  if (StageResult end = screen(ctx, h, record)) return *end;
  ctx.stage(id, h.title, "apply");
  ctx.session.sandbox().clear_tmp(1);  // each candidate starts with an empty private /tmp
  applied = true;
  if (StageResult end = apply(ctx, h, record)) return *end;
  ctx.faults.point("apply");
  if (StageResult end = build(ctx, record)) return *end;
  if (StageResult end = gates(ctx, record)) return *end;
  decide::Verdict verdict;
  if (StageResult end = measure(ctx, record, verdict)) return *end;
  Outcome decided = decide_outcome(verdict);
  if (decided.status == Status::keep) commit(ctx, h, record);
  return decided;
}

}  // namespace

static void restore_after_failure(Context& ctx, bool applied) {
  try {
    if (applied) ctx.workspace().revert();
  } catch (const std::exception& e) {
    ctx.session.progress().note(
        fmt::format("warning: could not restore the worktrees ({}); the next run repairs them", e.what()));
  }
}

ExperimentRecord run_experiment(Context& ctx, const sources::Hypothesis& h, int id) {
  double started = util::monotonic_seconds();
  ExperimentRecord record = start_record(ctx, h, id);
  ctx.session.state().begin(journal::to_json(record.run));
  bool applied = false;
  Outcome outcome{Status::interrupted, ""};
  // A command run unconfined may delete the state folder, worktrees and all: what failed then is
  // the loop's own work on them, and the experiment is recorded as the tampering it is.
  const Outcome wiped{Status::rejected,
                      "tampering: a command deleted " + ctx.session.paths().state_dir.filename().string() +
                          "/ (worktrees, logs, state) while the experiment ran"};
  try {
    outcome = run_stages(ctx, h, record, applied);
    if (ctx.session.recover_state_dir()) outcome = wiped;
  } catch (const Interrupted&) {
    restore_after_failure(ctx, applied);
    throw;
  } catch (const std::exception&) {
    if (!ctx.session.recover_state_dir()) {
      restore_after_failure(ctx, applied);
      throw;
    }
    outcome = wiped;
  }
  record.status = outcome.status;
  record.reason = outcome.reason;
  if (outcome.status == Status::interrupted) {
    record.reason = fmt::format("stopped by signal {} at stage \"{}\"", static_cast<int>(g_interrupt),
                                ctx.session.state().current()["experiment"].value("stage", "?"));
  }
  // Revert (or, after a keep, bring the base to the new best) before the record is written.
  if (applied || record.status == Status::keep) ctx.workspace().revert();
  ctx.faults.point("revert");
  record.finished_at = util::utc_now_iso();
  record.durations["total"] = util::monotonic_seconds() - started;
  if (ctx.faults.due("journal")) {
    // Simulates a power cut in the middle of the append: half a line reaches the disk.
    std::string line = journal::to_json(record).dump();
    util::append_durably(ctx.session.paths().journal, line.substr(0, line.size() / 2));
    util::FaultPlan::die();
  }
  ctx.session.record(record);
  ctx.faults.point("recorded");
  ctx.session.state().end();
  return record;
}

ExperimentRecord interrupted_record(const journal::RunningExperiment& running) {
  ExperimentRecord r;
  r.run = running;
  r.finished_at = util::utc_now_iso();
  r.status = Status::interrupted;
  r.reason = fmt::format("found unfinished at stage \"{}\" (the previous run stopped)", running.stage);
  return r;
}

}  // namespace ar::pipeline
