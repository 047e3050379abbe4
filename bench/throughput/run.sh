#!/usr/bin/env bash
# Experiments per hour with executor slots (issue 12, item 4): one queue of patches run with
# `executor: {kind: local, slots: 1}`, then 2, then 4 (and `{kind: slurm, slots: 2}` when `sinfo`
# answers), each in a fresh copy of the same repository, in one run. Prints one Markdown table:
# experiments per hour and the ratio to slots 1; fails when the verdicts (source, status, in
# journal order) or the session branch (trees and subjects) differ from slots 1's.
#
#   bench/throughput/run.sh [--binary PATH] [--slots "1 2 4"] [--rounds R] [--scale S] [--keep] [--no-slurm]
#
# Each round runs every executor once, in turn, so load from elsewhere falls on all of them
# alike; the table gives the median wall time over the rounds (default 3).
#
# --aa: does overlap spoil verdicts? The same workload and build, but the metric is the measured
# run time (METRIC ms, real noise; runs 5x longer), the queue six patches that change nothing
# (A/A), the default keep rule with 8 pairs per block; run with slots 1, slots 2 (background: pause) and slots 2 (background: run), each
# once per round. The table gives the A/A noise (the standard deviation of the per-pair log ratios
# within an experiment, pooled over all) and the false keeps.
#
# The workload (built here, in a temp dir): a C program whose benchmark does a deterministic
# count of work units (METRIC units=..., lower is better) set by ten knobs (knobs/kNN.h), so the
# verdicts never depend on noise. Its build (cc plus a deliberately slow single-threaded step)
# and its test gate each take 2 to 3.5x the measurement of one experiment (4 pairs, 8 runs;
# printed above the table).
# The queue: ten patches, each turning one knob: 3 lower the count (keep), 5 raise it or change
# nothing measurable (discard), 2 break the test gate (checks_failed). --scale multiplies the
# build and gate work (default 1). The temp dir is removed unless --keep.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
binary="$repo_root/build/autoresearch"
slot_counts="1 2 4"
scale=1
keep=0
slurm=1
rounds=3
aa=0

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --slots) slot_counts="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --rounds) rounds="$2"; shift 2 ;;
    --aa) aa=1; shift ;;
    --no-slurm) slurm=0; shift ;;
    -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac
if [ ! -x "$binary" ]; then
  echo "run.sh: $binary is not an executable; build it first or pass --binary PATH" >&2
  exit 2
fi
command -v cc >/dev/null || { echo "run.sh: needs a C compiler (cc)" >&2; exit 2; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/autoresearch-throughput.XXXXXX")"
if [ "$keep" = 1 ]; then echo "keeping $tmp" >&2; else trap 'rm -rf "$tmp"' EXIT; fi

export HOME="$tmp/home"
mkdir -p "$HOME"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE

calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }

# ---- the workload ------------------------------------------------------------------------------
template="$tmp/template"
mkdir -p "$template/knobs" "$template/experiments" "$template/gates"
cd "$template"
git init -q
# A/A runs measure longer (noise is relative to the run time): knobs of 200 units instead of 40.
knob=40
if [ "$aa" = 1 ]; then knob=200; fi
for i in 01 02 03 04 05 06 07 08 09 10; do
  printf '#define K%s %s\n' "$i" "$knob" > "knobs/k$i.h"
