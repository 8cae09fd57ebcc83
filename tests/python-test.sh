#!/usr/bin/env bash
# Session 11's Python exercises without a GPU: the grader's policy on their syntax (cheats refused,
# honest launchers and the session's own files accepted), the audit hook and import guard of the
# embedded interpreter's glue, the interpreter embedded in a real check (tests/python/host_driver.c:
# the verdict and one line each rule-breaking file gets, through the same child process and result
# pipe as any exercise), and every Triton file of the session importing under the pinned Triton and
# compiling for sm_90a (tests/abstractions/triton_compile.py), and the CuTe DSL file (05) loaded by the
# glue and compiled for sm_90a by cute.compile under the glue's audit hook, its solution's PTX holding
# wgmma and TMA (tests/abstractions/cutedsl_compile.py).
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
arch=${ARCH:-sm_80}
deps=$PWD/build/deps
out=build/tests/python
mkdir -p "$out"

if ! exe=$(grader/ensure-python.sh "$deps" exe); then
    result FAIL "grader/ensure-python.sh finds or installs the Python the check embeds" "$exe"
    echo "$passed passed, $failed failed"; exit 1
fi
result PASS "grader/ensure-python.sh: the check embeds $exe"

for t in policy_test glue_test; do
    log=$("$exe" tests/python/$t.py 2>&1)
    rc=$?
    summary=$(printf '%s\n' "$log" | tail -n 1)
    if [ $rc -eq 0 ] && printf '%s\n' "$summary" | grep -q " 0 failed"; then
        result PASS "tests/python/$t.py: $summary"
    else
        result FAIL "tests/python/$t.py" "$(printf '%s\n' "$log" | grep -A1 '^FAIL' | head -20)"
    fi
done

# Every Python file of the session imports (its @triton.jit, @cute.jit and @cute.kernel functions are
# defined) under the pinned Triton and CuTe DSL.
versions=$("$exe" -c 'import triton, cutlass; print("Triton %s, CuTe DSL %s" % (triton.__version__, cutlass.__version__))' 2>&1)
for f in ladder/11-abstractions/[0-9][0-9]_*.py solutions/ladder/11-abstractions/[0-9][0-9]_*.py; do
    [ -f "$f" ] || continue
    msg=$("$exe" -c 'import runpy, sys; runpy.run_path(sys.argv[1], run_name="student")' "$f" 2>&1 | tail -n 1)
    [ $? -eq 0 ] && [ -z "$msg" ] && result PASS "$f imports under $versions" ||
        result FAIL "$f imports under the pinned Triton and CuTe DSL" "$msg"
done

# compile_suite SCRIPT WHAT: a Python suite of compiles for sm_90a (no GPU), its compile lines shown.
compile_suite() {
    local log rc summary
    log=$("$exe" "$1" 2>&1)
    rc=$?
    summary=$(printf '%s\n' "$log" | tail -n 1)
    if [ $rc -eq 0 ] && printf '%s\n' "$summary" | grep -q " 0 failed"; then
        result PASS "$1 ($2): $summary"
        printf '%s\n' "$log" | grep "compiles for sm_90a" | sed 's/^PASS  /      /'
    else
        result FAIL "$1" "$(printf '%s\n' "$log" | grep -A12 '^FAIL' | head -30)"
    fi
}
# Every Triton file compiled for sm_90a by the pinned Triton, at the check's bench size; the CuTe DSL
# file, skeleton and solution, through the grader's glue and cute.compile under its audit hook.
compile_suite tests/abstractions/triton_compile.py "skeletons and solutions compile for sm_90a"
compile_suite tests/abstractions/cutedsl_compile.py "05 compiles for sm_90a under the glue's hook"

