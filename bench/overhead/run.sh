#!/usr/bin/env bash
# The loop's own overhead per experiment, outside the benchmark runs, against the git CLI doing
# the same work; the effect of a long journal on `run`; and `status`, `status --json` and `report`
# on journals of growing size. Prints one Markdown table. Everything happens in a temp dir that is
# removed on exit; the repository this script lives in is never touched.
#
#   bench/overhead/run.sh [--binary PATH] [--files N] [--experiments K] [--rounds R] [--quick]
#                         [--sandbox auto|off] [--sandbox-cost]
#
# --sandbox-cost times the keep and discard paths with the sandbox on (auto) and off, alternating,
# and adds the ratio per experiment and per benchmark command to the table.
#
# Peak RSS needs GNU time (/usr/bin/time, Debian package `time`); without it RSS reads "n/a".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"

binary="$repo_root/build/autoresearch"
files=10000
experiments=20
rounds=3
journal_sizes="1000 10000 100000"
history=100000
generator=""
sandbox=auto
sandbox_cost=0

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  echo "Options: --binary PATH (default build/autoresearch), --files N (default 10000),"
  echo "  --experiments K (default 20), --rounds R (default 3; each figure the median), --quick (small sizes, a smoke test),"
  echo "  --generator PATH (journal generator; default build/bench/autoresearch_gen_journal when built),"
  echo "  --sandbox auto|off (the sessions' sandbox setting, default auto), --sandbox-cost (see above)"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --files) files="$2"; shift 2 ;;
    --experiments) experiments="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --generator) generator="$2"; shift 2 ;;
    --sandbox) sandbox="$2"; shift 2 ;;
    --sandbox-cost) sandbox_cost=1; shift ;;
    --quick) files=200; experiments=3; rounds=1; journal_sizes="100 1000"; history=1000; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac
if [ ! -x "$binary" ]; then
  echo "run.sh: $binary is not an executable; build it first or pass --binary PATH" >&2
  exit 2
fi
if [ -z "$generator" ] && [ -x "$(dirname "$binary")/bench/autoresearch_gen_journal" ]; then
  generator="$(dirname "$binary")/bench/autoresearch_gen_journal"
fi
if [ "$files" -lt 100 ] || [ "$experiments" -lt 1 ]; then
  echo "run.sh: --files must be at least 100 and --experiments at least 1" >&2
  exit 2
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/autoresearch-overhead.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# No user or system git config, for the loop (libgit2 reads $HOME) and the git CLI alike.
export HOME="$tmp/home"
mkdir -p "$HOME"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE AUTORESEARCH_FAULT

session=bench
bench_command='echo "METRIC t=$(cat value.txt)"'
pairs=4  # decision.method fixed, max_pairs 4 (two balanced blocks), warmup 0: exactly 8 benchmark runs an experiment
dirs=100
per_dir=$(( (files + dirs - 1) / dirs ))

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

# The value.txt of keep step i: falls by at least 1/(K+1) a step, well above min_effect.
keep_value() { echo $(( (experiments + 1 - $1) * 100 )); }

# A repository of `files` one-line files in 100 folders, value.txt and the config, one commit.
make_template() {
  local dir="$1" d f name
  mkdir -p "$dir"
  git -C "$dir" init -q -b main
  # printf -v, not $(...): no fork a file.
  for ((d = 0; d < dirs; d++)); do
    printf -v name 'd%02d' "$d"
    mkdir "$dir/$name"
    for ((f = 0; f < per_dir; f++)); do
      printf -v name 'd%02d/f%04d.txt' "$d" "$f"
      printf 'file %d of folder %d\n' "$f" "$d" > "$dir/$name"
    done
  done
  keep_value 0 > "$dir/value.txt"
  cat > "$dir/autoresearch.config.yaml" <<EOF
session: $session
benchmark:
  command: $(printf '%s' "$bench_command" | sed "s/'/''/g; s/^/'/; s/\$/'/")
  warmup: 0
metric:
  name: t
  direction: lower
decision:
  method: fixed
  max_pairs: $pairs
  min_effect: 0.1%
  confirmation_pairs: 0
calibration:
  on_start: false
sandbox: $sandbox
EOF
  printf '.autoresearch/\n.wt/\n' > "$dir/.gitignore"
  git -C "$dir" add -A
  GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' \
    git -C "$dir" -c gc.auto=0 commit -q -m "overhead fixture"
  # Packed now, in the foreground: a background auto-gc would race the copies made of it.
  git -C "$dir" gc -q
}

