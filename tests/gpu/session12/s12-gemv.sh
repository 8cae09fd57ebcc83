#!/usr/bin/env bash
# Session 12's GEMV exercises (01_gemv_bf16, 02_rmsnorm_qkv) on the GPU, one run under 4 minutes:
#   1. build the session for sm_90a, solutions and skeletons (make -j16);
#   2. the measured roofs (copy, cuBLAS), cached in build/roofs as make bench keeps them;
#   3. the solutions checked and timed: 01 with +wide, +square, +batch8, and 02: expected 5 PASS,
#      exit 0, each with its % of datasheet peak, % of measured copy and % of the library;
#   4. the two skeletons at --small: expected FAIL (01: 4 records, 02: 1), exit 1, no hang;
#   5. compute-sanitizer memcheck on the two solutions at --small: expected 0 errors;
#   6. the board demo (make demo-batching);
#   7. the tuning sweep (tests/gpu/session12/s12-gemv-tune.cu) while the budget lasts: the knobs of both
#      solutions on the bench shapes, one line a variant.
# Everything is logged under $OUT; a short summary is printed at the end (and kept in $OUT/summary.txt).
#   OUT=/some/dir bash tests/gpu/session12/s12-gemv.sh        (from the repository root)
set -u
cd "$(dirname "$0")/../../.." || exit 1
: "${OUT:?set OUT to an output folder}"
mkdir -p "$OUT"
S=serving/12-serving
B=build/sm_90a
ROOFS=build/roofs
t0=$(date +%s)
left() { echo $((230 - ($(date +%s) - t0))); }   # seconds left of a budget under 4 minutes
summary=$OUT/summary.txt
: >"$summary"
say() { echo "$*" >>"$summary"; }
command -v compute-sanitizer >/dev/null || export PATH=$PATH:/usr/local/cuda/bin

# records FILE: one line per record of a results file: verdict, time, % of peak, of measured copy, of the library.
records() {
    [ -s "$1" ] || { echo "  (no records in $(basename "$1"))"; return; }
    awk '
    function field(name,   re, v) {
        re = "\"" name "\":(\"[^\"]*\"|[^,}]*)"
        if (!match($0, re)) return "-"
        v = substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 3)
        gsub(/"/, "", v)
        return v
    }
    {
        printf "  %-22s %-5s %-9s %s ms  peak %s%%  copy %s%%  %s %s ms (%s%%)  %s\n", field("exercise"), field("verdict"),
               field("bench_shape"), field("median_ms"), field("pct_peak"), field("pct_measured_roof"), field("library"),
               field("library_ms"), field("pct_library"), substr(field("message"), 1, 140)
    }' "$1"
}

nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw --format=csv >"$OUT/gpu.txt" 2>&1
say "GPU: $(tail -n1 "$OUT/gpu.txt")"

# ---- 1. build ----
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
# ptxas's registers and spills for the two solutions' kernels, as the build made them.
nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -I$S -Igrader -Xptxas -v -c \
    solutions/$S/01_gemv_bf16.cu -o "$OUT/01.o" >"$OUT/ptxas-01.log" 2>&1
nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -I$S -Igrader -Xptxas -v -c \
    solutions/$S/02_rmsnorm_qkv.cu -o "$OUT/02.o" >"$OUT/ptxas-02.log" 2>&1
rm -f "$OUT/01.o" "$OUT/02.o"