# The embedded interpreter in a check of its own, on the CPU.
build_log=$out/build.log
if make --no-print-directory -s ARCH="$arch" "build/$arch/grader/grader.o" >"$build_log" 2>&1 &&
   cflags=$(grader/ensure-python.sh "$deps" cflags) && ldflags=$(grader/ensure-python.sh "$deps" ldflags) &&
   gcc -std=c11 -O1 -Wall -Wextra -D_GNU_SOURCE -Igrader -I"$(make --no-print-directory -s print-CUDA_HOME)/include" $cflags \
       -DGR_PYTHON="\"$exe\"" -DGR_PY_GRADER_DIR="\"$(realpath -m --relative-to=$out grader/python)\"" \
       -DGR_PY_EXERCISE_DIR="\"$(realpath -m --relative-to=$out tests/python/fixtures)\"" \
       -DGR_PY_CACHE_DIR='"triton-cache"' -c grader/python/host.c -o $out/host.o >>"$build_log" 2>&1 &&
   gcc -std=c11 -O1 -Wall -Wextra -Werror -D_GNU_SOURCE -Igrader -I"$(make --no-print-directory -s print-CUDA_HOME)/include" \
       -c tests/python/host_driver.c -o $out/driver.o >>"$build_log" 2>&1 &&
   nvcc -o $out/driver "build/$arch/grader/grader.o" $out/driver.o $out/host.o -lcublas -lcublasLt $ldflags >>"$build_log" 2>&1; then
    result PASS "a check with the embedded interpreter builds (grader/python/host.c)"
    log=$($out/driver --results $out/results.jsonl --time-limit 5 2>&1)
    rc=$?
    expect() {  # expect EXERCISE VERDICT TEXT: the table's verdict and the line under the exercise
        local row line
        row=$(printf '%s\n' "$log" | grep -E "^   $1 +$2 " | head -n 1)
        line=$(printf '%s\n' "$log" | grep -A40 "^-- $1:" | grep -F -- "$3" | head -n 1)
        [ -n "$row" ] && [ -n "$line" ] && result PASS "$1: $2, '$3'" || result FAIL "$1: $2, '$3'" "$(printf '%s\n' "$log" | grep -A8 "^-- $1:")"
    }
    expect 01_noop FAIL "unwritten"
    expect 02_torch DISQUALIFIED "02_torch.py:1: imports torch"
    expect 03_raises CRASH "03_raises.py's launch raised ValueError: the kernel is not written yet"
    expect 04_syntax COMPILE_ERROR "04_syntax.py:1: syntax error"
    expect 05_no_launch CRASH "defines no launch() function"
    expect 06_absent NOT_SUBMITTED "06_absent.py is missing"
    expect 07_raises_on_load CRASH "raised ZeroDivisionError while loading"
    expect 08_import_at_run_time DISQUALIFIED "08_import_at_run_time.py:2: imports os"
    expect 09_two_args CRASH "saw shape (2, 2) and 7"
    expect 10_hangs_on_load TIMEOUT "still running after"
    expect 11_prints FAIL "more line(s) the exercise printed, not shown"
    expect 12_recursion CRASH "RecursionError"
    expect 13_stream CRASH "saw the stream (0) after 7"
    printf '%s\n' "$log" | grep -q "| Traceback" && ! printf '%s\n' "$log" | grep -q 'glue.py' &&
        result PASS "a Python exception shows the student's traceback, not the grader's frames" ||
        result FAIL "a Python exception shows the student's traceback, not the grader's frames" "$(printf '%s\n' "$log" | grep -B2 -A2 glue.py | head)"
    [ $rc -eq 1 ] && result PASS "the check exits 1 when files fail" || result FAIL "the check exits 1 when files fail" "exit $rc"
    n=$(grep -c '"schema"' $out/results.jsonl 2>/dev/null)
    [ "$n" = 13 ] && result PASS "one result record per file" || result FAIL "one result record per file" "$n records"
    rm -f $out/results.jsonl
    # Folders relative to the check's own (as the Makefile builds it): a copy of the tree loads the
    # copy's files (class grading runs the base build's check in each student's scratch copy).
    copy=$out/copy
    rm -rf "$copy" && mkdir -p "$copy/$out" "$copy/grader" "$copy/tests/python" &&
        cp $out/driver "$copy/$out/" && cp -r grader/python "$copy/grader/" && cp -r tests/python/fixtures "$copy/tests/python/" &&
        printf 'def launch(y, n):\n    raise ValueError("the copy of 03_raises")\n' >"$copy/tests/python/fixtures/03_raises.py"
    log=$(cd "$copy" && "$out/driver" --only 03_raises --time-limit 5 2>&1)
    printf '%s\n' "$log" | grep -q "raised ValueError: the copy of 03_raises" &&
        result PASS "a copied tree's check loads the copy's Python file, not the original's" ||
        result FAIL "a copied tree's check loads the copy's Python file, not the original's" "$(printf '%s\n' "$log" | grep -A6 '^-- 03_raises')"
    rm -rf "$copy"
else
    result FAIL "a check with the embedded interpreter builds (grader/python/host.c)" "$(tail -n 20 "$build_log")"
fi

# make check, when the Python its check embeds cannot be had (no such interpreter here; on a
# machine without a network, pip's failure): that line, and one saying the session was not graded.
# In a build folder of its own, seeded with the main build's objects so that only the link is left.
nb=$out/no-python
rm -rf "$nb" && mkdir -p "$nb/$arch/student/ladder"
[ -d "build/$arch/grader" ] && cp -a "build/$arch/grader" "$nb/$arch/"
[ -d "build/$arch/student/ladder/11-abstractions" ] && cp -a "build/$arch/student/ladder/11-abstractions" "$nb/$arch/student/ladder/" &&
    rm -f "$nb/$arch/student/ladder/11-abstractions/python_host.o" "$nb/$arch/student/ladder/11-abstractions/check"
log=$(make --no-print-directory check ARCH="$arch" SESSIONS=ladder/11-abstractions BUILD="$nb" PY_BASE=/nonexistent/python3 2>&1)
if printf '%s\n' "$log" | grep -q '^ensure-python: /nonexistent/python3 is missing' &&
   printf '%s\n' "$log" | grep -q '^make check: ladder/11-abstractions was not graded: its check embeds that Python'; then
    result PASS "make check says why a Python session cannot be checked when its interpreter cannot be had"
else
    result FAIL "make check says why a Python session cannot be checked when its interpreter cannot be had" "$(printf '%s\n' "$log" | grep -v '^gcc\|^/usr\|^nvcc\|^ld \|^ar ' | tail -n 6)"
fi
rm -rf "$nb"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