# A one-line hunk turning `old` into `new` in `path`.
hunk() {
  printf 'diff --git a/%s b/%s\n--- a/%s\n+++ b/%s\n@@ -1 +1 @@\n-%s\n+%s\n' "$1" "$1" "$1" "$1" "$2" "$3"
}

# Queues K patches in DIR/experiments/NNNN.patch, each changing value.txt and one other file.
# keep: value.txt falls step by step (every patch applies to the previous keep);
# discard: value.txt doubles from the start value (every patch applies to the start commit).
queue_patches() {
  local dir="$1" kind="$2" i d f path old new
  mkdir -p "$dir/experiments"
  for ((i = 1; i <= experiments; i++)); do
    d=$(( i % dirs )); f=$(( (i / dirs) % per_dir ))
    path="$(printf 'd%02d/f%04d.txt' "$d" "$f")"
    if [ "$kind" = keep ]; then old="$(keep_value $((i - 1)))"; new="$(keep_value "$i")"
    else old="$(keep_value 0)"; new=$(( old * 2 )); fi
    {
      printf 'Title: %s %d\nMechanism: value.txt is what the benchmark prints\n\n' "$kind" "$i"
      hunk value.txt "$old" "$new"
      hunk "$path" "file $f of folder $d" "file $f of folder $d, $kind $i"
    } > "$dir/experiments/$(printf '%04d' "$i").patch"
  done
}

# Runs the loop in DIR; fails unless it exits 0.
loop_run() {
  if ! (cd "$1" && "$binary" run > "$1.run.log" 2>&1); then
    echo "run.sh: autoresearch run failed in $1:" >&2
    tail -20 "$1.run.log" >&2
    exit 1
  fi
}

# Checks that the journal in DIR holds `count` records of `status` for session bench.
expect_status() {
  local got
  got="$(grep -c "\"status\":\"$2\"" "$1/results.jsonl" || true)"
  if [ "$got" -lt "$3" ]; then
    echo "run.sh: expected $3 '$2' experiments in $1/results.jsonl, found $got" >&2
    tail -5 "$1.run.log" >&2
    exit 1
  fi
}

# A session primed by an empty run (branch, worktrees, header; with a history, a second empty run
# reads it once as any later run would find it), then timed: an empty run (what every run costs
# once: opening the session, the view, the closing report) and a run over K queued patches.
# Prints three numbers: seconds per experiment of the K run, all included; seconds per experiment
# beyond one run's fixed cost, (T_K - T_empty) / K; and T_empty.
time_loop() {
  local dir="$1" kind="$2" history_file="${3:-}" t0 t1 t2 t3 before
  cp -a "$template" "$dir"
  loop_run "$dir"
  if [ -n "$history_file" ]; then
    cat "$history_file" >> "$dir/results.jsonl"
    loop_run "$dir"
  fi
  before="$(grep -c "\"status\":\"$kind\"" "$dir/results.jsonl" || true)"
  t0="$(now)"
  loop_run "$dir"
  t1="$(now)"
  queue_patches "$dir" "$kind"
  t2="$(now)"
  loop_run "$dir"
  t3="$(now)"
  expect_status "$dir" "$kind" $(( before + experiments ))
  awk -v e="$(elapsed "$t0" "$t1")" -v s="$(elapsed "$t2" "$t3")" -v k="$experiments" \
    'BEGIN { printf "%.6f %.6f %.6f", s / k, (s - e) / k, e }'
}

