#!/usr/bin/env bash
# Session 12's paged-cache exercises on the H200 (03_paged_kv_write, 04_paged_decode, 05_paged_decode_split):
#   1. build the session for sm_90a, solutions and skeletons (make -j16), and the measured roofs;
#   2. the solutions checked at every size and timed (each --only NAME runs NAME and its +variants):
#      expected PASS x 1 (03), x 2 (04, 04+batch1), x 2 (05, 05+batch32), exit 0; targets: 04 at
#      batch 32 x 4096 >= 80% of measured copy, 05 at batch 1 x 32768 >= 70% (04+batch1 far below:
#      why 05 exists);
#   3. the skeletons at --small: expected FAIL for every entry, exit 1, no hang;
#   4. compute-sanitizer memcheck on the three solutions at --small (0 errors);
#   5. the PyTorch yardstick, serving/12-serving/bench_paged_sdpa.py (SDPA over the gathered cache);
#   6. racecheck on 04 and 05 at --small while the budget lasts.
# Everything is logged under $OUT; a short summary is printed at the end (and kept in $OUT/summary.txt).
#   OUT=/some/dir bash tests/gpu/session12/s12-paged.sh        (from the repository root; under 4 minutes)
set -u
cd "$(dirname "$0")/../../.." || exit 1
: "${OUT:?set OUT to an output folder}"
mkdir -p "$OUT"
S=serving/12-serving
B=build/sm_90a
EXERCISES="03_paged_kv_write 04_paged_decode 05_paged_decode_split"
t0=$(date +%s)
left() { echo $((230 - ($(date +%s) - t0))); }   # seconds left of a budget under 4 minutes
summary=$OUT/summary.txt
: >"$summary"
say() { echo "$*" >>"$summary"; }
command -v compute-sanitizer >/dev/null || export PATH=$PATH:/usr/local/cuda/bin

# records FILE: one line per record of a results file: exercise, verdict, time, % of peak, % of the
# yardstick (for these, a cudaMemcpy of the same bytes: % of measured copy), message.
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
        printf "  %-30s %-8s median %s ms  %s%% of peak  %s%% of measured copy  %s%% of copy here  %s\n", ex, v, ms, pp, pm, pl, substr(msg, 1, 160)
    }' "$1"
}

nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv >"$OUT/gpu.txt" 2>&1
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
mkdir -p build/roofs
timeout 60 $B/grader/tools/measure-roofs --out build/roofs --if-missing >"$OUT/roofs.log" 2>&1
say "roofs: $(grep -h copy_gbs build/roofs/* 2>/dev/null | head -n1)"
nvcc -O2 -std=c++17 -arch=sm_90a -Xptxas -v -I$S -Igrader -c solutions/$S/04_paged_decode.cu -o /tmp/s12-04.o \
    >"$OUT/ptxas-04.log" 2>&1
nvcc -O2 -std=c++17 -arch=sm_90a -Xptxas -v -I$S -Igrader -c solutions/$S/05_paged_decode_split.cu -o /tmp/s12-05.o \
    >"$OUT/ptxas-05.log" 2>&1

# ---- 2. the solutions, checked and timed ----
for ex in $EXERCISES; do
    want=2; [ $ex = 03_paged_kv_write ] && want=1
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

# ---- 3. the skeletons fail cleanly ----
if [ $rc_stu -eq 0 ]; then
    for ex in $EXERCISES; do
        want=2; [ $ex = 03_paged_kv_write ] && want=1
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

# ---- 4. compute-sanitizer memcheck on the solutions at --small ----
have_sanitizer=yes
command -v compute-sanitizer >/dev/null || { have_sanitizer=no; say "compute-sanitizer: not found, sanitizer runs skipped"; }
if [ $have_sanitizer = yes ]; then
    for ex in $EXERCISES; do sanitize memcheck $ex; done
fi

# ---- 5. the PyTorch yardstick ----
budget=$(left)
if [ "$budget" -gt 10 ]; then
    timeout "$budget" python3 $S/bench_paged_sdpa.py --out "$OUT" >"$OUT/paged-sdpa.log" 2>&1
    say "bench_paged_sdpa.py: exit $?"
    say "$(cat "$OUT/paged-sdpa.log")"
else
    say "bench_paged_sdpa.py: skipped, out of time"
fi

# ---- 6. racecheck on the shared-memory kernels while the budget lasts ----
if [ $have_sanitizer = yes ]; then
    for ex in 04_paged_decode 05_paged_decode_split; do sanitize racecheck $ex; done
fi

say "total: $(($(date +%s) - t0)) s"
echo "==== summary (also $OUT/summary.txt) ===="
cat "$summary"
