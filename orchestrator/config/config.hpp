#pragma once
// autoresearch.config.yaml (DESIGN §4) as plain structs. load() validates everything up front:
// each error is a ConfigError "<file>:<line>: <message>" naming the key; unknown keys are errors
// with a did-you-mean suggestion; durations ("90s", "10m", "2h", "500ms") and percentages ("1%")
// are parsed here so nothing downstream sees strings.

#include "decide/decision.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::config {

using Duration = std::chrono::milliseconds;

struct Benchmark {
  std::string command;                         // required
  Duration timeout = std::chrono::minutes(10);
  int warmup = 1;                              // unrecorded runs per side before the pairs
  Duration pause = std::chrono::seconds(3);    // before a confirmation block: longer than an
                                               // interference streak, so the blocks are apart
  std::string cpus = "auto";                   // auto, all, or a CPU list ("2-3"): where both
                                               // sides of every pair run (util/affinity.hpp)
};

struct Build {
  std::string command;                         // empty: no build step
  Duration timeout = std::chrono::minutes(30);
};

// What one run's value of a name printed several times is: the median of its values, or the last
// one (pi-autoresearch's rule). Mirrors metrics::Repeat (config may not include metrics/).
enum class Repeat { median, last };

struct Metric {
  std::string name;                            // required
  decide::Direction direction = decide::Direction::lower;
  std::string unit;
  Repeat repeat = Repeat::median;              // key `repeat`, for every METRIC name of a run
};

struct Gate {
  std::string name;                            // required, unique
  std::string command;                         // required
  Duration timeout = std::chrono::minutes(10);
  // Key `after: benchmark`: the gate runs in the measure stage, in the candidate worktree right
  // after the candidate's first benchmark run (its output files are there to check), before the
  // measured pairs. Default (false): after the build, before any benchmark run.
  bool after_benchmark = false;
};

// One entry of `harness`: a file outside git (ignored or untracked in the user's checkout) that the
// commands need, copied into both worktrees. `path` is relative to the repository root.
struct HarnessFile {
  std::string path;
  int line = 0;  // the config line that names it, for errors
};

struct Queue {
  std::string dir = "experiments";             // relative to the config file's folder
};

// One tuning knob tried at several values (DESIGN §6): in `file`, the first match of `pattern`
// (an ECMAScript regex with exactly one capture group) has its group replaced by each value in
// turn, one hypothesis per value, each against the best commit at the time.
struct Sweep {
  std::string name;        // required, unique: the axis ("buckets")
  std::string file;        // required: repository-relative path
  std::string pattern;     // required: one capture group
  std::vector<std::string> values;  // required, non-empty
  std::string mechanism;   // optional: why this knob should matter
  std::string idea;        // optional: the ideas.md id this sweep tests
};

// An external command that proposes the next hypothesis by editing its working directory.
struct Proposer {
  std::string command;                          // empty: no proposer
  Duration timeout = std::chrono::minutes(30);
  std::string notes;                            // optional file (relative to the config) for the context
  int recent = 20;                              // experiments listed in the context
};

enum class SourceKind { queue, sweeps, proposer };

struct Sources {
  Queue queue;
  std::vector<Sweep> sweeps;
  Proposer proposer;
  std::vector<SourceKind> order{SourceKind::queue, SourceKind::sweeps, SourceKind::proposer};
};

// Optional commands around every experiment; each gets a JSON description on stdin.
struct Hook {
  std::string command;                          // empty: none
  Duration timeout = std::chrono::minutes(1);
};

struct Hooks {
  Hook before;
  Hook after;
};

struct Limits {
  int max_experiments = 0;                     // 0: no limit
  Duration max_duration{0};                    // 0: no limit
  int max_consecutive_failures = 0;            // 0: no limit
  std::optional<double> target;                // stop when the best primary value reaches it
  int retry_interrupted = 1;                   // times an interrupted hypothesis is tried again
  int plateau = 0;                             // experiments in a row without a keep; 0: off
  bool plateau_stop = true;                    // on_plateau: stop (true) or next_source (false)
  int max_log_mb = 64;                         // cap of one experiment's log (head and tail kept)
};

// The A/A run (base against itself) that measures the session's noise.
struct Calibration {
  int pairs = 32;          // base/base pairs (16 balanced blocks: the prior has 15 df)
  bool on_start = true;    // calibrate once when a session starts
  double level_change = 0.20;  // calibrate again when the best's level moves by more (0: never)
  double noise_band = 2;       // ... or the rolling noise leaves [cv / band, cv * band] (0: never)
};