done
cat > work.c <<'EOF'
/* A deterministic workload: the count of work units is the sum of the knobs; each unit is a
   fixed amount of arithmetic, so the run time follows the count. `--check` is the test gate. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "knobs/k01.h"
#include "knobs/k02.h"
#include "knobs/k03.h"
#include "knobs/k04.h"
#include "knobs/k05.h"
#include "knobs/k06.h"
#include "knobs/k07.h"
#include "knobs/k08.h"
#include "knobs/k09.h"
#include "knobs/k10.h"
static const long knobs[] = {K01, K02, K03, K04, K05, K06, K07, K08, K09, K10};
static volatile unsigned long sink;
static void unit(void) {
  unsigned long x = 1;
  for (int i = 0; i < 60000; ++i) x = x * 6364136223846793005UL + 1442695040888963407UL;
  sink += x;
}
int main(int argc, char** argv) {
  long units = 0;
  for (int k = 0; k < 10; ++k) {
    if (argc > 1 && strcmp(argv[1], "--check") == 0 && knobs[k] <= 0) {
      fprintf(stderr, "knob %d must be positive, got %ld\n", k + 1, knobs[k]);
      return 1;
    }
    units += knobs[k];
  }
  if (argc > 1) return 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long u = 0; u < units; ++u) unit();
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("METRIC units=%ld\n", units);
  printf("METRIC ms=%.4f\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
  return 0;
}
EOF
# The slow step: single-threaded, CPU-bound, a fixed amount of work (not a sleep).
cat > slow.sh <<EOF
#!/bin/sh
awk -v n="\$1" 'BEGIN { for (i = 0; i < n * $scale; i++) s += i % 7; exit s < 0 }'
EOF
cat > build.sh <<'EOF'
#!/bin/sh
set -e
cc -O1 -o work work.c
./slow.sh 9000000
EOF
cat > gates/test.sh <<'EOF'
#!/bin/sh
./work --check && ./slow.sh 9000000
EOF
chmod +x slow.sh build.sh gates/test.sh
printf 'work\n' > .gitignore
cat > autoresearch.config.yaml <<'EOF'
session: throughput
benchmark:
  command: ./work
  timeout: 60s
  warmup: 0
metric:
  name: units
  direction: lower
build:
  command: ./build.sh
  timeout: 10m
gates:
  - name: test
    command: gates/test.sh
    timeout: 10m
protected: [gates/**, build.sh, slow.sh, autoresearch.config.yaml]
decision:
  method: fixed
  max_pairs: 4
  confirmation_pairs: 0
calibration:
  on_start: false
EOF
if [ "$aa" = 1 ]; then
  # The real-noise metric and the default keep rule.
  sed -i -e 's/^  name: units$/  name: ms/' -e '/^decision:/,/^  confirmation_pairs: 0$/d' autoresearch.config.yaml
  printf 'decision:\n  max_pairs: 8\n  confirmation_pairs: 8\n' >> autoresearch.config.yaml
  grep -q '^  name: ms$' autoresearch.config.yaml
fi
git add -A
git commit -q -m workload
# knob, new value, title: 3 keeps (a lower count), 5 discards (higher, or the same count written
# another way), 2 gate failures.
queue=(
  "01 20 Fewer units in stage 1"
  "02 44 More units in stage 2"
  "03 40+0 Stage 3 written as a sum"
  "04 0 Drop stage 4"
  "05 24 Fewer units in stage 5"
  "06 46 More units in stage 6"
  "07 (40) Stage 7 in parentheses"
  "08 -1 Negative stage 8"
  "09 42 More units in stage 9"
  "10 28 Fewer units in stage 10"
)
if [ "$aa" = 1 ]; then
  queue=()
  for i in 01 02 03 04 05 06; do queue+=("$i A/A: a comment in knob $i"); done
fi
n=0
for q in "${queue[@]}"; do
  read -r knob value title <<<"$q"
  n=$((n + 1))
  if [ "$aa" = 1 ]; then
    title="$value $title"
    printf '/* %s */\n#define K%s 200\n' "$title" "$knob" > "knobs/k$knob.h"
  else
    printf '#define K%s %s\n' "$knob" "$value" > "knobs/k$knob.h"
  fi
  { printf 'Title: %s\n\n' "$title"; git diff; } > "experiments/$(printf '%02d' "$n")-k$knob.patch"
  git checkout -q -- "knobs/k$knob.h"
done
git add experiments
git commit -q -m queue
cd "$tmp"

