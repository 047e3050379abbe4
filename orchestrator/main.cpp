// autoresearch: CLI wiring only. All logic is in the autoresearch_core library; this file maps
// errors to the documented exit codes (0 ok, 1 failure, 2 usage or config error, 130 interrupted).

#include "cli/commands.hpp"
#include "git/git.hpp"
#include "util/error.hpp"

#include <cstdio>

int main(int argc, char** argv) {
  ar::git::Library libgit2;
  CLI::App app{"autoresearch: runs performance experiments unattended and keeps only real wins"};
  app.set_version_flag("--version", std::string("autoresearch ") + AUTORESEARCH_VERSION);
  app.require_subcommand(1, 1);
  int exit_code = ar::k_exit_ok;
  ar::cli::setup_init(app, exit_code);
  ar::cli::setup_run(app, exit_code);
  ar::cli::setup_status(app, exit_code);
  ar::cli::setup_report(app, exit_code);
  ar::cli::setup_show(app, exit_code);
  ar::cli::setup_finalize(app, exit_code);
  ar::cli::setup_ablate(app, exit_code);
  ar::cli::setup_calibrate(app, exit_code);
  ar::cli::setup_verify(app, exit_code);
  ar::cli::setup_clean(app, exit_code);
  ar::cli::setup_exec_block(app, exit_code);
  ar::cli::setup_import(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? ar::k_exit_ok : ar::k_exit_usage;
  } catch (const ar::Error& e) {
    std::fprintf(stderr, "autoresearch: error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "autoresearch: error: %s\n", e.what());
    return ar::k_exit_failure;
  }
  return exit_code;
}
