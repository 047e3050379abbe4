#include "cli/commands.hpp"

#include "config/config.hpp"
#include "importer/pi_session.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <memory>

#include <fmt/format.h>

namespace ar::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_ideas_template =
    "# Ideas\n"
    "\n"
    "<!-- One idea per list item (\"- ...\"). autoresearch lists them in `autoresearch status`. -->\n";

} // namespace

int run_init(const InitOptions& options) {
  fs::path config = options.dir / k_default_config;
  fs::path ideas = options.dir / "ideas.md";
  std::string existing;
  for (const fs::path& p : {config, ideas}) {
    // A symlink whose target is missing counts too: writing the file would replace the link.
    std::error_code ec;
    if (fs::exists(p, ec)) {
      existing += (existing.empty() ? "" : ", ") + p.string();
    } else if (fs::is_symlink(fs::symlink_status(p, ec))) {
      existing += fmt::format("{}{} (a symlink to {}, which does not exist)", existing.empty() ? "" : ", ", p.string(),
                              fs::read_symlink(p, ec).string());
    }
  }
  for (const fs::path& d : {options.dir / "experiments", options.dir / "gates"}) {
    if (fs::exists(d) && !fs::is_directory(d)) existing += (existing.empty() ? "" : ", ") + d.string();
  }
  if (!existing.empty()) {
    throw Error(fmt::format("init: refusing to overwrite existing {}; nothing was written", existing));
  }
  try {
    importer::PiFiles pi = importer::find_session(options.dir);
    fmt::print("note: {} holds a pi-autoresearch session ({}); `autoresearch import` writes the config from it and "
               "brings its history in (`autoresearch import --force` replaces the config written now)\n",
               options.dir.string(), pi.dot_auto ? ".auto/" : "autoresearch.sh");
  } catch (const Error&) {
    // No pi session here: the usual start.
  }
  fs::create_directories(options.dir / "experiments");
  fs::create_directories(options.dir / "gates");
  util::write_file_atomic(config, config::starter_config());
  util::write_file_atomic(ideas, k_ideas_template);
  fmt::print("wrote {}, {}, {}/, {}/\nnext: edit {} (benchmark command, metric, gates, protected paths), queue "
             "patches in experiments/, then `autoresearch run`\n",
             config.string(), ideas.string(), (options.dir / "experiments").string(),
             (options.dir / "gates").string(), config.string());
  return k_exit_ok;
}

void setup_init(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<InitOptions>();
  CLI::App* sub = app.add_subcommand(
      "init", "Write a commented autoresearch.config.yaml, an empty ideas.md, experiments/ and gates/");
  sub->add_option("dir", opt->dir, "Folder to initialise (default: the current one)");
  sub->callback([opt, &exit_code]() { exit_code = run_init(*opt); });
}

} // namespace ar::cli
