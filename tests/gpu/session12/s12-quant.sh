#!/usr/bin/env bash
# Session 12's quantised GEMVs on the H200 (06_gemv_w4a16, 07_gemv_fp8):
#   1. build the session for sm_90a, solutions and skeletons (make -j16), and the measured roofs;
#   2. tests/gpu/quant_decode_test.cu: the FP8 solution's decoding on the device for every code
#      (sm_90a, and compute_80 PTX compiled by the driver: sm_80's fma.rn.bf16x2 form), and the
#      device's own e4m3 conversion, against the grader's decoder;
#   3. the solutions checked at every size and timed, beside the session's BF16 GEMV (01 and
#      01+batch8): expected PASS x 2 (06, 06+batch8), x 1 (07), exit 0; targets: 06 >= 3.0x 01's
#      speed at batch 1, 06+batch8 >= 2.0x 01+batch8, 07 >= 1.8x 01;
#   4. the skeletons at --small: expected FAIL for every entry, exit 1, no hang;
#   5. the skeletons with their TODOs done (tests/gpu/session12/filled/*.cu, built from a scratch copy of the
#      session into build-s12q-filled/): expected PASS, timed: what a student's finished frame does;
#   6. compute-sanitizer memcheck on the two solutions at --small, then racecheck while time lasts.
# Everything is logged under $OUT; a short summary is printed at the end (and kept in $OUT/summary.txt).
#   OUT=/some/dir bash tests/gpu/session12/s12-quant.sh        (from the repository root; under 4 minutes)
set -u
cd "$(dirname "$0")/../../.." || exit 1
: "${OUT:?set OUT to an output folder}"
mkdir -p "$OUT"
S=serving/12-serving
B=build/sm_90a
EXERCISES="06_gemv_w4a16 07_gemv_fp8"
t0=$(date +%s)
left() { echo $((230 - ($(date +%s) - t0))); }   # seconds left of a budget under 4 minutes
summary=$OUT/summary.txt
: >"$summary"
say() { echo "$*" >>"$summary"; }
command -v compute-sanitizer >/dev/null || export PATH=$PATH:/usr/local/cuda/bin

# records FILE: one line per record of a results file: exercise, verdict, time, % of peak, % of the
# yardstick (a cudaMemcpy of the same bytes for 06 and 07: % of measured copy), message.
records() {
    [ -s "$1" ] || { echo "  (no records in $(basename "$1"))"; return; }
    awk '{
        ex = v = ms = pp = pm = pl = msg = "-"
        if (match($0, /"exercise":"[^"]*"/)) ex = substr($0, RSTART + 12, RLENGTH - 13)
        if (match($0, /"verdict":"[^"]*"/)) v = substr($0, RSTART + 11, RLENGTH - 12)
        if (match($0, /"median_ms":[^,}]*/)) ms = substr($0, RSTART + 12, RLENGTH - 12)
        if (match($0, /"pct_peak":[^,}]*/)) pp = substr($0, RSTART + 11, RLENGTH - 11)
        if (match($0, /"pct_measured_roof":[^,}]*/)) pm = substr($0, RSTART + 20, RLENGTH - 20)
        if (match($0, /"pct_library":[^,}]*/)) pl = substr($0, RSTART + 14, RLENGTH - 14)
        if (match($0, /"message":"[^"]*"/)) msg = substr($0, RSTART + 11, RLENGTH - 12)
        printf "  %-26s %-8s median %s ms  %s%% of peak  %s%% of measured copy  %s%% of yardstick  %s\n", ex, v, ms, pp, pm, pl, substr(msg, 1, 160)
    }' "$1"
}
# median_of FILE EXERCISE: the median time of one record, or nothing.
median_of() {
    awk -v ex="\"exercise\":\"$2\"" 'index($0, ex) && match($0, /"median_ms":[^,}]*/) { print substr($0, RSTART + 12, RLENGTH - 12) }' "$1" 2>/dev/null | head -n1
}
# ratio NAME BASE_FILE BASE_EX FILE EX TARGET: BASE's time over EX's, against the target.
ratio() {
    local tb te
    tb=$(median_of "$2" "$3") te=$(median_of "$4" "$5")
    if [ -z "$tb" ] || [ -z "$te" ]; then say "  $1: no times ($3: ${tb:-none}, $5: ${te:-none})"; return; fi
    say "  $(awk -v n="$1" -v b="$tb" -v e="$te" -v t="$6" 'BEGIN {
        r = b / e; printf "%s: %.3f ms / %.3f ms = %.2fx (target %.1fx: %s)", n, b, e, r, t, (r >= t ? "met" : "MISSED") }')"
}

nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv >"$OUT/gpu.txt" 2>&1
say "GPU: $(tail -n1 "$OUT/gpu.txt")"

