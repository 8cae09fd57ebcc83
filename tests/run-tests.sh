#!/usr/bin/env bash
# make test: everything that needs no GPU. Installs what it needs where it is missing.
#   1. Criterion unit tests of the grader and the CPU references
#   2. every skeleton and solution compiled and linked for each architecture it targets
#   3. the exercise contract: twins, skeletons differ from solutions, sessions complete
#   4. the student bundle holds no solution (and the check would see one planted in it)
#   5. without a GPU: make check grades the CPU exercises, says once that there is no GPU, exits
#      non-zero; one broken file does not stop its session (tests/check-build-test.sh); a session
#      that needs another architecture (NEEDS_ARCH) is skipped in one line (tests/needs-arch-test.sh)
#   6. the class leaderboard on a sample class with a broken results file
#   7. the source scanner on known cheats and on every exercise file
#   8. the board demos: listed, the no-GPU ones run in under a minute, the GPU ones say they need one
#   9. the printed handouts: make handouts, each page looked at (title, figures, no missing image)
#  10. class grading of the sample class tests/class without a GPU: scan hits, compile errors,
#      not-submitted, CPU exercises, and NO-GPU for the rest
#  11. the same grading as a Slurm array job on a one-node cluster started here (root only)
#  12. the mini-model's CPU engine as a command: bad arguments and files refused in one line,
#      speculative output equal to greedy output (its unit tests are in 1.)
#  13. the grader's boundary: the object policy on every skeleton and solution and on known
#      cheating objects (tests/cheats-obj), the check's confinement on cheats linked in as they are
#      (tests/cheats-run), a hostile class graded end to end (tests/hostile)
#  14. every reader of a user's file fuzzed for a bounded time (tests/fuzz), and crafted files
#  15. make sass: each SASS file's signatures hold on the solutions (and skeletons it names), Hopper's
#      mnemonics on a probe session (tests/sass), its errors in one line (tests/sass-test.sh)
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
grader/ensure-deps.sh test || exit 1
make=(make --no-print-directory)
logs=build/test-logs
mkdir -p "$logs"
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
jobs=$(nproc 2>/dev/null || echo 2)

