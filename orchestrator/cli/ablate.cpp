#include "cli/commands.hpp"

#include "app/app.hpp"
#include "app/console_progress.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <memory>
#include <sstream>

#include <fmt/format.h>

namespace ar::cli {

namespace {

// "3,5, 7" -> {3, 5, 7}; ar::ConfigError naming the bad part.
std::vector<int> parse_ids(const std::string& text) {
  std::vector<int> ids;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    std::size_t used = 0;
    int id = 0;
    try {
      id = std::stoi(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || id <= 0)
      throw ConfigError(fmt::format("ablate --only: \"{}\" is not an experiment id (expected a list like 3,5)", part));
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

int run_ablate(const AblateOptions& options) {
  if (options.max_pairs < 0 || options.max_pairs % 2 != 0)
    throw ConfigError(fmt::format("ablate --max-pairs: {} is not a positive even number (pairs run in blocks of two)",
                                  options.max_pairs));
  install_interrupt_handlers(false);
  app::ConsoleProgress progress;
  app::Options ro;
  ro.config_path = options.config;
  ro.mode = app::Mode::ablate;
  ro.dry_run = options.dry_run;
  ro.max_pairs = options.max_pairs;
  if (!options.only.empty()) ro.only = parse_ids(options.only);
  app::Summary summary = app::run(ro, progress);
  progress.note(summary.stop_reason);
  if (options.json) fmt::print("{}\n", summary.data.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  return k_exit_ok;
}

void setup_ablate(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<AblateOptions>();
  CLI::App* sub = app.add_subcommand(
      "ablate", "Measure the final best with each kept commit reverted: which keeps still pay for themselves");
  sub->add_option("-c,--config", opt->config, "Config file")->capture_default_str();
  sub->add_option("--max-pairs", opt->max_pairs, "Pairs per block at most (even; default: decision.max_pairs)");
  sub->add_option("--only", opt->only, "Only these kept experiments, by id: 3,5");
  sub->add_flag("--dry-run", opt->dry_run, "Print the plan and the time estimate; measure nothing");
  sub->add_flag("--json", opt->json, "Print the ablation records as JSON on stdout (progress stays on stderr)");
  sub->callback([opt, &exit_code]() { exit_code = run_ablate(*opt); });
}

}  // namespace ar::cli
