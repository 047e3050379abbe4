// The commented starter config that `autoresearch init` writes: every key with its default, so
// the file doubles as the reference. config_test loads it, so it cannot drift from the schema.

#include "config/config.hpp"

namespace ar::config {

std::string starter_config() {
  return R"(# autoresearch session config. Every key is shown with its default; unknown keys are errors.
# Durations: 500ms, 90s, 10m, 2h, 1d. Percentages: 1%, 0.5%.

session: default               # names the session branch autoresearch/<session>: letters, digits, . _ -
goal: ""                       # free text for reports and proposers: what to improve, and why
# shell: bash                  # runs every command as `<shell> -c ...`; a name in PATH or an absolute path; default /bin/sh

benchmark:
  command: ./bench.sh          # required: shell command run in a worktree; prints METRIC <name>=<number>
  timeout: 10m                 # a run that takes longer counts as a timeout
  warmup: 1                    # unrecorded runs per side before the measured pairs
  pause: 3s                    # wait before a confirmation block, so it is apart from the first
  cpus: auto                   # where both sides run: auto (all but CPU 0 from 4 CPUs on), all, or e.g. 2-3

build:
  command: ""                  # optional: run whenever a worktree's commit changes, before measuring
  timeout: 30m                 # a build that takes longer fails the experiment

metric:
  name: time_ms                # required: the METRIC name to improve
  direction: lower             # lower or higher is better
  unit: ""                     # shown in reports, e.g. ms
  repeat: median               # a name printed several times in one run: median or last of its values

guards: []                     # secondary metrics that must not regress beyond a tolerance, e.g.:
#  - name: rss_kb              # required: a METRIC name
#    direction: lower          # lower or higher is better
#    tolerance: 5%             # the largest accepted worsening

gates: []                      # correctness checks run in order before measuring; non-zero exit fails, e.g.:
#  - name: tests               # required, unique
#    command: gates/tests.sh   # required: shell command run in the candidate worktree
#    timeout: 10m              # a gate that takes longer fails
#    after: benchmark          # run it right after the candidate's first benchmark run (to check its output)

protected:                     # paths no hypothesis may touch (globs: *, ?, **; a folder covers its contents)
  - autoresearch.config.yaml
  - bench.sh
  - gates/
scope: []                      # if not empty, the only paths a hypothesis may touch, e.g. [src/**]
# harness: [.auto/measure.sh]  # files outside git (ignored) the commands need: copied into both worktrees

decision:
  method: sequential           # sequential (looks at block ends), sprt (quiet rigs), or fixed (one test)
  min_effect: 1%               # smallest improvement worth keeping
  alpha: 0.05                  # false-pass rate of the first block's test, in (0, 0.5]
  max_pairs: 12                # first-block pairs before giving up as inconclusive (>= 3; rounded up to even)
  looks: [2, 4, 6, 8, 10, 12]  # block ends at which to decide; strictly increasing, last = max_pairs
  confirmation_pairs: 12       # most pairs of the confirmation block every keep needs; 0: none
  confirmation_alpha: 0.04     # false-agree rate of the confirmation block, in (0, 0.5]
  beta: 0.1                    # sprt only: accepted miss rate for an effect of exactly min_effect
  sprt_clip: 3                 # sprt only: pairs are clipped to median +- this many robust sigmas

confirm: []                    # metrics that must move with the primary before a keep, e.g.:
#  - name: wall_ms_large       # required: a METRIC name (the same workload at a second scale, say)
#    direction: lower          # lower or higher is better

sources:
  order: [queue, sweeps, proposer]  # sources are drained in this order
  queue:
    dir: experiments           # queued *.patch files, tried once each in name order
  sweeps: []                   # one hypothesis per value of a tuning knob, e.g.:
#  - name: buckets             # required, unique: the axis
#    file: src/table.h         # required: the file holding the knob
#    pattern: 'NBUCKETS (\d+)' # required: a regex with one capture group, replaced by each value
#    values: [1024, 4096, 16384]
#    mechanism: ""             # optional: why this knob should matter
  proposer:
    command: ""                # optional: a command (coding agent, script) that edits files to propose a change
    timeout: 30m               # a proposer that takes longer is recorded as a timeout
    notes: ""                  # optional file (e.g. a profile) included in the proposer's context
    recent: 20                 # experiments listed in the proposer's context

limits:
  max_experiments: 0           # stop after this many experiments; 0: no limit
  max_duration: 0s             # stop after this long, e.g. 8h; 0s: no limit
  max_consecutive_failures: 0  # stop after this many failed experiments in a row; 0: no limit
  target: null                 # stop once the best primary metric reaches this value; null: never
  retry_interrupted: 1         # times a hypothesis cut short by a signal or crash is tried again
  max_log_mb: 64               # cap of one experiment's log in .autoresearch/logs (head and tail kept)
  plateau: 0                   # experiments in a row without a keep before on_plateau applies; 0: off
  on_plateau: stop             # stop, or next_source (go on with the next source in sources.order)

calibration:                   # the A/A run: the base measured against itself to learn the noise
  pairs: 32                    # base/base pairs (also `autoresearch calibrate`); the noise the rule pools
  on_start: true               # calibrate when a session starts; refuse to run a harness that fails it
  level_change: 20%            # calibrate again when the best commit's level moves by more than this (0: never)
  noise_band: 2                # ... or the rolling noise of the base side leaves calibrated x/ this (0: never)

verify:
  pairs: 0                     # pairs for `autoresearch verify` (start commit vs best); 0: 2 x max_pairs

sandbox: auto                  # every command runs in bubblewrap: the repository read-only except its own
                               # worktree, a private /tmp per side; auto (unconfined with a warning where
                               # bwrap is missing), strict (all read-only but {mode: strict, writable:
                               # [~/.cache]}), or off

executor:                      # where benchmark runs go
  kind: local                  # local, or slurm: each block of pairs is one Slurm batch job on one node
  slots: 1                     # candidates in flight at once (with slurm also: partition, sbatch_args,
                               # workdir; see the README's "Slurm executor")

hooks:                         # optional commands around each experiment; JSON of session and experiment on stdin
  before:
    command: ""                # run before each experiment, e.g. to fetch notes for the next proposal
    timeout: 1m                # a hook that takes longer is stopped (the experiment goes on)
  after:
    command: ""                # run after each experiment is recorded, e.g. to notify or tag winners
    timeout: 1m                # a hook that takes longer is stopped
)";
}

}  // namespace ar::config