// The sandbox every command runs in (DESIGN §12). auto: confined where bubblewrap works, else one
// warning and an unconfined session (said in the journal header); strict: also $HOME and the
// rest of the file system read-only except `writable`, and refuse to run unconfined; off: none.
enum class SandboxMode { automatic, strict, off };

struct Sandbox {
  SandboxMode mode = SandboxMode::automatic;
  // namespaces where the kernel has Landlock, else bwrap (exec/sandbox.hpp); `bwrap` forces one
  // bubblewrap process a command (a PID namespace each, a few ms each).
  bool force_bwrap = false;
  std::vector<std::string> writable;  // strict: absolute or ~/ paths that stay writable
};

// Key `executor`: where and how many candidates run at once. Local slots prepare the next
// candidates (apply, build, gates) in their own worktrees while the current one is measured;
// measurement stays exclusive (README "Slots"). The Slurm keys are read here and used by the Slurm
// executor; with kind local they are an error.
enum class ExecutorKind { local, slurm };
inline constexpr int k_max_slots = 16;

struct Executor {
  ExecutorKind kind = ExecutorKind::local;
  int slots = 1;                         // candidates in flight at once; 1: one at a time
  // Key `background: pause|run`: whether the other slots' commands are stopped (SIGSTOP) while a
  // candidate is measured (pause, the default: README "Executor slots" has the numbers) or run on.
  bool pause_background = true;
  std::string partition;                 // slurm: sbatch --partition; empty: the cluster's default
  std::vector<std::string> sbatch_args;  // slurm: extra sbatch arguments, one item an argument
  std::string workdir;                   // slurm: the job folders (absolute, shared with the nodes);
                                         // empty: .autoresearch/slurm
};

// Key `reference`: what the headline compares the final result with (an old engine, say), given
// as a revision of this repository or as a command that prints the same METRIC lines. Measured by
// `autoresearch verify`, paired against the best commit in the same run (README "reference").
struct Reference {
  std::string commit;   // a revision: sha, tag or branch
  std::string command;  // a benchmark command run in the base worktree instead of benchmark.command
  bool set() const { return !commit.empty() || !command.empty(); }
};

struct Config {
  std::filesystem::path path;                  // the file it was loaded from
  std::string session = "default";             // [A-Za-z0-9._-]+, the branch is autoresearch/<session>
  std::string goal;
  Benchmark benchmark;
  Build build;
  Metric metric;
  std::vector<decide::GuardSpec> guards;
  std::vector<decide::ConfirmSpec> confirms;   // key `confirm`
  std::vector<Gate> gates;
  std::vector<std::string> protected_paths;    // key `protected`
  std::vector<std::string> scope;              // empty: anywhere not protected
  std::vector<HarnessFile> harness;            // key `harness`
  decide::Rule decision;
  Sources sources;
  Limits limits;
  Hooks hooks;
  Calibration calibration;
  Sandbox sandbox;
  // Key `shell`: every command runs as `<shell> -c <command>`. As written (empty: not given), and
  // resolved when the config is loaded: a name is looked up in PATH, a path must be absolute.
  std::string shell;
  std::filesystem::path shell_path = "/bin/sh";
  int verify_pairs = 0;    // pairs for `autoresearch verify`; 0: twice decision.max_pairs
  Executor executor;
  Reference reference;     // key `reference`; unset: no reference column
};

const char* to_string(SourceKind kind);
const char* to_string(SandboxMode mode);  // "auto", "strict", "off"
const char* to_string(ExecutorKind kind);  // "local", "slurm"

// Parses "90s", "10m", "2h", "500ms", "1d" (also a bare integer meaning seconds).
std::optional<Duration> parse_duration(std::string_view text);
// Parses "1%", "0.5%" into a fraction (0.01, 0.005); also a bare number in [0, 1).
std::optional<double> parse_percent(std::string_view text);
// "1.5s", "10m", "2h", "250ms": the shortest exact form.
std::string format_duration(Duration d);

// Loads and validates. Throws ar::ConfigError on any problem.
Config load(const std::filesystem::path& path);

// The config in force, for the journal header (durations as strings, percents as fractions).
nlohmann::json to_json(const Config& config);

// The commented starter config `autoresearch init` writes; it loads without error.
std::string starter_config();

} // namespace ar::config