# The same work with the git CLI in two worktrees; prints seconds per experiment.
time_cli() {
  local dir="$1" kind="$2" base cand record t0 t1 i r p new
  cp -a "$tmp/template" "$dir"
  queue_patches "$dir" "$kind"
  base="$dir/.wt/base"; cand="$dir/.wt/cand"
  git -C "$dir" worktree add -q --detach "$base" HEAD
  git -C "$dir" worktree add -q -b "autoresearch/$session" "$cand" HEAD
  # A record of about 2 KB, the size of a real one.
  record="$(printf '{"type":"experiment","schema":1,"session":"%s","pad":"%s"}' "$session" "$(printf '%*s' 1950 '' | tr ' ' x)")"
  t0="$(now)"
  for ((i = 1; i <= experiments; i++)); do
    p="$dir/experiments/$(printf '%04d' "$i").patch"
    git -C "$cand" apply "$p"
    for ((r = 0; r < pairs; r++)); do
      # AB, BA, ... as the loop alternates; `cd` is a builtin, so one fork a run, as in the loop.
      if (( r % 2 == 0 )); then
        cd "$base"; sh -c "$bench_command" > /dev/null; cd "$cand"; sh -c "$bench_command" > /dev/null
      else
        cd "$cand"; sh -c "$bench_command" > /dev/null; cd "$base"; sh -c "$bench_command" > /dev/null
      fi
    done
    if [ "$kind" = keep ]; then
      git -C "$cand" add -A
      git -C "$cand" -c gc.auto=0 commit -q -m "$kind $i" -m "Experiment: $i"
      new="$(git -C "$cand" rev-parse HEAD)"
      git -C "$base" reset -q --hard "$new"
      git -C "$base" clean -fdq
    else
      git -C "$cand" reset -q --hard
      git -C "$cand" clean -fdq
    fi
    printf '%s\n' "$record" >> "$dir/results.jsonl"
  done
  t1="$(now)"
  awk -v s="$(elapsed "$t0" "$t1")" -v k="$experiments" 'BEGIN { printf "%.6f", s / k }'
}

# N experiment records of session bench shaped like the loop's own, none of them a keep (a keep
# names a commit the session branch would have to hold). Used when the generator is not built.
gen_records() {
  awk -v n="$1" -v session="$session" 'BEGIN {
    srand(1);
    for (id = 1; id <= n; id++) {
      h = sprintf("%016x%016x%016x%016x", id, id * 7919, id * 104729, id * 15485863);
      m = id % 20;
      if (m < 14) { status = "discard"; reason = (m % 2) ? "regression" : "no effect" }
      else if (m < 17) { status = "inconclusive"; reason = "undecided at 12 pairs" }
      else if (m < 19) { status = "checks_failed"; reason = "gate tests failed (exit 1)" }
      else { status = "crash"; reason = "benchmark exited 139" }
      ts = sprintf("2026-01-%02dT%02d:%02d:%02dZ", 1 + (id / 2880) % 28, (id / 120) % 24, (id / 2) % 60, (id * 30) % 60);
      if (status == "discard" || status == "inconclusive") {
        b = ""; c = "";
        for (k = 0; k < 6; k++) {
          b = b sprintf("%s%.3f", k ? "," : "", 100 + rand() * 2);
          c = c sprintf("%s%.3f", k ? "," : "", 100 + rand() * 3);
        }
        metric = sprintf("{\"base\":[%s],\"base_median\":101.0,\"candidate\":[%s],\"candidate_median\":101.5," \
          "\"ci_high\":0.021,\"ci_low\":-0.006,\"direction\":\"lower\",\"effect\":0.0049,\"improvement\":-0.0049," \
          "\"name\":\"t\",\"p\":0.61,\"p_worse\":0.39,\"unit\":\"ms\"}", b, c);
        pairs = 6; gates = "[{\"exit\":0,\"name\":\"tests\",\"result\":\"pass\",\"seconds\":1.25}]";
      } else {
        metric = "null"; pairs = 0;
        gates = (status == "crash") ? "[]" : "[{\"exit\":1,\"name\":\"tests\",\"result\":\"fail\",\"seconds\":0.8,\"tail\":\"FAILED: 1 test\"}]";
      }
      printf "{\"asi\":{},\"base_commit\":\"%040x\",\"decision\":{\"alpha\":0.05,\"look_alpha\":0.0043," \
        "\"looks\":[3,5,7,9,12],\"max_pairs\":12,\"method\":\"sequential\",\"min_effect\":0.01,\"outcome\":\"%s\"," \
        "\"reason\":\"%s\"},\"diff_sha256\":\"%s\",\"durations\":{\"build\":2.5,\"gates\":1.25,\"measure\":14.2," \
        "\"total\":18.3},\"files\":[\"src/module%d.c\"],\"finished_at\":\"%s\",\"gates\":%s,\"guards\":{}," \
        "\"hypothesis\":\"Generated hypothesis %d: the inner loop of module %d does less work when the table is " \
        "sized to the input.\",\"id\":%d,\"idea\":\"\",\"key\":\"%s\",\"mechanism\":\"fewer cache misses in the " \
        "lookup path\",\"metric\":%s,\"metrics\":{},\"pairs\":%d,\"patch_file\":\".autoresearch/patches/%04d.patch\"," \
        "\"patch_sha256\":\"%s\",\"reason\":\"%s\",\"schema\":1,\"session\":\"%s\",\"source\":{\"file\":" \
        "\"experiments/%06d-generated.patch\",\"kind\":\"queue\"},\"started_at\":\"%s\",\"status\":\"%s\"," \
        "\"title\":\"Generated experiment %d\",\"type\":\"experiment\"}\n",
        id, status, reason, h, id % 50, ts, gates, id, id % 50, id, h, metric, pairs, id, h, reason, session,
        id, ts, status, id;
    }
  }'
}

