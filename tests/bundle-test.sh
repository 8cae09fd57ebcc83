#!/usr/bin/env bash
# Tests of the student bundle as a student gets it (make dist, unpacked): its README is the
# students' one, and the mentors' targets (make check SOLUTION=1, bench, gpu-test, grade) refuse
# in one line and a non-zero exit before anything is built, from the top folder and from a session
# folder. Leaks of solutions are tests/check-dist.sh's. No GPU, no nvcc needed; a few seconds.
# Prints PASS/FAIL lines and ends with "N passed, N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
unset MAKEFLAGS MFLAGS MAKELEVEL SOLUTION   # the caller's make must not steer the bundle's
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bundle-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if grader/make-dist.sh "$tmp/dist" >"$tmp/dist.log" 2>&1 && tar -C "$tmp" -xzf "$tmp/dist/kernel-workbook-student.tar.gz"; then
    result PASS "make-dist.sh makes a bundle that unpacks"
else
    result FAIL "make-dist.sh makes a bundle that unpacks" "$(tail -n 3 "$tmp/dist.log")"
    finish
fi
bundle=$tmp/kernel-workbook-student
session=$(cd "$bundle" && ls -d */[0-9][0-9]-*/check.c | head -n1 | sed 's,/check.c$,,')

# ---- the README ---------------------------------------------------------------------------------
if cmp -s grader/README-student.md "$bundle/README.md"; then result PASS "the bundle's README.md is the student README"
else result FAIL "the bundle's README.md is the student README"; fi
for topic in "make check" "SEED=" "make progress" "make watch EX=" "ARCH=" "Without a GPU"; do
    if grep -qF -- "$topic" "$bundle/README.md"; then result PASS "the student README explains '$topic'"
    else result FAIL "the student README explains '$topic'"; fi
done
if grep -qE 'SOLUTION=1|make (bench|gpu-test|grade)|solutions/' "$bundle/README.md"; then
    result FAIL "the student README names no mentor command" "$(grep -nE 'SOLUTION=1|make (bench|gpu-test|grade)|solutions/' "$bundle/README.md" | head -n 2)"
else result PASS "the student README names no mentor command"; fi
[ -e "$bundle/grader/README-student.md" ] && result FAIL "grader/README-student.md is not left in the bundle twice" ||
    result PASS "grader/README-student.md is not left in the bundle twice"

# ---- the mentors' targets refuse ------------------------------------------------------------------
refuses() {  # refuses DIR what ARGS...: one line, naming the bundle, a non-zero exit, within 30 s
    local dir=$1 what=$2; shift 2
    (cd "$dir" && timeout 30 make "$@") >"$tmp/out" 2>&1
    local rc=$? lines
    lines=$(grep -c . "$tmp/out")
    if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ "$lines" = 1 ] && grep -q "not part of the student bundle" "$tmp/out"; then
        result PASS "$what refuses in one line (exit $rc)"
    else
        result FAIL "$what refuses in one line" "exit $rc, $lines lines: $(head -c 300 "$tmp/out")"
    fi
}
refuses "$bundle" "make check SOLUTION=1" check SOLUTION=1
refuses "$bundle" "make SOLUTION=1 (any target)" build SOLUTION=1
refuses "$bundle" "make bench" bench
refuses "$bundle" "make gpu-test" gpu-test
refuses "$bundle" "make grade" grade CLASS="$tmp"
refuses "$bundle/$session" "make check SOLUTION=1 in $session" check SOLUTION=1
refuses "$bundle/$session" "make SOLUTION=1 in $session (its default target)" SOLUTION=1
refuses "$bundle/$session" "make bench in $session" bench
refuses "$bundle/$session" "make gpu-test in $session" gpu-test
(cd "$bundle" && SOLUTION=1 timeout 30 make check) >"$tmp/out" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ "$(grep -c . "$tmp/out")" = 1 ]; then result PASS "SOLUTION=1 from the environment refuses too"
else result FAIL "SOLUTION=1 from the environment refuses too" "exit $rc: $(head -c 300 "$tmp/out")"; fi
if [ -e "$bundle/build" ]; then result FAIL "nothing was built before the refusals" "$(find "$bundle/build" | head -n 3)"
else result PASS "nothing was built before the refusals"; fi

# ---- what students run still works ------------------------------------------------------------------
if (cd "$bundle" && timeout 30 make) >"$tmp/out" 2>&1 && grep -q "make check" "$tmp/out"; then
    result PASS "make (the help) works in the bundle"
else result FAIL "make (the help) works in the bundle" "$(head -c 300 "$tmp/out")"; fi
if grep -qE 'SOLUTION=1|make (bench|gpu-test|grade)' "$tmp/out"; then
    result FAIL "the bundle's help lists no mentor target" "$(grep -E 'SOLUTION=1|make (bench|gpu-test|grade)' "$tmp/out" | head -n 2)"
else result PASS "the bundle's help lists no mentor target"; fi
# A student's target passes the guard (print-VAR: parsed like any target, nothing built).
for dir in "$bundle" "$bundle/$session"; do
    where=$([ "$dir" = "$bundle" ] && echo "the top folder" || echo "$session")
    if (cd "$dir" && timeout 30 make --no-print-directory print-SOLUTION SOLUTION=0) >"$tmp/out" 2>&1 && [ "$(cat "$tmp/out")" = 0 ]; then
        result PASS "make TARGET SOLUTION=0 in $where goes through the guard"
    else result FAIL "make TARGET SOLUTION=0 in $where goes through the guard" "$(tail -n 2 "$tmp/out")"; fi
done
finish