# ---- 1. build (the device decode test compiles meanwhile) ----
for v in "sm_90a arch=compute_90a,code=sm_90a" "ptx80 arch=compute_80,code=compute_80"; do
    set -- $v
    nvcc -std=c++17 -gencode=$2 -I$S -Igrader -Itests/serving -diag-suppress 20011,20014 tests/gpu/quant_decode_test.cu \
        grader/serving_quant.c -o /tmp/s12q-decode-$1 >"$OUT/decode-test-$1-build.log" 2>&1 &
    decode_pids="${decode_pids:-} $!"
done
make -s -j16 ARCH=sm_90a SESSIONS=$S SOLUTION=1 build >"$OUT/build-solution.log" 2>&1
rc_sol=$?
make -s -j16 ARCH=sm_90a SESSIONS=$S build >"$OUT/build-student.log" 2>&1
rc_stu=$?
say "build: solution exit $rc_sol, student exit $rc_stu ($(($(date +%s) - t0)) s)"
if [ $rc_sol -ne 0 ]; then
    tail -n 30 "$OUT/build-solution.log"
    cat "$summary"
    exit 1
fi
# The skeletons with their TODOs done (step 5) build in the background from here: a scratch copy of
# the session's exercise files with 06 and 07 replaced, built as the student variant (SRC=) into its
# own build folder; the grader library is copied from build/ (timestamps kept: make keeps it).
F=build-s12q-filled
scratch=$(mktemp -d)
mkdir -p "$scratch/$S" $F/sm_90a
cp $S/[0-9][0-9]_*.cu "$scratch/$S/"
cp tests/gpu/session12/filled/06_gemv_w4a16.cu tests/gpu/session12/filled/07_gemv_fp8.cu "$scratch/$S/"
rm -rf $F/sm_90a/grader
cp -a $B/grader $F/sm_90a/grader
make -s -j8 ARCH=sm_90a SESSIONS=$S BUILD=$F SRC="$scratch" build >"$OUT/build-filled.log" 2>&1 &
filled_pid=$!
mkdir -p build/roofs
timeout 60 $B/grader/tools/measure-roofs --out build/roofs --if-missing >"$OUT/roofs.log" 2>&1
say "roofs: $(grep -h copy_gbs build/roofs/* 2>/dev/null | head -n1)"
for ex in $EXERCISES; do
    nvcc -O3 -std=c++17 -arch=sm_90a -Xptxas -v -I$S -Igrader -c solutions/$S/$ex.cu -o /tmp/s12q-$ex.o \
        >"$OUT/ptxas-$ex.log" 2>&1
done
say "ptxas (sm_90a): $(grep -h 'registers' "$OUT"/ptxas-*.log | sed 's/ptxas info *: //' | tr '\n' ';')"

# ---- 2. the FP8 decoding on the device ----
wait $decode_pids
for v in sm_90a ptx80; do
    if [ -x /tmp/s12q-decode-$v ]; then
        timeout 30 /tmp/s12q-decode-$v >"$OUT/decode-test-$v.log" 2>&1
        rc=$?
    else
        rc=build
    fi
    say "decode test ($v): exit $rc $(grep -h '^FAIL' "$OUT/decode-test-$v.log" 2>/dev/null | head -n 2) $(grep -h error "$OUT/decode-test-$v-build.log" | head -n 2)"
done

# ---- 3. the solutions, checked and timed, and the BF16 GEMV they are measured against ----
for ex in 01_gemv_bf16 $EXERCISES; do
    want=1; [ $ex = 06_gemv_w4a16 ] && want=2; [ $ex = 01_gemv_bf16 ] && want=4
    rm -f "$OUT/solution-$ex.jsonl"
    timeout 120 $B/solution/$S/check --solution --only $ex --roofs build/roofs --results "$OUT/solution-$ex.jsonl" \
        </dev/null >"$OUT/solution-$ex.log" 2>&1
    rc=$?
    n_pass=$(grep -c '"verdict":"PASS"' "$OUT/solution-$ex.jsonl" 2>/dev/null)
    [ $rc -eq 0 ] && [ "${n_pass:-0}" -eq $want ] && ok=ok || ok=UNEXPECTED
    say "solution $ex: exit $rc, $n_pass PASS records (expected exit 0, $want PASS: $ok)"
    say "$(records "$OUT/solution-$ex.jsonl")"
    [ $ok = ok ] || say "$(grep -E 'FAIL|CRASH|hint' "$OUT/solution-$ex.log" | head -n 4)"
done
say "speed against the session's BF16 GEMV (01_gemv_bf16, same shapes):"
ratio "W4A16 batch 1 (06 vs 01)" "$OUT/solution-01_gemv_bf16.jsonl" 01_gemv_bf16 "$OUT/solution-06_gemv_w4a16.jsonl" 06_gemv_w4a16 3.0
ratio "W4A16 batch 8 (06+batch8 vs 01+batch8)" "$OUT/solution-01_gemv_bf16.jsonl" 01_gemv_bf16+batch8 \
    "$OUT/solution-06_gemv_w4a16.jsonl" 06_gemv_w4a16+batch8 2.0