# A journal of N experiment records: the built generator's, or a header copied from a primed
# session plus gen_records.
make_journal() {
  local out="$1" n="$2" header="$3"
  if [ -n "$generator" ]; then
    "$generator" "$out" "$n" "$session" > /dev/null
  else
    { cat "$header"; gen_records "$n"; } > "$out"
  fi
}

# Wall seconds and peak RSS (KiB) of one command in DIR: "seconds kib".
measure_cmd() {
  local dir="$1"; shift
  if [ -x /usr/bin/time ]; then
    (cd "$dir" && /usr/bin/time -f '%e %M' -o "$tmp/time.out" "$@" > /dev/null 2> "$tmp/cmd.err") || {
      echo "run.sh: $* failed in $dir:" >&2; cat "$tmp/cmd.err" >&2; exit 1; }
    tail -1 "$tmp/time.out"
  else
    local t0 t1
    t0="$(now)"
    (cd "$dir" && "$@" > /dev/null 2> "$tmp/cmd.err") || {
      echo "run.sh: $* failed in $dir:" >&2; cat "$tmp/cmd.err" >&2; exit 1; }
    t1="$(now)"
    echo "$(elapsed "$t0" "$t1") n/a"
  fi
}

fmt_ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
fmt_run() {
  # "seconds kib" -> "0.12 s, 34.5 MiB"
  awk -v s="$1" -v k="$2" 'BEGIN { if (k == "n/a") printf "%.2f s, RSS n/a", s; else printf "%.2f s, %.1f MiB", s, k / 1024 }'
}

echo "building a repository of $files files ..." >&2
make_template "$tmp/template"
template="$tmp/template"

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Loop and CLI alternate, `rounds` times each on fresh copies; each figure is the median.
declare -a lk_all lk lk_fixed ck ld_all ld ld_fixed cd_
for ((round = 1; round <= rounds; round++)); do
  echo "keep and discard paths, round $round of $rounds: $experiments experiments each, loop and git CLI ..." >&2
  read -r a b c <<< "$(time_loop "$tmp/loop-keep-$round" keep)"; lk_all+=("$a"); lk+=("$b"); lk_fixed+=("$c")
  ck+=("$(time_cli "$tmp/cli-keep-$round" keep)")
  read -r a b c <<< "$(time_loop "$tmp/loop-discard-$round" discard)"; ld_all+=("$a"); ld+=("$b"); ld_fixed+=("$c")
  cd_+=("$(time_cli "$tmp/cli-discard-$round" discard)")
  # The primed keep session's header matches the config, so the history continues its segment.
  [ "$round" -eq 1 ] && head -1 "$tmp/loop-keep-1/results.jsonl" > "$tmp/header.jsonl"
  rm -rf "$tmp/loop-keep-$round" "$tmp/cli-keep-$round" "$tmp/loop-discard-$round" "$tmp/cli-discard-$round"
