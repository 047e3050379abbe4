#!/usr/bin/env bash
# The real-noise decision benchmark: how the keep rule decides on a real C program under this
# machine's noise, with patches whose true effect is known. Everything happens in a temp dir that
# is removed on exit (unless --keep); the repository this script lives in is never touched.
#
#   bench/realnoise/run.sh [--sessions N] [--noops N] [--copies N] [--truth-pairs N] [--units N]
#                          [--burner-session K] [--burner-after S] [--cpus LIST] [--slots LIST]
#                          [--binary PATH] [--analyzer PATH] [--keep DIR] [--quick]
#
# 1. A scratch git repository holds workload.c (a radix sort and hash, timed in-process) and one
#    slot file per patch, each a per-mille factor on the work. Patches: --noops no-ops that only
#    edit a slot's comment or whitespace (the binary stays byte for byte the same: checked), and one
#    each of +2% and +5% (regressions) and -3% and -8% (wins) that move a slot's factor (checked
#    to change the binary); --copies N gives N patches of each effect, each on its own slot.
# 2. Ground truth: each effect patch's binary against the base binary in --truth-pairs
#    interleaved pairs (AB, BA, ...), pinned to the sessions' CPUs with taskset when it exists.
# 3. N sessions of the real `autoresearch run` over the queue of all patches in a shuffled order
#    (default config: calibration at the start, balanced blocks, confirmation block); in session K
#    (--burner-session, default the last; 0: none) a CPU burner starts --burner-after seconds in.
#    --slots 1,2 runs the sessions in turn with `executor: {kind: local, slots: 1}` and `slots: 2`
#    (an entry N:run sets `background: run`), so the tables compare the executors.
# 4. autoresearch_realnoise_analyze prints the tables from the sessions' results.jsonl.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"

binary="$repo_root/build/autoresearch"
analyzer=""
sessions=5
noops=12
copies=1
truth_pairs=40
units=1500
burner_session=-1
burner_after=60
cpus=""
slots_list="1"
keep_dir=""

usage() {
  sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  echo "Options: --sessions N (default 5), --noops N (no-op patches per session, default 12),"
  echo "  --copies N (patches of each effect class per session, default 1),"
  echo "  --truth-pairs N (ground-truth pairs per effect patch, default 40), --units N (the workload's"
  echo "  base repetitions, default 1500: about 0.12 s a run on an idle core of this machine, 0.6 s on a busy one),"
  echo "  --burner-session K (default: the last session; 0: no burner), --burner-after S (default 60),"
  echo "  --cpus LIST (benchmark.cpus of the sessions, default the loop's own default, auto),"
  echo "  --slots LIST (executor slots of session i: entry i of the comma-separated LIST, in turn;"
  echo "  N or N:run for background: run; default 1),"
  echo "  --binary PATH (default build/autoresearch), --analyzer PATH (default"
  echo "  build/bench/autoresearch_realnoise_analyze), --keep DIR (copy the ground truth and each"
  echo "  session's journal there as it ends; rerun the analyzer on them with --labels, --truth and"
  echo "  --sessions DIR/sessions.tsv), --quick (1 session, 2 no-ops, 6 truth pairs, 150 units, no burner)"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --sessions) sessions="$2"; shift 2 ;;
    --noops) noops="$2"; shift 2 ;;
    --copies) copies="$2"; shift 2 ;;
    --truth-pairs) truth_pairs="$2"; shift 2 ;;
    --units) units="$2"; shift 2 ;;
    --burner-session) burner_session="$2"; shift 2 ;;
    --burner-after) burner_after="$2"; shift 2 ;;
    --cpus) cpus="$2"; shift 2 ;;
    --slots) slots_list="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --analyzer) analyzer="$2"; shift 2 ;;
    --keep) keep_dir="$2"; shift 2 ;;
    --quick) sessions=1; noops=2; truth_pairs=6; units=150; burner_session=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

for v in sessions noops copies truth_pairs units burner_after; do
  if ! [[ "${!v}" =~ ^[0-9]+$ ]]; then
    echo "run.sh: --${v//_/-} must be a whole number, not '${!v}'" >&2
    exit 2
  fi
done
if [ "$sessions" -lt 1 ] || [ "$copies" -lt 1 ] || [ "$truth_pairs" -lt 2 ] || [ "$units" -lt 10 ]; then
  echo "run.sh: --sessions and --copies must be at least 1, --truth-pairs at least 2 and --units at least 10" >&2
  exit 2
