#!/bin/sh
# Gate "output" of the demo session: wordfreq's top 20 on the small corpus must match the recorded
# baseline output (examples/wordfreq/expected/small.txt) byte for byte. Runs after the build, from
# any directory: it finds the repository through its own path. Exit 0 only when identical; else
# the diff (or wordfreq's error) is printed.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/examples/wordfreq
out=$(mktemp) || exit 1
err=$(mktemp) || exit 1
trap 'rm -f "$out" "$err"' EXIT

if ! "$dir/build/wordfreq" "$dir/build/corpus-small.txt" >"$out" 2>"$err"; then
    cat "$err" >&2
    echo "check_output: wordfreq failed on the small corpus" >&2
    exit 1
fi
if ! diff -u "$dir/expected/small.txt" "$out"; then
    echo "check_output: output differs from examples/wordfreq/expected/small.txt" >&2
    exit 1
fi
echo "check_output: ok"
