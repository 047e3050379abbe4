#include "cli/commands.hpp"
#include "cli/read_view.hpp"

#include "config/config.hpp"
#include "git/git.hpp"
#include "journal/journal.hpp"
#include "session/paths.hpp"
#include "report/html.hpp"
#include "report/report.hpp"
#include "util/error.hpp"

#include <memory>

#include <fmt/format.h>

namespace ar::cli {

int run_report(const ReportOptions& options) {
  ReadView read = read_view(options.config);
  const config::Config& cfg = read.cfg;
  const session::Paths& paths = read.paths;
  const journal::SessionView& view = read.view;
  for (const auto& w : read.warnings) fmt::print(stderr, "warning: {}\n", w);
  if (options.json) {
    fmt::print("{}\n", report::report_json(view, cfg).dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return k_exit_ok;
  }
  report::write_report(view, cfg, paths.reports);
  report::write_html(view, cfg, paths.reports);
  fmt::print("wrote {}, {} and {}\n", (paths.reports / "report.md").string(), (paths.reports / "report.html").string(),
             (paths.reports / "dead-ends.md").string());
  return k_exit_ok;
}

void setup_report(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<ReportOptions>();
  CLI::App* sub = app.add_subcommand("report", "Write reports/report.md, report.html and dead-ends.md from results.jsonl");
  sub->add_option("-c,--config", opt->config, "Config file")->capture_default_str();
  sub->add_flag("--json", opt->json, "Print the data behind the report as JSON instead of writing the files");
  sub->callback([opt, &exit_code]() { exit_code = run_report(*opt); });
}

}  // namespace ar::cli
