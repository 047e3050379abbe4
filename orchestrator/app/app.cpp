#include "app/app.hpp"

#include "app/commands.hpp"
#include "exec/local_executor.hpp"
#include "exec/slurm_executor.hpp"
#include "git/git.hpp"
#include "util/error.hpp"
#include "session/cleanup.hpp"
#include "session/state.hpp"

#include <fmt/format.h>

namespace ar::app {

namespace fs = std::filesystem;

namespace {

Summary run_session(const Options& options, session::Progress& progress, const ExecutorFactory& make_executor,
                    config::Config cfg, git::Repository repo, session::Paths paths, fs::path& run_log) {
  session::Session session(std::move(cfg), std::move(repo), std::move(paths), progress);
  session.open(options.mode == Mode::run);
  util::FaultPlan faults = options.faults;
  ExecutorSetup setup{session.config().session, session.token(), session.paths().logs, session.run_log(),
                      [&session] { return session.config().limits.max_log_mb; },
                      [&session] {
                        return session.config().metric.repeat == config::Repeat::last ? metrics::Repeat::last
                                                                                      : metrics::Repeat::median;
                      },
                      [&session] { return session.config().shell_path.string(); }, &session.sandbox(),
                      session.config().executor, session.config().sandbox, session.paths().state_dir,
                      session.paths().config, [&progress](const std::string& text) { progress.note(text); }};
  run_log = session.run_log();
  std::unique_ptr<exec::Executor> executor = make_executor(setup, faults);
  pipeline::Context ctx{session, *executor, faults, util::plan_pinning(session.config().benchmark.cpus, util::allowed_cpus())};
  if (!ctx.pinning.error.empty())
    throw ConfigError(fmt::format("{}: benchmark.cpus: {}", options.config_path.string(), ctx.pinning.error));
  switch (options.mode) {
    case Mode::dry_run:
      return dry_run(ctx);
    case Mode::calibrate:
      return calibrate_command(ctx);
    case Mode::verify:
      return verify_command(ctx, options.pairs);
    case Mode::finalize:
      return finalize_command(ctx, options.dry_run);
    case Mode::ablate:
      return ablate_command(ctx, options);
    case Mode::run:
      break;
  }
  SlotExecutorFactory slot_executors = [&](const exec::Sandbox* sandbox, const std::atomic<bool>* cancel) {
    ExecutorSetup own = setup;
    own.sandbox = sandbox;
    own.cancel = cancel;
    return make_executor(own, faults);
  };
  return run_loop(ctx, options.once, slot_executors);
}

}  // namespace

Summary run(const Options& options, session::Progress& progress, const ExecutorFactory& make_executor) {
  config::Config cfg = config::load(options.config_path);
  const fs::path start = fs::absolute(options.config_path).parent_path();
  git::Repository repo = git::Repository::discover(start);
  session::Paths paths = session::Paths::make(cfg, repo.workdir());
  fs::path run_log;
  if (options.mode != Mode::dry_run) {
    return run_session(options, progress, make_executor, std::move(cfg), std::move(repo), std::move(paths), run_log);
  }
  // A dry run leaves nothing that lasts: what it had to create (branch, worktrees, state folder)
  // goes once its session is closed, whatever the outcome. A failure keeps the run log it names.
  const std::string session = cfg.session;
  const session::Paths kept_paths = paths;
  const session::Footprint before = session::footprint(repo, paths, session);
  auto tidy = [&](bool failed) {
    try {
      // Under the run lock again: a run that started meanwhile keeps what it uses.
      session::RunLock lock(kept_paths);
      git::Repository again = git::Repository::discover(start);
      session::remove_created(again, kept_paths, session, before, failed ? run_log : fs::path());
    } catch (const std::exception& e) {
      progress.note(fmt::format("warning: the dry run could not remove what it created: {}", e.what()));
    }
  };
  Summary summary;
  try {
    summary = run_session(options, progress, make_executor, std::move(cfg), std::move(repo), std::move(paths), run_log);
  } catch (...) {
    tidy(true);
    throw;
  }
  tidy(false);
  std::vector<std::string> created;
  if (!before.branch) created.push_back("the branch autoresearch/" + session);
  if (!before.worktrees) created.push_back("the worktrees");
  if (!before.state_dir) created.push_back(kept_paths.state_dir.filename().string() + "/");
  if (!created.empty()) {
    std::string list = created.back();
    if (created.size() > 1) {
      created.pop_back();
      list = fmt::format("{} and {}", fmt::join(created, ", "), list);
    }
    summary.stop_reason += fmt::format("; {} it had to create {} removed", list, created.empty() ? "was" : "were");
  }
  return summary;
}

Summary run(const Options& options, session::Progress& progress) {
  return run(options, progress, [](const ExecutorSetup& s, util::FaultPlan& faults) {
    exec::LocalOptions lo;
    lo.session = s.session;
    lo.logs = s.logs;
    lo.run_log = s.run_log;
    lo.token = s.token;
    lo.max_log_mb = s.max_log_mb;
    lo.repeat = s.repeat;
    lo.shell = s.shell;
    lo.sandbox = s.sandbox;
    lo.cancel = s.cancel;
    // A fault plan may stop the process right after a child of a given kind started
    // ("spawn:build", "spawn:gate", "spawn:pair", "spawn:warmup").
    lo.on_spawn = [&faults](const exec::Command& c) { faults.point("spawn:" + c.label.substr(0, c.label.find(' '))); };
    if (s.executor.kind != config::ExecutorKind::slurm) return std::unique_ptr<exec::Executor>(new exec::LocalExecutor(lo));
    exec::SlurmOptions so;
    so.local = lo;
    so.partition = s.executor.partition;
    so.sbatch_args = s.executor.sbatch_args;
    so.workdir = s.executor.workdir.empty() ? s.state_dir / "slurm" : fs::path(s.executor.workdir);
    so.jobs_file = s.state_dir / "slurm" / "jobs.json";
    std::error_code ec;
    so.self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw Error(fmt::format("cannot find the autoresearch binary for Slurm jobs: {}", ec.message()));
    // The node confines its runs as this machine would; unconfined here means unconfined there.
    so.sandbox = s.sandbox_settings;
    if (s.sandbox == nullptr || !s.sandbox->confined()) so.sandbox.mode = config::SandboxMode::off;
    if (s.sandbox != nullptr) so.layout = s.sandbox->layout();
    so.config_file = s.config_file;
    so.note = s.note;
    return std::unique_ptr<exec::Executor>(new exec::SlurmExecutor(so));
  });
}

}  // namespace ar::app
