#pragma once
// Benchmark runs: the one home of a single run (METRIC checks, tamper checks) and of the pair
// loop (warm-up, AB/BA order, looks). measure, calibrate, verify and dry-run all use it.

#include "pipeline/stage.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace ar::pipeline {

// Per side (0 base, 1 candidate) and metric, one value per run (the run's median).
using Samples = std::array<std::map<std::string, std::vector<double>>, 2>;

// A fresh seed for a block's AB/BA order: random, and recorded with the block so its order can be
// replayed. 53 bits, so a JSON reader that holds numbers as doubles reads it exactly.
std::uint64_t order_seed();

class Bench {
 public:
  // `experiment` 0 is work outside an experiment (its output goes to the run log).
  Bench(Context& ctx, int experiment, std::string title) : m_ctx(ctx), m_id(experiment), m_title(std::move(title)) {}

  // One benchmark process on `side`: its METRIC medians, or how it ends the experiment (crash,
  // timeout, interrupted, or rejected for tampering with protected files).
  std::variant<std::map<std::string, double>, Outcome> run_once(int side, const std::string& label);

  // Work to do in the candidate worktree right after the candidate's first run of the next block
  // with a warm-up (the gates with `after: benchmark`): the run's output files are still there.
  // With benchmark.warmup 0 one extra, unrecorded candidate run is made for it. The candidate is
  // checked in full (tampering by that run) before `after` runs; an outcome from `after` ends the
  // block.
  void after_first_candidate_run(std::function<StageResult()> after) { m_after = std::move(after); }

  // One block of pairs: takes the tamper snapshots, runs the warm-up (when `warmup`), then pairs
  // in decide::pair_order(seed, k) until `decided(k, samples)` says so or `max_pairs` ran; then
  // checks the candidate worktree in full. `pairs` is the number of pairs that ran. Nothing
  // durable happens between the runs of a block (no state-file write, no fsync): the progress
  // line is the console's only.
  // The pairs go to the executor as batches (Executor::run_batch), each up to the next look:
  // `next_look(k)` is the pair count after which `decided` may say yes, once k pairs ran (at
  // least k + 1; empty: every pair is a look). The warm-up is a batch of its own.
  // Every run of the pairs is kept in runs(), named by `block`.
  StageResult run_pairs(const std::string& block, int max_pairs, std::uint64_t seed, bool warmup,
                        const std::function<bool(int, const Samples&)>& decided, Samples& samples, int& pairs,
                        const std::function<int(int)>& next_look = {});

  // The full check of the base worktree: due before anything is kept, and before a measurement
  // outside the loop is trusted. It covers every change since the base was last known clean, so
  // a change a discarded experiment left behind is caught before it can help a keep.
  StageResult check_base();

  // Side `side` runs `command` instead of benchmark.command (verify's reference: a command).
  void use_command(int side, std::string command) { m_command[side] = std::move(command); }

  const std::vector<std::string>& warnings() const { return m_warnings; }
  const std::vector<journal::RunInfo>& runs() const { return m_runs; }  // the pairs' runs, in order
  // The Slurm jobs that ran benchmark runs (warm-up included), in order, each once; empty locally.
  const std::vector<journal::JobInfo>& jobs() const { return m_jobs; }
  const std::optional<std::string>& tail() const { return m_tail; }  // output of a failed run
  double seconds() const { return m_seconds; }

 private:
  struct Planned {  // one run of a batch
    int pair = 0;   // 0: a warm-up run
    int side = 0;
    bool first = false;  // the first run of its pair (or of its warm-up round)
    std::string label;
  };
  exec::Command command_for(int side, const std::string& label) const;
  std::variant<std::map<std::string, double>, Outcome> judge(int side, const std::string& label,
                                                             const exec::CommandResult& r);
  // Runs `plan` as one batch: `before(p)` just before a run is handed to the executor (a
  // batching executor runs them all first), `after(p, metrics)` with each good run; false from
  // `after` stops the batch. The first run that ends the experiment gives the outcome.
  StageResult run_batch(const std::vector<Planned>& plan, const std::function<void(const Planned&)>& before,
                        const std::function<bool(const Planned&, std::map<std::string, double>&)>& after);
  StageResult tampered(int side, const std::string& label, const std::optional<std::string>& path);
  StageResult run_after();
  std::function<StageResult()> m_after;
  Context& m_ctx;
  int m_id;
  std::string m_title;
  std::vector<std::string> m_warnings;    // the first of each distinct rejected METRIC line, at most 20
  std::set<std::string> m_seen_rejected;  // keys of the rejected METRIC lines already warned about
  std::optional<std::string> m_tail;
  double m_seconds = 0;
  journal::RunInfo m_last;  // how the last run_once went
  std::vector<journal::RunInfo> m_runs;
  std::vector<journal::JobInfo> m_jobs;
  std::string m_command[2];         // empty: benchmark.command
  const char* who(int side) const;  // the side as reasons name it
};

}  // namespace ar::pipeline