ratio "FP8 batch 1 (07 vs 01)" "$OUT/solution-01_gemv_bf16.jsonl" 01_gemv_bf16 "$OUT/solution-07_gemv_fp8.jsonl" 07_gemv_fp8 1.8

# ---- 4. the skeletons fail cleanly ----
if [ $rc_stu -eq 0 ]; then
    for ex in $EXERCISES; do
        want=1; [ $ex = 06_gemv_w4a16 ] && want=2
        rm -f "$OUT/skeleton-$ex.jsonl"
        timeout 60 $B/student/$S/check --small --only $ex --results "$OUT/skeleton-$ex.jsonl" \
            </dev/null >"$OUT/skeleton-$ex.log" 2>&1
        rc=$?
        n_fail=$(grep -c '"verdict":"FAIL"' "$OUT/skeleton-$ex.jsonl" 2>/dev/null)
        [ $rc -eq 1 ] && [ "${n_fail:-0}" -eq $want ] && ok=ok || ok=UNEXPECTED
        say "skeleton $ex --small: exit $rc, $n_fail FAIL records (expected exit 1, $want FAIL: $ok)"
        say "$(records "$OUT/skeleton-$ex.jsonl")"
    done
else
    say "skeletons: not run, the student build failed (build-student.log)"
fi

# ---- 5. the skeletons with their TODOs done: the frame is right, and how fast it is ----
wait $filled_pid
rc=$?
rm -rf "$scratch"
say "filled skeletons build: exit $rc"
if [ $rc -eq 0 ]; then
    for ex in $EXERCISES; do
        want=1; [ $ex = 06_gemv_w4a16 ] && want=2
        budget=$(left); [ "$budget" -gt 90 ] && budget=90
        if [ "$budget" -lt 20 ]; then say "filled $ex: skipped, out of time"; continue; fi
        rm -f "$OUT/filled-$ex.jsonl"
        timeout "$budget" $F/sm_90a/student/$S/check --only $ex --roofs build/roofs --results "$OUT/filled-$ex.jsonl" \
            </dev/null >"$OUT/filled-$ex.log" 2>&1
        rc=$?
        n_pass=$(grep -c '"verdict":"PASS"' "$OUT/filled-$ex.jsonl" 2>/dev/null)
        [ $rc -eq 0 ] && [ "${n_pass:-0}" -eq $want ] && ok=ok || ok=UNEXPECTED
        say "filled skeleton $ex: exit $rc, $n_pass PASS records (expected exit 0, $want PASS: $ok)"
        say "$(records "$OUT/filled-$ex.jsonl")"
        [ $ok = ok ] || say "$(grep -E 'FAIL|CRASH|hint' "$OUT/filled-$ex.log" | head -n 4)"
    done
else
    say "$(grep -E 'error' "$OUT/build-filled.log" | head -n 3)"
fi

# sanitize TOOL EXERCISE: compute-sanitizer on a solution at --small, within the budget.
sanitize() {
    local tool=$1 ex=$2 budget rc sums ok
    budget=$(left)
    [ "$budget" -gt 60 ] && budget=60
    if [ "$budget" -lt 15 ]; then say "$tool $ex: skipped, out of time"; return; fi
    timeout "$budget" compute-sanitizer --tool $tool --target-processes all --error-exitcode 99 \
        $B/solution/$S/check --solution --only $ex --small </dev/null >"$OUT/$tool-$ex.log" 2>&1
    rc=$?
    # Each process (the grader forks one per exercise) ends with its own summary line.
    sums=$(grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$OUT/$tool-$ex.log" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
    if [ $rc -eq 0 ] && [ -n "$sums" ] &&
       ! grep -qE "ERROR SUMMARY: [1-9]|\([1-9][0-9]* errors|[1-9][0-9]* hazards? displayed" "$OUT/$tool-$ex.log"
    then ok=ok; else ok=UNEXPECTED; fi
    say "$tool $ex --small: exit $rc ($ok) $sums"
}

# ---- 6. compute-sanitizer: memcheck, then racecheck (shared memory: the copy rings, the warps' sums) ----
if command -v compute-sanitizer >/dev/null; then
    for ex in $EXERCISES; do sanitize memcheck $ex; done
    for ex in $EXERCISES; do sanitize racecheck $ex; done
else
    say "compute-sanitizer: not found, sanitizer runs skipped"
fi

say "total: $(($(date +%s) - t0)) s"
echo "==== summary (also $OUT/summary.txt) ===="
cat "$summary"
