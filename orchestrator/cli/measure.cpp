#include "cli/commands.hpp"

#include "app/app.hpp"
#include "app/console_progress.hpp"
#include "cli/read_view.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <memory>

#include <fmt/format.h>

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
  if (options.json) {
    // The record verify just appended: the journal's last verify line of this session.
    ReadView read = read_view(options.config);
    fmt::print("{}\n", read.view.last_verify ? read.view.last_verify->dump(2) : std::string("null"));
  }
  return k_exit_ok;
}

int run_finalize(const FinalizeOptions& options) {
  install_interrupt_handlers(false);
  app::ConsoleProgress progress;
  app::Options ro;
  ro.config_path = options.config;
  ro.mode = app::Mode::finalize;
  ro.dry_run = options.dry_run;
  app::Summary summary = app::run(ro, progress);
  progress.note(summary.stop_reason);
  return k_exit_ok;
}

void setup_finalize(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<FinalizeOptions>();
  CLI::App* sub = app.add_subcommand(
      "finalize", "Split the kept commits into independent review branches autoresearch-review/<session>/NN-<slug>");
  sub->add_option("-c,--config", opt->config, "Config file")->capture_default_str();
  sub->add_flag("--dry-run", opt->dry_run, "Print the plan; create nothing");
  sub->callback([opt, &exit_code]() { exit_code = run_finalize(*opt); });
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
  sub->add_flag("--json", opt->json, "Print the verify record as JSON on stdout (progress stays on stderr)");
  sub->callback([opt, &exit_code]() { exit_code = run_measure(*opt); });
}

} // namespace ar::cli