done
loop_keep_all="$(median "${lk_all[@]}")"; loop_keep="$(median "${lk[@]}")"; loop_keep_fixed="$(median "${lk_fixed[@]}")"
cli_keep="$(median "${ck[@]}")"
loop_discard_all="$(median "${ld_all[@]}")"; loop_discard="$(median "${ld[@]}")"
cli_discard="$(median "${cd_[@]}")"

echo "keep path after a $history-record journal ..." >&2
if [ -n "$generator" ]; then
  # Keep records name commits the session branch does not hold; the loop would refuse them.
  "$generator" "$tmp/history-all.jsonl" "$history" "$session" > /dev/null
  grep -v '"status": *"keep"' "$tmp/history-all.jsonl" > "$tmp/history.jsonl" || true
  rm -f "$tmp/history-all.jsonl"
else
  gen_records "$history" > "$tmp/history.jsonl"
fi
read -r loop_keep_history_all loop_keep_history loop_keep_history_fixed <<< \
  "$(time_loop "$tmp/loop-history" keep "$tmp/history.jsonl")"
rm -rf "$tmp/loop-history" "$tmp/history.jsonl"

rows=()
if [ "$sandbox_cost" -eq 1 ]; then
  # The same sessions with the sandbox on and off, alternating; the template's committed config
  # differs in its sandbox line only.
  for mode in auto off; do
    cp -a "$tmp/template" "$tmp/template-$mode"
    sed -i "s/^sandbox: .*/sandbox: $mode/" "$tmp/template-$mode/autoresearch.config.yaml"
    git -C "$tmp/template-$mode" -c gc.auto=0 commit -q --allow-empty -am "sandbox: $mode"
  done
  declare -a sk_on sk_off sd_on sd_off
  for ((round = 1; round <= rounds; round++)); do
    echo "sandbox cost, round $round of $rounds: keep and discard paths with the sandbox on and off ..." >&2
    for mode in auto off; do
      template="$tmp/template-$mode"
      read -r a b c <<< "$(time_loop "$tmp/sb-keep-$mode-$round" keep)"
      if [ "$mode" = auto ]; then sk_on+=("$b"); else sk_off+=("$b"); fi
      read -r a b c <<< "$(time_loop "$tmp/sb-discard-$mode-$round" discard)"
      if [ "$mode" = auto ]; then sd_on+=("$b"); else sd_off+=("$b"); fi
      rm -rf "$tmp/sb-keep-$mode-$round" "$tmp/sb-discard-$mode-$round"
    done
  done
  template="$tmp/template"
  sb_keep_on="$(median "${sk_on[@]}")"; sb_keep_off="$(median "${sk_off[@]}")"
  sb_discard_on="$(median "${sd_on[@]}")"; sb_discard_off="$(median "${sd_off[@]}")"
  per_command="$(awk -v a="$sb_keep_on" -v b="$sb_keep_off" -v c="$sb_discard_on" -v d="$sb_discard_off" \
    -v n="$((2 * pairs))" 'BEGIN { printf "%.2f ms", ((a - b) + (c - d)) / 2 / n * 1000 }')"
  rows+=("| keep path, per experiment, sandbox on | $(fmt_ms "$sb_keep_on") | $(fmt_ms "$sb_keep_off") (sandbox off) | $(ratio "$sb_keep_on" "$sb_keep_off")× |")
  rows+=("| discard path, per experiment, sandbox on | $(fmt_ms "$sb_discard_on") | $(fmt_ms "$sb_discard_off") (sandbox off) | $(ratio "$sb_discard_on" "$sb_discard_off")× |")
  rows+=("| sandbox cost per benchmark command (from the two paths) | $per_command | | |")
