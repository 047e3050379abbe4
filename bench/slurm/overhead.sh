#!/usr/bin/env bash
# The Slurm executor's overhead per job: the same session (a queue of no-op patches, a benchmark
# of fixed length and value) run with `executor.kind: local` and with `kind: slurm`, alternating,
# R rounds. Overhead per job = (wall time of the experiments on Slurm - the same locally) / jobs,
# from the journal's per-experiment durations and job lists. Prints one Markdown table.
# Needs a cluster (tests/slurm/start-cluster.sh starts one on this machine). Everything happens
# in a temp dir that is removed on exit.
#
#   bench/slurm/overhead.sh [--binary PATH] [--experiments K] [--rounds R] [--partition P] [--run-seconds S]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
binary="$repo_root/build/autoresearch"
experiments=4
rounds=3
partition=autoresearch
run_seconds=0.2

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --experiments) experiments="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --partition) partition="$2"; shift 2 ;;
    --run-seconds) run_seconds="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "overhead.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
if [ -z "${SLURM_CONF:-}" ] && [ -f /var/tmp/autoresearch-slurm/slurm.conf ]; then
  export SLURM_CONF=/var/tmp/autoresearch-slurm/slurm.conf
fi
sinfo -h >/dev/null || { echo "overhead.sh: no Slurm cluster answers (tests/slurm/start-cluster.sh)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/autoresearch-slurm-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

g() { GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_SYSTEM=/dev/null git -c user.name=bench -c user.email=bench@example.com \
        -c init.defaultBranch=main "$@"; }

# session KIND DIR: a fresh repository with K queued no-op patches, run to the end.
session() {
  local kind=$1 dir=$2
  mkdir -p "$dir"
  (
    cd "$dir"
    g init -q
    printf 'notes\n' > notes.txt
    printf '#!/bin/sh\nsleep %s\necho "METRIC score=100"\n' "$run_seconds" > bench.sh
    chmod +x bench.sh
    {
      echo "session: bench"
      echo "benchmark: {command: ./bench.sh, timeout: 60s, warmup: 0, pause: 0s}"
      echo "metric: {name: score, direction: lower}"
      echo "protected: [bench.sh]"
      echo "calibration: {on_start: false}"
      echo "decision: {max_pairs: 4, confirmation_pairs: 0}"
      if [ "$kind" = slurm ]; then echo "executor: {kind: slurm, partition: $partition}"; fi
    } > autoresearch.config.yaml
    mkdir -p experiments
    g add -A && g commit -qm fixture
    for i in $(seq "$experiments"); do
      printf 'notes %s\n' "$i" > notes.txt
      { printf 'Title: note %s\n\n' "$i"; g diff; } > "experiments/$(printf '%02d' "$i")-note.patch"
      g checkout -q notes.txt
    done
    g add -A && g commit -qm queue
    "$binary" run > run.log 2>&1 || { cat run.log >&2; exit 1; }
  )
  # seconds of the experiments, and jobs
  python3 - "$dir/results.jsonl" <<'PY'
import json, sys
total = 0.0; jobs = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") != "experiment": continue
    total += r["durations"]["total"]; jobs += len(r.get("slurm_jobs", []))
print(f"{total:.3f} {jobs}")
PY
}

local_s=(); slurm_s=(); jobs_n=()
for r in $(seq "$rounds"); do
  read -r t _ < <(session local "$work/local-$r")
  local_s+=("$t")
  read -r t j < <(session slurm "$work/slurm-$r")
  slurm_s+=("$t"); jobs_n+=("$j")
done

python3 - "${local_s[*]}" "${slurm_s[*]}" "${jobs_n[*]}" "$experiments" "$run_seconds" <<'PY'
import sys, statistics
local = [float(x) for x in sys.argv[1].split()]
slurm = [float(x) for x in sys.argv[2].split()]
jobs = [int(x) for x in sys.argv[3].split()]
k = int(sys.argv[4])
per_job = [(s - l) / j for l, s, j in zip(local, slurm, jobs)]
print(f"| {k} experiments, runs of {sys.argv[5]} s, {len(local)} rounds (median) | local | slurm |")
print("|---|---|---|")
print(f"| wall time of the experiments | {statistics.median(local):.2f} s | {statistics.median(slurm):.2f} s |")
print(f"| Slurm jobs | - | {statistics.median(jobs):.0f} |")
print(f"| overhead per job | - | {statistics.median(per_job):.2f} s |")
print(f"| ratio slurm / local | 1.00x | {statistics.median(slurm) / statistics.median(local):.2f}x |")
print("rounds (local s, slurm s, jobs, overhead s/job): " +
      "; ".join(f"{l:.2f}, {s:.2f}, {j}, {p:.2f}" for l, s, j, p in zip(local, slurm, jobs, per_job)))
PY
