#!/bin/sh
# A deterministic example proposer for the demo session (see README, "Proposer protocol").
#
# autoresearch runs it in a clean checkout of the best commit with
#   AUTORESEARCH_CONTEXT       the session's state as Markdown (for coding agents)
#   AUTORESEARCH_CONTEXT_JSON  the same as JSON (for scripts like this one)
#   AUTORESEARCH_PROPOSAL      where to write {"title", "hypothesis", "mechanism", "idea", "asi"}
# and takes whatever it changed in the working tree as the patch to test.
#
# It knows a few tuning moves for examples/wordfreq/wordfreq.c and proposes the first one that
# (a) has not been tried yet: its title is not in the context (recent experiments, dead ends), and
# (b) still applies to the code as it is now. With nothing left it changes nothing, which the loop
# records as "the proposer made no change".
set -eu
src=examples/wordfreq/wordfreq.c
ctx=${AUTORESEARCH_CONTEXT_JSON:?run me from autoresearch}
out=${AUTORESEARCH_PROPOSAL:?run me from autoresearch}

tried() { grep -qF "\"title\": \"$1\"" "$ctx"; }

propose() { # title hypothesis mechanism idea
  printf '{"title": "%s", "hypothesis": "%s", "mechanism": "%s", "idea": "%s", "asi": {"proposer": "examples/proposer/propose.sh"}}\n' \
    "$1" "$2" "$3" "$4" > "$out"
  echo "proposed: $1"
  exit 0
}

# Each move: a title, a perl edit that must change the file, and the proposal text.
title="Classify bytes with ASCII range checks instead of isalpha and tolower"
if ! tried "$title" && grep -q 'if (isalpha(c))' "$src"; then
  perl -0pi -e 's/    if \(isalpha\(c\)\)\n        return tolower\(c\);\n    return 0;/    if (c >= '"'"'a'"'"' && c <= '"'"'z'"'"')\n        return c;\n    if (c >= '"'"'A'"'"' && c <= '"'"'Z'"'"')\n        return c + ('"'"'a'"'"' - '"'"'A'"'"');\n    return 0;/' "$src"
  propose "$title" \
    "wall_ms drops by 5-15%: word_char runs for every input byte and calls into the locale machinery twice." \
    "isalpha and tolower look up the current locale's tables through __ctype_b_loc and a call; two compares on the byte are branch-predictable and inline." \
    "i3"
fi

title="Check the first byte before strcmp in the chain walk"
if ! tried "$title" && grep -q 'if (strcmp((\*link)->word, word) == 0)' "$src"; then
  perl -pi -e 's/if \(strcmp\(\(\*link\)->word, word\) == 0\)/if ((*link)->word[0] == word[0] \&\& strcmp((*link)->word, word) == 0)/' "$src"
  propose "$title" \
    "wall_ms drops a little: most chain nodes differ from the word in the first byte, so the strcmp call is skipped." \
    "a byte compare is inline; strcmp is a call that re-reads both strings." \
    "i2"
fi

title="Read input in 256 KiB blocks"
if ! tried "$title" && grep -q 'static char block\[1 << 16\];' "$src"; then
  perl -pi -e 's/static char block\[1 << 16\];/static char block[1 << 18];/' "$src"
  propose "$title" \
    "wall_ms drops slightly with four times fewer fread calls." \
    "each fread is a call and a copy; larger blocks amortise the call, the copy stays." \
    ""
fi

echo "nothing left to propose"
exit 0