fi
IFS=, read -r -a executors <<< "$slots_list"
if [ "${#executors[@]}" -eq 0 ]; then
  echo "run.sh: --slots needs at least one entry" >&2
  exit 2
fi
for e in "${executors[@]}"; do
  if ! [[ "$e" =~ ^[1-9][0-9]*(:run|:pause)?$ ]]; then
    echo "run.sh: --slots entry '$e' is not N, N:pause or N:run (N a whole number from 1)" >&2
    exit 2
  fi
done
if [ "$burner_session" = -1 ]; then burner_session="$sessions"; fi
case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac
if [ -z "$analyzer" ]; then analyzer="$(dirname "$binary")/bench/autoresearch_realnoise_analyze"; fi
case "$analyzer" in /*) ;; *) analyzer="$PWD/$analyzer" ;; esac
for exe in "$binary" "$analyzer"; do
  if [ ! -x "$exe" ]; then
    echo "run.sh: $exe is not an executable; build it first or pass --binary/--analyzer" >&2
    exit 2
  fi
done
if [ -n "$keep_dir" ]; then
  mkdir -p "$keep_dir"
  keep_dir="$(cd "$keep_dir" && pwd)"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/autoresearch-realnoise.XXXXXX")"
burner_pid=""
loop_pid=""
# On any exit, a signal included: the running loop is stopped as Ctrl-C stops it (it records the
# experiment as interrupted), the burner is killed, and the temp dir goes.
cleanup() {
  if [ -n "$loop_pid" ]; then kill -INT "$loop_pid" 2>/dev/null || true; wait "$loop_pid" 2>/dev/null || true; fi
  if [ -n "$burner_pid" ]; then kill "$burner_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# No user or system git config, for the loop (libgit2 reads $HOME) and the git CLI alike.
export HOME="$tmp/home"
mkdir -p "$HOME"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE AUTORESEARCH_FAULT

started="$(date +%s)"
slots=$(( noops + 4 * copies ))
build_cmd='mkdir -p build && cc -O2 -o build/workload workload.c'

slot_name() { printf 's%02d' "$1"; }

# The slot file of slot N, as the base commit has it.
write_slot() {
  printf '/* Slot %d of the real-noise workload: a per-mille factor on the repetitions.\n' "$1"
  printf ' * 1000 leaves the run time as it is. */\n'
  printf '#define SLOT_%02d 1000\n' "$1"
}

# --- 1. the template repository and the patches --------------------------------------------------
template="$tmp/template"
mkdir -p "$template/slots"
cp "$here/workload.c" "$template/workload.c"
{
  printf '/* Every slot file; the workload multiplies their factors. */\n'
  for ((s = 1; s <= slots; s++)); do printf '#include "slots/%s.h"\n' "$(slot_name "$s")"; done
  printf 'static const double k_slots[] = {'
  for ((s = 1; s <= slots; s++)); do printf '%sSLOT_%02d' "$([ "$s" -gt 1 ] && echo ', ')" "$s"; done
  printf '};\n'
} > "$template/slots.h"
for ((s = 1; s <= slots; s++)); do write_slot "$s" > "$template/slots/$(slot_name "$s").h"; done
printf '.autoresearch/\nbuild/\n' > "$template/.gitignore"
{
  printf 'session: realnoise\n'
  printf 'goal: the real-noise decision benchmark (bench/realnoise)\n'
  printf 'benchmark:\n  command: ./build/workload %d\n  timeout: 2m\n' "$units"
  if [ -n "$cpus" ]; then printf '  cpus: "%s"\n' "$cpus"; fi
  printf 'build:\n  command: %s\n' "$build_cmd"
  printf 'metric:\n  name: seconds\n  direction: lower\n  unit: s\n'
  printf 'protected: [workload.c, slots.h]\n'
} > "$template/autoresearch.config.yaml"
git -C "$template" init -q -b main
git -C "$template" add -A
git -C "$template" -c gc.auto=0 commit -q -m "real-noise workload"