# The measurement of one experiment against its build and gate, for the table's header.
( cd "$template" && ./build.sh >/dev/null )
t0=$(date +%s.%N); for _ in 1 2 3 4 5 6 7 8; do (cd "$template" && ./work >/dev/null); done; t1=$(date +%s.%N)
t2=$(date +%s.%N); (cd "$template" && ./build.sh >/dev/null); t3=$(date +%s.%N)
t4=$(date +%s.%N); (cd "$template" && ./gates/test.sh >/dev/null); t5=$(date +%s.%N)
git -C "$template" clean -qfdx
measure_s=$(calc "$t1 - $t0")
build_s=$(calc "$t3 - $t2")
gate_s=$(calc "$t5 - $t4")

# ---- the runs ----------------------------------------------------------------------------------
# run_one NAME EXECUTOR_YAML: a fresh copy, one `autoresearch run`; sets seconds and experiments,
# and writes NAME.verdicts and NAME.branch.
run_one() {
  local name="$1" executor="$2"
  rm -rf "$tmp/$name"
  git clone -q "$template" "$tmp/$name"
  printf '%s\n' "$executor" >> "$tmp/$name/autoresearch.config.yaml"
  git -C "$tmp/$name" commit -q -am "executor: $name"
  local start end
  start=$(date +%s.%N)
  if ! (cd "$tmp/$name" && "$binary" run > "$tmp/$name.log" 2>&1); then
    echo "run.sh: the $name run failed; its output:" >&2
    cat "$tmp/$name.log" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  seconds=$(calc "$end - $start")
  python3 - "$tmp/$name/results.jsonl" > "$tmp/$name.verdicts" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type", "experiment") == "experiment" and "status" in r:
        print(r["source"]["file"], r["status"])
EOF
  experiments=$(wc -l < "$tmp/$name.verdicts")
  # The work done: builds (base and candidate) and gate runs, and their summed wall seconds.
  work=$(cat "$tmp/$name/.autoresearch/logs/"*.log | awk '
    /^==> \[(build|gate)/ && / in [0-9.]+s$/ { n[substr($2, 2)]++; t = $NF; sub(/s$/, "", t); sum += t }
    END { printf "%d builds, %d gates, %.0f s", n["build"], n["gate"], sum }')
  local first
  first=$(git -C "$tmp/$name" rev-parse HEAD)
  # Subjects and changes (the trees differ by the config's executor line).
  git -C "$tmp/$name" log --reverse --format=%s -p "$first..autoresearch/throughput" > "$tmp/$name.branch"
}

rows=()
base_rate=""
status=0
# check_same NAME LABEL: the verdicts and the branch of run NAME against slots 1's first run.
check_same() {
  if ! cmp -s "$tmp/$1.verdicts" "$tmp/ref.verdicts" || ! cmp -s "$tmp/$1.branch" "$tmp/ref.branch"; then
    echo "run.sh: $2: verdicts or branch differ from slots 1:" >&2
    diff "$tmp/ref.verdicts" "$tmp/$1.verdicts" >&2 || true
    diff "$tmp/ref.branch" "$tmp/$1.branch" >&2 || true
    return 1
  fi
}
median() { tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

labels=()
names=()
executors=()
if [ "$aa" = 1 ]; then
  slot_counts=""
  labels=("local, slots 1" "local, slots 2, background: pause" "local, slots 2, background: run")
  names=(slots-1 pause-2 run-2)
  executors=("executor: {kind: local, slots: 1}" "executor: {kind: local, slots: 2, background: pause}"
             "executor: {kind: local, slots: 2, background: run}")
  slurm=0
fi
for k in $slot_counts; do
  labels+=("local, slots $k"); names+=("slots-$k"); executors+=("executor: {kind: local, slots: $k}")
done
# The Slurm row, where a cluster answers (tests/ sets one up; see README "Executor slots").
if [ "$slurm" = 1 ] && command -v sinfo >/dev/null 2>&1 && sinfo >/dev/null 2>&1; then
  labels+=("slurm, slots 2"); names+=("slurm-2"); executors+=("executor: {kind: slurm, slots: 2}")
fi
declare -A walls same counts works
for ((r = 1; r <= rounds; r++)); do
  for i in "${!names[@]}"; do
    run_one "${names[$i]}" "${executors[$i]}"
    walls[$i]="${walls[$i]:-} $seconds"
    counts[$i]=$experiments
    works[$i]=$work
    if [ -z "${have_ref:-}" ]; then
      cp "$tmp/${names[$i]}.verdicts" "$tmp/ref.verdicts"; cp "$tmp/${names[$i]}.branch" "$tmp/ref.branch"; have_ref=1
    fi
    if [ "$aa" = 1 ]; then
      # Sum of squared deviations of the per-pair log ratios from their experiment's mean, its
      # degrees of freedom, keeps, inconclusive, experiments.
      python3 - "$tmp/${names[$i]}/results.jsonl" >> "$tmp/${names[$i]}.aa" <<'EOF'
import json, math, sys
ss = df = keeps = inconclusive = n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type", "experiment") != "experiment" or "status" not in r:
        continue
    n += 1
    keeps += r["status"] == "keep"
    inconclusive += r["status"] == "inconclusive"
    m = r.get("metric") or {}
    d = [math.log(c / b) for b, c in zip(m.get("base", []), m.get("candidate", []))]
    if len(d) >= 2:
        mean = sum(d) / len(d)
        ss += sum((x - mean) ** 2 for x in d)
        df += len(d) - 1
print(ss, df, keeps, inconclusive, n)
EOF
      continue
    fi
    if check_same "${names[$i]}" "${labels[$i]}, round $r"; then same[$i]="${same[$i]:-yes}"; else same[$i]="NO"; status=1; fi
  done
done
if [ "$aa" = 1 ]; then
  echo
  echo "A/A: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $rounds rounds of 6 no-op patches each"
  echo
  echo "| executor | experiments | A/A noise: sd of pair log ratios, pooled (per round) | false keeps | inconclusive |"
  echo "|---|---|---|---|---|"
  for i in "${!names[@]}"; do
    awk -v label="${labels[$i]}" '
      { ss += $1; df += $2; k += $3; inc += $4; n += $5; per = per sprintf("%s%.2f%%", NR > 1 ? " " : "", $2 > 0 ? 100 * sqrt($1 / $2) : 0) }
      END { printf "| %s | %d | %.2f%% (%s) | %d | %d |\n", label, n, (df > 0 ? 100 * sqrt(ss / df) : 0), per, k, inc }' "$tmp/${names[$i]}.aa"
  done
  exit 0
fi
for i in "${!names[@]}"; do
  wall=$(echo ${walls[$i]} | median)
  rate=$(calc "${counts[$i]} * 3600 / $wall")
  if [ -z "$base_rate" ]; then base_rate=$rate; fi
  rows+=("$(printf '| %s | %d | %s | %s | %.1f s | %.0f | %.2f× | %s |' "${labels[$i]}" "${counts[$i]}" "${works[$i]}" \
    "$(echo ${walls[$i]} | awk '{ for (i = 1; i <= NF; i++) printf "%s%.1f", (i > 1 ? " " : ""), $i }')" "$wall" "$rate" \
    "$(calc "$rate / $base_rate")" "${same[$i]}")")
done
if [ "${#names[@]}" = "$(echo $slot_counts | wc -w)" ]; then
  rows+=("| slurm, slots 2 | – | – | – | – | – | – | skipped: sinfo does not answer here (or --no-slurm) |")
fi

keeps=$(grep -c ' keep$' "$tmp/ref.verdicts" || true)
echo
echo "Throughput: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;"
printf 'one experiment measures 8 runs in %.2f s; build %.2f s (%.1f×), test gate %.2f s (%.1f×); %d of %d kept\n' \
  "$measure_s" "$build_s" "$(calc "$build_s / $measure_s")" "$gate_s" "$(calc "$gate_s / $measure_s")" \
  "$keeps" "$(wc -l < "$tmp/ref.verdicts")"
echo
echo "| executor | experiments | work in the last round (builds, gates, their wall time summed) | wall per round | median wall | experiments/hour | vs slots 1 | verdicts and branch as slots 1 (every round) |"
echo "|---|---|---|---|---|---|---|---|"
for r in "${rows[@]}"; do echo "$r"; done
exit $status
