#!/usr/bin/env bash
# Session 11 without a GPU: CUTLASS's headers arrive from PyPI as the Makefile says
# (grader/ensure-cutlass.sh: installed once, then a no-op; a bad call says why in one line), and the
# line counter of the handout's table (grader/loc.py) counts code and nothing else, on files written
# here whose counts are known. (The exercises themselves are compiled for sm_80 and sm_90a with the
# others by tests/check-build-test.sh.) Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

version=$(make --no-print-directory -s print-CUTLASS_VERSION)
dir=$(make --no-print-directory -s print-CUTLASS_DIR)
if out=$(grader/ensure-cutlass.sh "$version" "$dir" 2>&1) && [ -f "$dir/include/cute/tensor.hpp" ] &&
   [ -f "$dir/include/cutlass/numeric_types.h" ]; then
    result PASS "ensure-cutlass.sh installs CUTLASS $version's headers (cute/, cutlass/) into $dir"
else
    result FAIL "ensure-cutlass.sh installs CUTLASS $version's headers" "$out"
fi
again=$(grader/ensure-cutlass.sh "$version" "$dir" 2>&1)
[ $? -eq 0 ] && [ -z "$again" ] && result PASS "ensure-cutlass.sh: installed once, then silent" ||
    result FAIL "ensure-cutlass.sh: installed once, then silent" "$again"
msg=$(grader/ensure-cutlass.sh 2>&1)
[ $? -eq 64 ] && [ "$(printf '%s\n' "$msg" | wc -l)" -eq 1 ] && result PASS "ensure-cutlass.sh without arguments: one line, status 64" ||
    result FAIL "ensure-cutlass.sh without arguments: one line, status 64" "$msg"
msg=$(grader/ensure-cutlass.sh 0.0.0.0-no-such "$scratch/cutlass" 2>&1)
[ $? -eq 1 ] && [ ! -e "$scratch/cutlass" ] && printf '%s\n' "$msg" | grep -q "could not download" &&
    result PASS "a version PyPI does not have: one line saying so, nothing left behind" ||
    result FAIL "a version PyPI does not have: one line saying so, nothing left behind" "$msg"

# grader/loc.py on files whose code lines are known.
cat >"$scratch/a.cu" <<'SRC'
// a comment alone
#include <x.h>   // code, then a comment

/* a block
   comment */ int x = 1; /* code between two */
const char *s = "// not a comment /* nor this */";
char c = '"';
int y; // "x"

SRC
cat >"$scratch/b.py" <<'SRC'
"""The module's docstring,
over two lines."""
import os  # code, then a comment

def f(x):
    """A docstring."""
    s = """a string that is not
a docstring"""
    return s  # c
SRC
out=$(grader/loc.py "$scratch/a.cu" "$scratch/b.py" 2>&1)
[ "$(printf '%s\n' "$out" | awk '{print $1}' | paste -sd ' ')" = "5 5 10" ] &&
    result PASS "loc.py counts code lines only (C comments, strings holding comment marks, Python docstrings)" ||
    result FAIL "loc.py counts code lines only" "$out"
printf 'x' >"$scratch/c.txt"
msg=$(grader/loc.py "$scratch/c.txt" "$scratch/missing.cu" 2>&1 >/dev/null)
[ $? -eq 1 ] && [ "$(printf '%s\n' "$msg" | wc -l)" -eq 2 ] &&
    result PASS "loc.py: a file of unknown kind and a missing one, one line each, status 1" ||
    result FAIL "loc.py: a file of unknown kind and a missing one, one line each, status 1" "$msg"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