# The patches: class, nominal effect (per mille) and the edit, each on its own slot.
patches="$tmp/patches"
mkdir -p "$patches"
: > "$tmp/labels.tsv"
make_patch() {  # slot class factor edit-kind
  local slot="$1" class="$2" factor="$3" kind="$4" f name
  name="$(slot_name "$slot")"
  f="$template/slots/$name.h"
  case "$kind" in
    factor) sed -i "s/^#define SLOT_\([0-9]*\) 1000\$/#define SLOT_\1 $factor/" "$f" ;;
    comment) sed -i 's/ \* 1000 leaves the run time as it is\. \*\// * 1000 leaves the run time as it is (reviewed). *\//' "$f" ;;
    blank) sed -i '2G' "$f" ;;
    indent) sed -i 's/^#define SLOT_\([0-9]*\) 1000$/#define SLOT_\1   1000/' "$f" ;;
  esac
  {
    printf 'Title: slot %d\nHypothesis: slot %d matters\nMechanism: a factor in slots/%s.h\n\n' "$slot" "$slot" "$name"
    git -C "$template" diff
  } > "$patches/$name.patch"
  git -C "$template" checkout -q -- .
  printf '%s.patch\t%s\t%s\n' "$name" "$class" "$factor" >> "$tmp/labels.tsv"
}
kinds=(comment blank indent)
for ((s = 1; s <= noops; s++)); do make_patch "$s" noop 1000 "${kinds[$(( s % 3 ))]}"; done
for ((c = 0; c < copies; c++)); do
  make_patch $(( noops + 4 * c + 1 )) regression+2% 1020 factor
  make_patch $(( noops + 4 * c + 2 )) regression+5% 1050 factor
  make_patch $(( noops + 4 * c + 3 )) win-3% 970 factor
  make_patch $(( noops + 4 * c + 4 )) win-8% 920 factor
done

# Builds the template with PATCH applied (none: the base) into OUT; prints the binary's hash.
build_variant() {
  local patch="$1" out="$2" dir="$tmp/variant"
  rm -rf "$dir"
  git clone -q "$template" "$dir"
  if [ -n "$patch" ]; then git -C "$dir" apply "$patch"; fi
  (cd "$dir" && sh -c "$build_cmd")
  cp "$dir/build/workload" "$out"
  sha256sum "$out" | cut -d' ' -f1
}
mkdir -p "$tmp/bin"
base_hash="$(build_variant "" "$tmp/bin/base")"
while IFS=$'\t' read -r file class factor; do
  h="$(build_variant "$patches/$file" "$tmp/bin/${file%.patch}")"
  if [ "$class" = noop ] && [ "$h" != "$base_hash" ]; then
    echo "run.sh: no-op patch $file changes the binary ($h, base $base_hash)" >&2
    exit 1
  fi
  if [ "$class" != noop ] && [ "$h" = "$base_hash" ]; then
    echo "run.sh: patch $file ($class) leaves the binary unchanged" >&2
    exit 1
  fi
done < "$tmp/labels.tsv"
echo "run.sh: $noops no-op patches build a binary identical to the base ($base_hash); $(( 4 * copies )) effect patches change it" >&2

# --- 2. ground truth ------------------------------------------------------------------------------
pin=()
if command -v taskset > /dev/null; then
  if [ -n "$cpus" ]; then pin=(taskset -c "$cpus"); else pin=(taskset -c "0-$(( $(nproc) - 1 ))"); fi
fi
# One run: "<wall seconds>\t<cpu seconds>".
sample() { "${pin[@]}" "$1" "$units" | awk -F= '/^METRIC seconds=/ { w = $2 } /^METRIC cpu_seconds=/ { c = $2 } END { printf "%s\t%s", w, c }'; }
: > "$tmp/truth.tsv"
echo "run.sh: ground truth, $truth_pairs pairs per effect patch" >&2
for ((k = 1; k <= truth_pairs; k++)); do
  # Interleaved across the patches too, so a slow stretch of the machine hits all of them.
  while IFS=$'\t' read -r file class factor; do
    [ "$class" = noop ] && continue
    bin="$tmp/bin/${file%.patch}"
    if (( k % 2 )); then a="$(sample "$tmp/bin/base")"; b="$(sample "$bin")"
    else b="$(sample "$bin")"; a="$(sample "$tmp/bin/base")"; fi
    # file, class, pair, base wall, candidate wall, base cpu, candidate cpu
    printf '%s\t%s\t%d\t%s\t%s\t%s\t%s\n' "$file" "$class" "$k" "${a%%$'\t'*}" "${b%%$'\t'*}" "${a#*$'\t'}" \
      "${b#*$'\t'}" >> "$tmp/truth.tsv"
  done < "$tmp/labels.tsv"
done

