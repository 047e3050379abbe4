#include "cli/commands.hpp"

#include "app/app.hpp"
#include "app/console_progress.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <memory>

#include <fmt/format.h>

namespace ar::cli {

int run_run(const RunCliOptions& options) {
  install_interrupt_handlers(options.stop_on_hangup);
  app::ConsoleProgress progress;
  app::Options ro;
  ro.config_path = options.config;
  ro.once = options.once;
  ro.faults = util::FaultPlan::parse(options.fault);
  ro.mode = options.dry_run ? app::Mode::dry_run : app::Mode::run;
  app::Summary summary = app::run(ro, progress);
  if (options.dry_run) {
    progress.note(summary.stop_reason);
  } else {
    progress.note(fmt::format("stopped: {}; {} experiment(s) this run. `autoresearch report` writes reports/report.md",
                              summary.stop_reason, summary.experiments));
  }
  return k_exit_ok;
}

void setup_run(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<RunCliOptions>();
  CLI::App* sub = app.add_subcommand("run", "Run the experiment loop (Ctrl-C stops cleanly; run again to resume)");
  sub->add_option("-c,--config", opt->config, "Config file")->capture_default_str();
  sub->add_flag("--once", opt->once, "Run a single experiment, then stop");
  sub->add_flag("--dry-run", opt->dry_run,
                "Validate the config, build, run the gates and the benchmark on the best commit; record nothing");
  sub->add_flag("--stop-on-hangup", opt->stop_on_hangup,
                "Stop (like Ctrl-C) when the terminal closes; by default SIGHUP is ignored");
  // For tests: kill the process at a named point (see util/fault.hpp). Not shown in --help.
  sub->add_option("--fault", opt->fault, "")->group("");
  sub->callback([opt, &exit_code]() { exit_code = run_run(*opt); });
}

} // namespace ar::cli
