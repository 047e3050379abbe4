#pragma once
// One setup function per subcommand (each in its own file pair of options + run). setup_x adds the
// subcommand to `app`; when CLI11 parses it, the callback runs run_x and stores its exit code in
// `exit_code`. run_x never sees argv; errors are thrown as ar::Error and mapped in main.

#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

namespace ar::cli {

inline constexpr const char* k_default_config = "autoresearch.config.yaml";

struct InitOptions {
  std::filesystem::path dir = ".";
};
int run_init(const InitOptions& options);
void setup_init(CLI::App& app, int& exit_code);

struct RunCliOptions {
  std::filesystem::path config = k_default_config;
  bool once = false;
  bool dry_run = false;
  bool stop_on_hangup = false;
  std::string fault;  // tests: util::FaultPlan text
};
int run_run(const RunCliOptions& options);
void setup_run(CLI::App& app, int& exit_code);

struct StatusOptions {
  std::filesystem::path config = k_default_config;
  bool json = false;
};
int run_status(const StatusOptions& options);
void setup_status(CLI::App& app, int& exit_code);

struct ReportOptions {
  std::filesystem::path config = k_default_config;
  bool json = false;  // print the data behind the report instead of writing the files
};
int run_report(const ReportOptions& options);
void setup_report(CLI::App& app, int& exit_code);

struct ShowOptions {
  std::filesystem::path config = k_default_config;
  int id = 0;
  bool diff = false;
  bool log = false;
  bool json = false;
};
int run_show(const ShowOptions& options);
void setup_show(CLI::App& app, int& exit_code);

struct FinalizeOptions {
  std::filesystem::path config = k_default_config;
  bool dry_run = false;
};
int run_finalize(const FinalizeOptions& options);
void setup_finalize(CLI::App& app, int& exit_code);

// ablate: each kept commit reverted from the final best, measured against it (app/ablate.cpp).
struct AblateOptions {
  std::filesystem::path config = k_default_config;
  int max_pairs = 0;  // 0: the config's
  std::string only;   // "3,5": these experiment ids only
  bool dry_run = false;
  bool json = false;
};
int run_ablate(const AblateOptions& options);
void setup_ablate(CLI::App& app, int& exit_code);

// calibrate and verify: measurements outside the experiment loop.
struct MeasureOptions {
  std::filesystem::path config = k_default_config;
  bool verify = false;
  int pairs = 0;
  bool json = false;  // verify: print the verify record as JSON on stdout
};
int run_measure(const MeasureOptions& options);
void setup_calibrate(CLI::App& app, int& exit_code);
void setup_verify(CLI::App& app, int& exit_code);

// clean: a session's worktrees and state; with delete_branch its branch and journal lines too.
struct CleanOptions {
  std::filesystem::path config = k_default_config;
  std::string session;  // empty: the config's
  bool delete_branch = false;
};
int run_clean(const CleanOptions& options);
void setup_clean(CLI::App& app, int& exit_code);

struct ExecBlockOptions {
  std::filesystem::path folder;
};
int run_exec_block(const ExecBlockOptions& options);
void setup_exec_block(CLI::App& app, int& exit_code);

// import: a pi-autoresearch session into a config, journal history and ideas (importer/).
struct ImportOptions {
  std::filesystem::path dir = ".";
  bool force = false;        // overwrite an existing config
  std::string session;       // empty: from the log's goal
  std::filesystem::path log;  // a renamed pi log; empty: the layout's
  bool dry_run = true;       // run the benchmark once to check the metric name
};
int run_import(const ImportOptions& options);
void setup_import(CLI::App& app, int& exit_code);

} // namespace ar::cli