fi
for n in $journal_sizes; do
  echo "status and report on a $n-record journal ..." >&2
  dir="$tmp/journal-$n"
  cp -a "$tmp/template" "$dir"
  loop_run "$dir"
  make_journal "$dir/results.jsonl" "$n" "$tmp/header.jsonl"
  # Assignments, not `< <(...)`: a failing command must stop the script.
  # The first read of a journal builds the summary index under .autoresearch/ (what `run` also
  # does when it starts); every later read uses it and parses only what was appended since.
  r0="$(measure_cmd "$dir" "$binary" status)"; read -r s0 m0 <<< "$r0"
  r1="$(measure_cmd "$dir" "$binary" status)"; read -r s1 m1 <<< "$r1"
  r2="$(measure_cmd "$dir" "$binary" status --json)"; read -r s2 m2 <<< "$r2"
  r3="$(measure_cmd "$dir" "$binary" report)"; read -r s3 m3 <<< "$r3"
  rows+=("| \`status\`, $n records, first read (builds the index) | $(fmt_run "$s0" "$m0") | | |")
  rows+=("| \`status\`, $n records | $(fmt_run "$s1" "$m1") | | |")
  rows+=("| \`status --json\`, $n records | $(fmt_run "$s2" "$m2") | | |")
  rows+=("| \`report\`, $n records | $(fmt_run "$s3" "$m3") | | |")
  rm -rf "$dir" "$dir.run.log"
done

keep_ratio="$(ratio "$loop_keep" "$cli_keep")"
discard_ratio="$(ratio "$loop_discard" "$cli_discard")"
history_ratio="$(ratio "$loop_keep_history" "$loop_keep")"
keep_ratio_all="$(ratio "$loop_keep_all" "$cli_keep")"
discard_ratio_all="$(ratio "$loop_discard_all" "$cli_discard")"
history_ratio_all="$(ratio "$loop_keep_history_all" "$loop_keep_all")"

echo
echo "$((dirs * per_dir)) files, $experiments experiments a path, $((2 * pairs)) benchmark runs an experiment, median of $rounds rounds ($(uname -sm), $(nproc) cores)"
echo
echo "| measurement | autoresearch | git CLI / reference | ratio |"
echo "|---|---:|---:|---:|"
echo "| keep path, per experiment | $(fmt_ms "$loop_keep") | $(fmt_ms "$cli_keep") | ${keep_ratio}× |"
echo "| discard path, per experiment | $(fmt_ms "$loop_discard") | $(fmt_ms "$cli_discard") | ${discard_ratio}× |"
echo "| keep path, per experiment, after $history records | $(fmt_ms "$loop_keep_history") | $(fmt_ms "$loop_keep") (empty journal) | ${history_ratio}× |"
echo "| keep path, per experiment, run's fixed cost included | $(fmt_ms "$loop_keep_all") | $(fmt_ms "$cli_keep") | ${keep_ratio_all}× |"
echo "| discard path, per experiment, run's fixed cost included | $(fmt_ms "$loop_discard_all") | $(fmt_ms "$cli_discard") | ${discard_ratio_all}× |"
echo "| keep path after $history records, run's fixed cost included | $(fmt_ms "$loop_keep_history_all") | $(fmt_ms "$loop_keep_all") (empty journal) | ${history_ratio_all}× |"
echo "| fixed cost of one run (open, view, closing report): empty journal | $(fmt_ms "$loop_keep_fixed") | | |"
echo "| fixed cost of one run: $history records | $(fmt_ms "$loop_keep_history_fixed") | | |"
printf '%s\n' "${rows[@]}"
echo
echo "keep-path overhead ratio (loop/CLI): $keep_ratio"
echo "discard-path overhead ratio (loop/CLI): $discard_ratio"
echo "journal-size overhead ratio ($history/empty): $history_ratio"