# --- 3. the sessions ------------------------------------------------------------------------------
: > "$tmp/sessions.tsv"
if [ -n "$keep_dir" ]; then
  cp "$tmp/labels.tsv" "$tmp/truth.tsv" "$keep_dir/"
  : > "$keep_dir/sessions.tsv"
fi
for ((i = 1; i <= sessions; i++)); do
  dir="$tmp/session-$i"
  git clone -q "$template" "$dir"
  git -C "$dir" checkout -q main
  # The executor of this session, appended to the committed config (a local edit: the loop reads
  # the config from the checkout).
  executor="${executors[$(( (i - 1) % ${#executors[@]} ))]}"
  n_slots="${executor%%:*}"
  background="pause"
  if [ "$executor" != "$n_slots" ]; then background="${executor#*:}"; fi
  if [ "$n_slots" != 1 ] || [ "$background" != pause ]; then
    printf 'executor:\n  kind: local\n  slots: %d\n  background: %s\n' "$n_slots" "$background" \
      >> "$dir/autoresearch.config.yaml"
    git -C "$dir" -c gc.auto=0 commit -q -am "executor: slots $n_slots, background $background"
  fi
  executor_label="slots $n_slots"
  if [ "$n_slots" != 1 ]; then executor_label="slots $n_slots, $background"; fi
  mkdir -p "$dir/experiments"
  # A shuffled queue: the loop takes experiments/*.patch in name order.
  n=0
  while read -r file; do
    n=$(( n + 1 ))
    cp "$patches/$file" "$dir/experiments/$(printf '%02d' "$n")-$file"
  done < <(cut -f1 "$tmp/labels.tsv" | shuf --random-source=<(yes "$i"))
  burner_at="-"
  t0="$(date +%s)"
  if [ "$i" = "$burner_session" ]; then
    ( sleep "$burner_after"; exec sh -c 'while :; do :; done' ) &
    burner_pid=$!
    burner_at="$(date -u -d "@$(( t0 + burner_after ))" +%Y-%m-%dT%H:%M:%SZ)"
  fi
  echo "run.sh: session $i of $sessions ($executor_label)$([ "$burner_at" != - ] && echo ", a CPU burner from $burner_at")" >&2
  # A start refused by the calibration (an A/A run that told the copies apart) is run again, as
  # a user would; the refusals are in the journal as calibration lines.
  for attempt in 1 2 3; do
    (cd "$dir" && exec "$binary" run > "$dir.run.log.$attempt" 2>&1) &
    loop_pid=$!
    status=0
    wait "$loop_pid" || status=$?
    loop_pid=""
    if [ "$status" = 0 ]; then break; fi
    if ! grep -q '"type":"calibration"' "$dir/results.jsonl" 2>/dev/null || [ "$attempt" = 3 ]; then
      echo "run.sh: autoresearch run failed in session $i:" >&2
      tail -20 "$dir.run.log.$attempt" >&2
      exit 1
    fi
  done
  if [ -n "$burner_pid" ]; then
    # The subshell execs into the burner, so its pid is the burner's.
    kill "$burner_pid" 2>/dev/null || true
    wait "$burner_pid" 2>/dev/null || true
    burner_pid=""
  fi
  printf 'session-%d\t%s\t%s\t%d\t%s\n' "$i" "$dir/results.jsonl" "$burner_at" $(( $(date +%s) - t0 )) \
    "$executor_label" >> "$tmp/sessions.tsv"
  if [ -n "$keep_dir" ]; then
    # Kept as each session ends, so a benchmark stopped early still leaves what it measured.
    cp "$dir/results.jsonl" "$keep_dir/session-$i.jsonl"
    printf 'session-%d\t%s\t%s\t%d\t%s\n' "$i" "$keep_dir/session-$i.jsonl" "$burner_at" $(( $(date +%s) - t0 )) \
      "$executor_label" >> "$keep_dir/sessions.tsv"
  fi
done

# --- 4. the tables --------------------------------------------------------------------------------
"$analyzer" --labels "$tmp/labels.tsv" --truth "$tmp/truth.tsv" --sessions "$tmp/sessions.tsv" \
  --command "bench/realnoise/run.sh --sessions $sessions --noops $noops$([ "$copies" != 1 ] && echo " --copies $copies") --truth-pairs $truth_pairs --units $units --burner-session $burner_session --burner-after $burner_after${cpus:+ --cpus $cpus}$([ "$slots_list" != 1 ] && echo " --slots $slots_list")" \
  --seconds $(( $(date +%s) - started ))
