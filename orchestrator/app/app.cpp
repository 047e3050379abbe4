#include "app/app.hpp"

#include "app/commands.hpp"
#include "exec/local_executor.hpp"
#include "git/git.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

namespace ar::app {

namespace fs = std::filesystem;

Summary run(const Options& options, session::Progress& progress, const ExecutorFactory& make_executor) {
  config::Config cfg = config::load(options.config_path);
  git::Repository repo = git::Repository::discover(fs::absolute(options.config_path).parent_path());
  session::Paths paths = session::Paths::make(cfg, repo.workdir());
  session::Session session(std::move(cfg), std::move(repo), std::move(paths), progress);
  session.open(options.mode == Mode::run);
  util::FaultPlan faults = options.faults;
  ExecutorSetup setup{session.config().session, session.token(), session.paths().logs, session.run_log(),
                      [&session] { return session.config().limits.max_log_mb; }, &session.sandbox()};
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
    case Mode::run:
      break;
  }
  return run_loop(ctx, options.once);
}

Summary run(const Options& options, session::Progress& progress) {
  return run(options, progress, [](const ExecutorSetup& s, util::FaultPlan& faults) {
    exec::LocalOptions lo;
    lo.session = s.session;
    lo.logs = s.logs;
    lo.run_log = s.run_log;
    lo.token = s.token;
    lo.max_log_mb = s.max_log_mb;
    lo.sandbox = s.sandbox;
    // A fault plan may stop the process right after a child of a given kind started
    // ("spawn:build", "spawn:gate", "spawn:pair", "spawn:warmup").
    lo.on_spawn = [&faults](const exec::Command& c) { faults.point("spawn:" + c.label.substr(0, c.label.find(' '))); };
    return std::make_unique<exec::LocalExecutor>(lo);
  });
}

}  // namespace ar::app
