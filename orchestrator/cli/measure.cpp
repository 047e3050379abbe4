#include "cli/commands.hpp"

#include "app/app.hpp"
#include "app/console_progress.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <memory>

namespace ar::cli {

int run_measure(const MeasureOptions& options) {
  install_interrupt_handlers(false);
  app::ConsoleProgress progress;
  app::Options ro;
  ro.config_path = options.config;
  ro.mode = options.verify ? app::Mode::verify : app::Mode::calibrate;
  ro.pairs = options.pairs;
  app::Summary summary = app::run(ro, progress);
  progress.note(summary.stop_reason);
  return k_exit_ok;
}

void setup_calibrate(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<MeasureOptions>();
  CLI::App* sub = app.add_subcommand(
      "calibrate", "Measure the best commit against itself (A/A): noise of every metric, smallest detectable effect");
  sub->add_option("-c,--config", opt->config, "Config file")->capture_default_str();
  sub->callback([opt, &exit_code]() { exit_code = run_measure(*opt); });
}

void setup_verify(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<MeasureOptions>();
  opt->verify = true;
  CLI::App* sub = app.add_subcommand(
      "verify", "Re-measure the best commit against the session's start commit: the cumulative gain with its CI");
  sub->add_option("-c,--config", opt->config, "Config file")->capture_default_str();
  sub->add_option("--pairs", opt->pairs, "Pairs to run (default: verify.pairs, else twice decision.max_pairs)");
  sub->callback([opt, &exit_code]() { exit_code = run_measure(*opt); });
}

} // namespace ar::cli
