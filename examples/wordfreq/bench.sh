#!/bin/sh
# One benchmark sample for the autoresearch demo session: runs wordfreq once on the big corpus and
# prints its wall time as `METRIC wall_ms=<ms>` (wordfreq itself prints `METRIC peak_rss_kb` on
# stderr). Works from any directory. When wordfreq fails, so does this script, and the loop
# records a crash.
set -eu
cd "$(dirname "$0")"
start=$(date +%s%N)
build/wordfreq build/corpus.txt >/dev/null
end=$(date +%s%N)
# The nanosecond difference fits shell arithmetic; awk only divides, as it cannot hold the
# 19-digit timestamps exactly.
awk -v ns="$((end - start))" 'BEGIN { printf "METRIC wall_ms=%.3f\n", ns / 1000000 }'