# ---- 1. unit tests ------------------------------------------------------------------------------
echo "== unit tests (Criterion)"
if "${make[@]}" -j"$jobs" ARCH=sm_80 build unit-tests >"$logs/unit-build.log" 2>&1; then
    build/tests/unit --jobs 2 >"$logs/unit.log" 2>&1
    rc=$?
    synthesis=$(grep -a "Synthesis" "$logs/unit.log" | tail -n1)
    echo "   ${synthesis:-no synthesis line}"
    tested=$(echo "$synthesis" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
    failing=$(echo "$synthesis" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
    crashing=$(echo "$synthesis" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
    if [ $rc -eq 0 ] && [ "${tested:-0}" -gt 0 ] && [ "${failing:-1}" = 0 ] && [ "${crashing:-1}" = 0 ]; then
        passed=$((passed + tested))
    else
        grep -aE "\[FAIL\]|\[----\].*:" "$logs/unit.log" | head -n 40
        result FAIL "unit tests" "exit $rc; see $logs/unit.log"
        failed=$((failed + ${failing:-0} + ${crashing:-0}))
    fi
else
    result FAIL "unit tests build" "see $logs/unit-build.log"
fi

# ---- 2. compile checks ---------------------------------------------------------------------------
# Each session builds for sm_80 (any GPU from the A100 on) and sm_90a (Hopper); sessions whose
# folder holds a TARGETS file list their own architectures there.
echo "== compile checks"
for s in $("${make[@]}" print-ALL_SESSIONS); do
    archs="sm_80 sm_90a"
    [ -f "$s/NEEDS_ARCH" ] && archs=$(cat "$s/NEEDS_ARCH")   # make build leaves it out on the others
    [ -f "$s/TARGETS" ] && archs=$(cat "$s/TARGETS")
    for arch in $archs; do
        for variant in 0 1; do
            what="compile $s $([ $variant = 1 ] && echo solutions || echo skeletons) for $arch"
            log="$logs/compile-$(echo "$s" | tr / _)-$arch-$variant.log"
            if "${make[@]}" -j"$jobs" ARCH=$arch SOLUTION=$variant SESSIONS="$s" build >"$log" 2>&1; then result PASS "$what"
            else result FAIL "$what" "see $log"; fi
        done
    done
done

# Editing one exercise recompiles that exercise alone (and relinks its session's checker).
first=$(ls "$("${make[@]}" print-ALL_SESSIONS | tr " " "\n" | head -n1)"/[0-9][0-9]_*.cu | head -n1)
if [ -n "$first" ] && "${make[@]}" -j"$jobs" ARCH=sm_80 build >/dev/null 2>&1; then
    touch "$first"
    compiles=$("${make[@]}" -n ARCH=sm_80 build | grep -E -- ' -c [^ ]+\.(cu|c) ' | grep -oE '[^ ]+\.(cu|c) ' | tr -d ' ')
    if [ "$compiles" = "$first" ]; then result PASS "editing $first recompiles only it"
    else result FAIL "editing $first recompiles only it" "would compile: $(echo $compiles)"; fi
    "${make[@]}" ARCH=sm_80 build >/dev/null 2>&1
fi

# A student's exercise is compiled by the exercise rule (the student flags, its session's headers),
# never by the rule for given code.
if [ -n "$first" ]; then
    touch "$first"
    line=$("${make[@]}" -n ARCH=sm_80 "build/sm_80/student/${first%.cu}.o" | grep -E -- " -c $first ")
    if [[ $line == *"-diag-suppress 177"* && $line == *"-I$PWD/$(dirname "$first") "* ]]; then
        result PASS "a student's exercise is built with the student flags and its session's headers"
    else result FAIL "a student's exercise is built with the student flags and its session's headers" "$line"; fi
fi

# ---- 3. the contract -----------------------------------------------------------------------------
echo "== exercise contract"
for s in $("${make[@]}" print-ALL_SESSIONS); do
    n=$(basename "$s" | cut -c1-2)
    for f in Makefile exercises.h check.c; do
        [ -f "$s/$f" ] && result PASS "$s has $f" || result FAIL "$s has $f"
    done
    ls handouts/"$n"-*.md >/dev/null 2>&1 && result PASS "$s has a handout" || result FAIL "$s has a handout" "handouts/$n-*.md"
    for ex in "$s"/[0-9][0-9]_*.cu "$s"/[0-9][0-9]_*.py; do
        [ -f "$ex" ] || continue
        sol="solutions/$ex"
        if [ ! -f "$sol" ]; then result FAIL "$ex has its solution twin" "$sol missing"; continue; fi
        cmp -s "$ex" "$sol" && result FAIL "$ex differs from its solution" || result PASS "$ex differs from its solution"
        grep -q "TODO" "$ex" && result PASS "$ex has TODOs" || result FAIL "$ex has TODOs"
    done
    for sol in solutions/"$s"/[0-9][0-9]_*.cu solutions/"$s"/[0-9][0-9]_*.py; do
        [ -f "$sol" ] || continue
        [ -f "${sol#solutions/}" ] && result PASS "$sol has its skeleton" || result FAIL "$sol has its skeleton"
    done
done

# ---- 4. the student bundle -----------------------------------------------------------------------
echo "== student bundle"
if "${make[@]}" dist >"$logs/dist.log" 2>&1; then
    tmp=$(mktemp -d)
    tar -C "$tmp" -xzf build/dist/kernel-workbook-student.tar.gz
    bundle="$tmp/kernel-workbook-student"
    tests/check-dist.sh "$bundle" >"$logs/dist-check.log" 2>&1 && result PASS "make dist holds no solution" ||
        result FAIL "make dist holds no solution" "$(cat "$logs/dist-check.log")"
    # The check must see a planted solution: copy one over its skeleton in a scratch bundle.
    planted=$(git ls-files 'solutions/*.cu' | head -n1)
    cp "$planted" "$bundle/${planted#solutions/}"
    tests/check-dist.sh "$bundle" >/dev/null 2>&1 && result FAIL "the bundle check catches a planted solution" ||
        result PASS "the bundle check catches a planted solution"
    rm -rf "$tmp"
else
    result FAIL "make dist" "see $logs/dist.log"
fi

# ---- 5. without a GPU ----------------------------------------------------------------------------
echo "== no-GPU behaviour"
if nvidia-smi >/dev/null 2>&1; then
    echo "   (this machine has a GPU: the no-GPU checks are skipped; make gpu-test covers it)"
else
    # The whole workbook: the CPU exercises graded, the missing GPU said once, non-zero exit.
    out=$(timeout 1800 "${make[@]}" -s check 2>/dev/null)
    rc=$?
    said=$(printf '%s\n' "$out" | grep -c "no usable CUDA GPU")
    if [ $rc -ne 0 ] && [ "$said" = 1 ] && printf '%s' "$out" | grep -q "01_matmul_cpu *FAIL" &&
       ! printf '%s' "$out" | grep -q "NO_GPU"; then
        result PASS "make check without a GPU: the CPU exercises graded, no GPU said once, non-zero exit"
    else
        result FAIL "make check without a GPU: the CPU exercises graded, no GPU said once, non-zero exit" \
            "exit $rc, said $said times: $(printf '%s\n' "$out" | head -n 5 | tr '\n' ' ')"
    fi
    # A session's own check: the same, its CPU exercise passing with the solutions (exit 2: not all graded).
    out=$(timeout 300 "${make[@]}" -s -C ladder/01-gpu-vs-cpu check SOLUTION=1 2>/dev/null)
    rc=$?
    if [ $rc = 2 ] && printf '%s' "$out" | grep -q "01_matmul_cpu *PASS" && [ "$(printf '%s\n' "$out" | grep -c "no usable CUDA GPU")" = 1 ]; then
        result PASS "a session check without a GPU grades its CPU exercise (exit 2)"
    else
        result FAIL "a session check without a GPU grades its CPU exercise (exit 2)" "exit $rc"
    fi
    out=$(timeout 300 "${make[@]}" -s -C ladder/01-gpu-vs-cpu check 2>/dev/null)
    if printf '%s' "$out" | grep -q "01_matmul_cpu *FAIL"; then result PASS "the CPU skeleton fails its check"
    else result FAIL "the CPU skeleton fails its check"; fi
    out=$(timeout 120 "${make[@]}" -s demo-gpu-vs-cpu 2>/dev/null)
    printf '%s' "$out" | grep -q "needs a CUDA GPU" && result PASS "a GPU demo says it needs a GPU" ||
        result FAIL "a GPU demo says it needs a GPU" "$out"
fi

# ---- 6, 7. test scripts that end with their own "N passed, N failed" line --------------------
suite() {  # suite TITLE SCRIPT: run it, show its failures, add its counts to ours
    local title=$1 script=$2 log="$logs/$(basename "$2" .sh).log" last p f
    echo "== $title"
    bash "$script" >"$log" 2>&1
    grep -a '^FAIL' "$log"
    last=$(tail -n 1 "$log")
    p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    echo "   $title: ${last:-no summary line}"
    if [ -n "$p" ]; then passed=$((passed + p)); failed=$((failed + f))
    else result FAIL "$title" "no summary line; see $log"; fi
}
suite "leaderboard" tests/leaderboard-test.sh
suite "source scanner" tests/scan-test.sh
suite "board demos" tests/demos-test.sh
suite "handouts" tests/handouts-test.sh
suite "class grading" tests/grade-test.sh
suite "Slurm (one node)" tests/slurm-test.sh
suite "mini-model engine" tests/mini-test.sh
suite "object policy" tests/objcheck-test.sh
suite "check confinement" tests/confine-test.sh
suite "make check as a student meets it" tests/check-build-test.sh
suite "a session for one architecture" tests/needs-arch-test.sh
suite "pattern hints" tests/hints-test.sh
suite "skeletons and handouts" tests/skeleton-test.sh
suite "make progress and make watch" tests/progress-test.sh
suite "the student bundle" tests/bundle-test.sh
suite "hostile class" tests/hostile-test.sh
suite "fuzzing the file readers" tests/fuzz-test.sh
suite "make sass (reading SASS)" tests/sass-test.sh
suite "make profile: what it would profile (no ncu)" tests/profile-test.sh
suite "session 10 without a GPU (TMA rules)" tests/hopper-test.sh
suite "vendor-library calls (no GPU)" tests/library-test.sh
suite "session 11 without a GPU (CUTLASS headers, line counts)" tests/abstractions-test.sh
suite "session 11 Python exercises without a GPU (policy, audit hook, embedded interpreter)" tests/python-test.sh
suite "a class that hands in Python (session 11)" tests/python-class-test.sh
suite "session 12 quantised weights on the CPU" tests/serving-quant-test.sh
suite "session 13 quantiser on the CPU" tests/nvfp4-quantize-test.sh
suite "session 13 NVFP4 GEMV on the CPU" tests/nvfp4-gemv-test.sh
suite "session 13 e2m1 conversion in sm_100a SASS" tests/nvfp4-sm100-test.sh
suite "session 13 tcgen05 GEMM on the CPU (model of sm_100a)" tests/tcgen05-test.sh
suite "session 14 sampled accept on the CPU (chi-square)" tests/accept-sampled-test.sh
suite "session 14 MLA decode on the CPU" tests/finale-mla-test.sh
suite "session 14 FP8 grouped GEMM on the CPU" tests/finale-fp8-test.sh
suite "session 14 engine without a GPU (builds, bad input)" tests/engine-test.sh

echo
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