# ---- 2. measured roofs ----
mkdir -p $ROOFS
timeout 90 $B/grader/tools/measure-roofs --out $ROOFS --if-missing >"$OUT/roofs.log" 2>&1
say "roofs: exit $? ($(tr '\n' ' ' <"$OUT/roofs.log" | cut -c1-200))"
cp $ROOFS/*.roofs "$OUT/" 2>/dev/null

# ---- 3. the solutions, checked and timed ----
for ex in 01_gemv_bf16 02_rmsnorm_qkv; do
    want=1; [ $ex = 01_gemv_bf16 ] && want=4
    rm -f "$OUT/solution-$ex.jsonl"
    timeout 120 $B/solution/$S/check --solution --only $ex --roofs $ROOFS --results "$OUT/solution-$ex.jsonl" \
        </dev/null >"$OUT/solution-$ex.log" 2>&1
    rc=$?
    n_pass=$(grep -c '"verdict":"PASS"' "$OUT/solution-$ex.jsonl" 2>/dev/null)
    [ $rc -eq 0 ] && [ "${n_pass:-0}" -eq $want ] && ok=ok || ok=UNEXPECTED
    say "solution $ex: exit $rc, $n_pass PASS records (expected exit 0, $want PASS: $ok)"
    say "$(records "$OUT/solution-$ex.jsonl")"
done

# ---- 4. the skeletons fail cleanly ----
if [ $rc_stu -eq 0 ]; then
    for ex in 01_gemv_bf16 02_rmsnorm_qkv; do
        want=1; [ $ex = 01_gemv_bf16 ] && want=4
        rm -f "$OUT/skeleton-$ex.jsonl"
        timeout 60 $B/student/$S/check --small --only $ex --results "$OUT/skeleton-$ex.jsonl" \
            </dev/null >"$OUT/skeleton-$ex.log" 2>&1
        rc=$?
        n_fail=$(grep -c '"verdict":"FAIL"' "$OUT/skeleton-$ex.jsonl" 2>/dev/null)
        [ $rc -eq 1 ] && [ "${n_fail:-0}" -eq $want ] && ok=ok || ok=UNEXPECTED
        say "skeleton $ex --small: exit $rc, $n_fail FAIL records (expected exit 1, $want FAIL: $ok)"
        say "$(records "$OUT/skeleton-$ex.jsonl" | cut -c1-200)"
    done
else
    say "skeletons: not run, the student build failed (build-student.log)"
fi

# ---- 5. compute-sanitizer memcheck on the solutions at --small ----
if command -v compute-sanitizer >/dev/null; then
    for ex in 01_gemv_bf16 02_rmsnorm_qkv; do
        budget=$(left)
        if [ "$budget" -lt 30 ]; then say "memcheck $ex: skipped, out of time"; continue; fi
        [ "$budget" -gt 60 ] && budget=60
        timeout "$budget" compute-sanitizer --tool memcheck --target-processes all --error-exitcode 99 \
            $B/solution/$S/check --solution --only $ex --small </dev/null >"$OUT/memcheck-$ex.log" 2>&1
        rc=$?
        sums=$(grep -E "ERROR SUMMARY" "$OUT/memcheck-$ex.log" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
        if [ $rc -eq 0 ] && [ -n "$sums" ] && ! grep -qE "ERROR SUMMARY: [1-9]" "$OUT/memcheck-$ex.log"; then ok=ok
        else ok=UNEXPECTED; fi
        say "memcheck $ex --small: exit $rc ($ok) $sums"
    done
else
    say "compute-sanitizer: not found, memcheck skipped"
fi

# ---- 6. the board demo ----
timeout 60 make -s demo-batching </dev/null >"$OUT/demo-batching.log" 2>&1
say "demo-batching: exit $? ($OUT/demo-batching.log)"
say "$(grep -E '^ +[0-9]+ |crossover' "$OUT/demo-batching.log")"

# ---- 7. the tuning sweep, while the budget lasts ----
for e in 1 2; do
    budget=$(left)
    if [ "$budget" -lt 25 ]; then say "tune $e: skipped, out of time"; continue; fi
    if nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -DEX=$e -I$S -Igrader tests/gpu/session12/s12-gemv-tune.cu grader/flush.cu \
        -o "$OUT/tune$e" >"$OUT/tune$e-build.log" 2>&1; then
        timeout "$(left)" "$OUT/tune$e" >"$OUT/tune$e.log" 2>&1
        say "tune $e: exit $? (every line in $OUT/tune$e.log)"
    else
        say "tune $e: the build failed ($(head -c 300 "$OUT/tune$e-build.log"))"
    fi
    rm -f "$OUT/tune$e"
done

say "registers: $(grep -hE 'registers|spill' "$OUT"/ptxas-0[12].log | grep -oE '[0-9]+ registers|[0-9]+ bytes spill stores' |
                  paste -sd' ' | cut -c1-300)"
say "total: $(($(date +%s) - t0)) s"
echo "==== summary (also $OUT/summary.txt) ===="
cat "$summary"
for e in 1 2; do [ -s "$OUT/tune$e.log" ] && { echo "---- tune $e"; cat "$OUT/tune$e.log"; }; done
