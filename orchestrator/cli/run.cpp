#include "cli/commands.hpp"

#include "loop/runner.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <memory>

#include <fmt/format.h>

namespace ar::cli {

int run_run(const RunCliOptions& options) {
  install_interrupt_handlers(options.stop_on_hangup);
  loop::ConsoleProgress progress;
  loop::RunOptions ro;
  ro.config_path = options.config;
  ro.once = options.once;
  ro.mode = options.dry_run ? loop::RunMode::dry_run : loop::RunMode::run;
  loop::RunSummary summary = loop::run(ro, progress);
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
  sub->callback([opt, &exit_code]() { exit_code = run_run(*opt); });
}

} // namespace ar::cli
