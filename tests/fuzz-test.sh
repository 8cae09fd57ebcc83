#!/usr/bin/env bash
# Fuzz tests of the readers of user files, and the crafted files that once broke them:
#   1. every harness tests/fuzz/fuzz_NAME.c built with gcc, ASan and UBSan and tests/fuzz/driver.c
#      (tests/fuzz/fuzz.mk: fuzz-build), replayed on its corpus tests/fuzz/corpus/NAME, then fed
#      FUZZ_SECONDS of random mutations; a crash, a hang or a sanitizer report fails, naming the
#      harness and the input, saved in BUILD/fuzz/crashes/
#   2. crafted files, each refused with its one-line message and a non-zero exit, nothing hanging:
#      plot-bench.sh (names that were gnuplot commands), the mini command (weights whose offsets
#      wrapped, whose header asks for tens of GiB), the results-record reader (a NUL escape, a key
#      twice), the leaderboard (file names that collided, 50k exercises, names that are not names),
#      the roofs cache and bench-table (lines longer than their buffers)
#   3. with clang and its libFuzzer runtime: make fuzz FUZZ=jsonl SECONDS=5
# Environment: BUILD (default build), FUZZ_SECONDS (default 15 per harness), FUZZ_JOBS (default 2:
# harnesses run side by side). Needs gcc with libasan and libubsan; gnuplot-nox for the plot-bench
# test (a SKIP line without it); clang with libFuzzer (Debian: clang, libclang-rt-NN-dev) for 3.
# Prints PASS/FAIL lines and ends with "N passed, N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
root=$PWD
build=${BUILD:-build}
seconds=${FUZZ_SECONDS:-15}
jobs=${FUZZ_JOBS:-2}
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
expect() {  # expect WHAT CONDITION [DETAIL]: PASS when the shell condition holds (evaluated here)
    if eval "$2" >/dev/null 2>&1; then result PASS "$1"; else result FAIL "$1" "${3:-}"; fi
}
lines() { grep -c . "$1"; }   # lines FILE: its non-empty lines
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

mkdir -p "$build/fuzz" || { result FAIL "make $build/fuzz"; finish; }
out=$(cd "$build/fuzz" && pwd)   # absolute: the targets of fuzz.mk are
crashes=$out/crashes
logs=$out/logs
mkdir -p "$crashes" "$logs" || { result FAIL "make $out/logs"; finish; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fuzz_make=(make --no-print-directory -f tests/fuzz/fuzz.mk ROOT="$root" BUILD="$build" CC=gcc)
names=$(ls tests/fuzz/fuzz_*.c 2>/dev/null | sed 's,.*/fuzz_,,; s,\.c$,,')
cflags=(-std=c11 -D_GNU_SOURCE -O1 -g -Igrader)

# ---- the tools of the crafted-file tests, built with gcc alone (no nvcc), beside the harnesses ----
tools=$tmp/tools
mkdir -p "$tools"
cat >"$tmp/roofs-probe.c" <<'EOF'
/* Loads a roofs cache the way the grader does and prints what it got. */
#include <stdio.h>
#include "roofs.h"
int main(int argc, char **argv) {
    gr_measured m;
    if (argc != 2) return 64;
    int ok = gr_measured_load(argv[1], &m);
    printf("%s copy_gbs %g\n", ok ? "loaded" : "refused", m.copy_gbs);
    return ok ? 0 : 1;
}
EOF
mini_src=$(ls finale/mini/engine/*.c | grep -v '/main\.c$')
# jobs_limit: waits until fewer than FUZZ_JOBS background jobs of ours run
jobs_limit() { while [ "$(jobs -pr | wc -l)" -ge "$jobs" ]; do wait -n; done; }
( (
    gcc "${cflags[@]}" grader/tools/bench-table.c grader/jsonl.c -o "$tools/bench-table" -lm &&
    gcc "${cflags[@]}" grader/tools/leaderboard.c grader/jsonl.c -o "$tools/leaderboard" -lm &&
    gcc "${cflags[@]}" "$tmp/roofs-probe.c" grader/roofs.c -o "$tools/roofs-probe" -lm &&
    gcc -std=c11 -O1 finale/mini/engine/*.c -o "$tools/mini" -lm &&
    gcc -std=c11 -O1 -Ifinale/mini/engine tests/mini/write_test_weights.c $mini_src -o "$tools/write" -lm
) >"$logs/tools.log" 2>&1
    echo $? >"$logs/tools.rc"
) &

# ---- 1. the harnesses ----------------------------------------------------------------------------
echo "== fuzz harnesses (gcc, ASan + UBSan, $seconds s of mutations each)"
for n in $names; do   # one make per harness, so that a failure is its own
    jobs_limit
    { "${fuzz_make[@]}" "$out/$n" >"$logs/build-$n.log" 2>&1; echo $? >"$logs/build-$n.rc"; } &
done
wait
built=()
for n in $names; do
    if [ "$(cat "$logs/build-$n.rc")" = 0 ] && [ -x "$out/$n" ]; then built+=("$n"); result PASS "fuzz harness $n builds"
    else result FAIL "fuzz harness $n builds" "$(grep -m1 -E 'error|No rule' "$logs/build-$n.log"); see $logs/build-$n.log"; fi
done

# run NAME: the harness on its corpus (or none), then mutations; its log in $logs/NAME.log
run_harness() {
    local n=$1 corpus=tests/fuzz/corpus/$1
    [ -d "$corpus" ] || { corpus=$tmp/empty-corpus; mkdir -p "$corpus"; }
    timeout -k 5 $((seconds + 120)) "$out/$n" --seconds "$seconds" --timeout 20 --save "$crashes" "$corpus" \
        >"$logs/$n.log" 2>&1
    echo $? >"$logs/$n.rc"
}
for n in "${built[@]}"; do
    jobs_limit
    run_harness "$n" &
done
wait
for n in "${built[@]}"; do
    rc=$(cat "$logs/$n.rc" 2>/dev/null || echo '?')
    summary=$(grep -E "^$n: .* no crash" "$logs/$n.log")
    report=$(grep -m1 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|the time limit|Aborted' "$logs/$n.log")
    saved=$(sed -n 's/^fuzz: the input is saved in //p' "$logs/$n.log" | head -n1)
    if [ "$rc" = 0 ] && [ -n "$summary" ] && [ -z "$report" ]; then
        result PASS "fuzz $n: ${summary#"$n": }"
    elif [ -n "$summary" ] && grep -q 'LeakSanitizer has encountered a fatal error' "$logs/$n.log"; then
        result PASS "fuzz $n: ${summary#"$n": } (the leak check cannot run here)"
    else
        result FAIL "fuzz $n" "exit $rc; ${report:-no report}; input: ${saved:-not saved}; replay: $out/$n --seconds 0 ${saved:-FILE}; log: $logs/$n.log"
    fi
done

# ---- 2. crafted files -------------------------------------------------------------------------------
echo "== crafted files"
if [ "$(cat "$logs/tools.rc" 2>/dev/null)" != 0 ]; then
    result FAIL "the tools of the crafted-file tests build" "see $logs/tools.log"
    finish
fi
T=$tools
one_line() { [ "$(lines "$1")" = 1 ]; }
good=$(sed -n 2p handouts/bench/h100-2026-11-22.jsonl)   # a GPU record of ladder/01-gpu-vs-cpu: 02_vector_add
bench_rec() {  # bench_rec SESSION EXERCISE GPU: a bench record; the three as JSON string text
    printf '{"schema":"kernel-workbook-result/1","session":"%s","exercise":"%s","solution":true,"verdict":"PASS","when":"2026-11-22T06:10:15Z","gpu":"%s","timed":true,"median_ms":1,"pct_peak":50,"pct_measured_roof":55,"pct_library":60}\n' "$1" "$2" "$3"
}

# item 1: plot-bench.sh: the text of a record never becomes a gnuplot command
if command -v gnuplot >/dev/null; then
    pw=$tmp/pwned
    bench=$tmp/evil-bench.jsonl
    {
        bench_rec "ladder/01-x\`touch $pw-1\`" 01_a G
        bench_rec ladder/01-gpu-vs-cpu "a\`touch $pw-2\`" G
        bench_rec "x\\\"; system(\\\"touch $pw-3\\\"); print \\\"" 01_a G
        bench_rec ladder/01-gpu-vs-cpu "b\\nset output \\\"$pw-4\\\"; plot 1" G
        bench_rec ladder/01-gpu-vs-cpu 01_c "G\`touch $pw-5\`\\\" ; system(\\\"touch $pw-6\\\") ; \\\""
        echo "$good"
    } >"$bench"
    plot_out="$tmp/charts \`touch $pw-7\` \"q\""
    timeout 120 env BENCH_TABLE="$T/bench-table" bash grader/plot-bench.sh "$bench" "$plot_out" >"$tmp/plot.out" 2>"$tmp/plot.err"
    rc=$?
    expect "plot-bench: names with backticks, quotes, system() and newlines run nothing" '! ls "$pw"-* 2>/dev/null | grep -q .' \
        "$(ls "$pw"-* 2>/dev/null | tr '\n' ' ')"
    warned=$(grep -c "warning: $bench line [1-4] is malformed" "$tmp/plot.err")
    expect "plot-bench: each of the 4 malformed records named in one warning (got $warned)" '[ "$warned" = 4 ] && [ "$(lines "$tmp/plot.err")" = 4 ]'
    expect "plot-bench: the good records' chart is still drawn (exit $rc)" \
        '[ $rc = 0 ] && head -c 8 "$plot_out/bench-01-gpu-vs-cpu.png" | grep -q PNG'
    expect "plot-bench: a crafted GPU name reaches the chart as plain text" 'grep -q "solutions on G_touch" "$plot_out/bench-01-gpu-vs-cpu.svg"'
else
    echo "SKIP  plot-bench with crafted names: gnuplot is not installed (apt-get install gnuplot-nox)"
fi

# item 2: the mini command on crafted weights files (each value in range, the checksum made right)
weights_refused() {  # weights_refused WHAT WORDS FILE: one line on stderr with WORDS, nothing on stdout, exit 1..123
    timeout 60 "$T/mini" --weights "$3" --tokens 5 >"$tmp/out" 2>"$tmp/err"
    local rc=$? words=$2   # the condition is evaluated inside expect: no $1, $2 there
    expect "$1" '[ $rc -ne 0 ] && [ $rc -lt 124 ] && one_line "$tmp/err" && [ ! -s "$tmp/out" ] && grep -q -- "$words" "$tmp/err"' \
        "exit $rc: $(head -c 300 "$tmp/err")"
}
"$T/write" "$tmp/wrap.bin" small 1 offset:lm_head=0xffffffffffffffc0
weights_refused "mini: a data offset near 2^64 is refused (offset + bytes wrapped: a crash)" \
    "'lm_head' (bytes from 18446744073709551552.* lies outside the file" "$tmp/wrap.bin"
"$T/write" "$tmp/kv.bin" small 1 max_seq=1048576 d_rope=4096
weights_refused "mini: max_seq 2^20 with d_rope 4096 (48 GiB of KV cache) is refused before allocating" \
    "^mini: $tmp/kv.bin: header field max_seq = 1048576 asks for 48 GiB of KV cache (.*); the limit is 4 GiB$" "$tmp/kv.bin"
"$T/write" "$tmp/cache.bin" small 1 n_layers=256 d_latent=16384 max_seq=16384
weights_refused "mini: 256 layers of 16384-wide latents are refused, naming d_latent" \
    "header field d_latent = 16384 asks for 257 GiB of KV cache" "$tmp/cache.bin"
"$T/write" "$tmp/huge.bin" small 1 max_seq=4000000000
weights_refused "mini: max_seq = 4000000000 is refused as written" "config: max_seq = 4000000000 is out of range" "$tmp/huge.bin"
"$T/write" "$tmp/overlap.bin" small 1 offset:layers.0.moe.experts.1.w1=@layers.0.moe.experts.0.w1
weights_refused "mini: two tensors on the same bytes are refused" "overlap" "$tmp/overlap.bin"
weights_refused "mini: /dev/zero is refused at its magic, not read to the end" "bad magic" /dev/zero

# item 3: the results-record reader: a NUL escape must not cut a verdict short, a key not come twice
student() {  # student SESSION EXERCISE [VERDICT]: one record of a student's results file
    printf '{"schema":"kernel-workbook-result/1","session":"%s","exercise":"%s","verdict":"%s","when":"2026-11-22T06:00:00Z","gpu":"G","pct_peak":50}\n' \
        "$1" "$2" "${3:-PASS}"
}
bench_rec ladder/01-gpu-vs-cpu 01_a G | sed 's/"verdict":"PASS"/"verdict":"PASS\\u0000junk"/' >"$tmp/nul.jsonl"
timeout 20 "$T/bench-table" "$tmp/nul.jsonl" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect "jsonl: \"PASS\\u0000junk\" makes the line malformed (bench-table: exit $rc, one warning)" \
    '[ $rc = 1 ] && [ "$(grep -c warning "$tmp/err")" = 1 ] && grep -q "line 1 is malformed (field .verdict.: bad value (a .u escape of a control character" "$tmp/err" && ! grep -q PASS "$tmp/out"' \
    "$(head -c 300 "$tmp/err")"
mkdir -p "$tmp/nulclass"
student ladder/03-memory 01_a 'PASS\u0000junk' >"$tmp/nulclass/mallory.jsonl"
timeout 20 "$T/leaderboard" "$tmp/nulboard" "$tmp/nulclass" >/dev/null 2>"$tmp/err"
rc=$?
expect "jsonl: the leaderboard skips a file whose verdict holds \\u0000 (exit $rc, one warning)" \
    '[ $rc = 1 ] && [ "$(grep -c warning "$tmp/err")" = 1 ] && grep -q "mallory.jsonl skipped: line 1 does not parse" "$tmp/err"' "$(head -c 300 "$tmp/err")"
mkdir -p "$tmp/dupclass"
student ladder/03-memory 01_a 'FAIL","verdict":"PASS' >"$tmp/dupclass/trudy.jsonl"
timeout 20 "$T/leaderboard" "$tmp/dupboard" "$tmp/dupclass" >/dev/null 2>"$tmp/err"
rc=$?
expect "jsonl: a key twice (FAIL to one reader, PASS to another) makes the line malformed (exit $rc)" \
    '[ $rc = 1 ] && [ "$(grep -c warning "$tmp/err")" = 1 ] && grep -q "field .verdict. appears twice" "$tmp/err"' "$(head -c 300 "$tmp/err")"

# item 4: the leaderboard
mkdir -p "$tmp/collide"
{ student ladder/02-x 01_a; student ladder-02-x 01_a; } >"$tmp/collide/alice.jsonl"
LEADERBOARD_GP=/nonexistent timeout 20 "$T/leaderboard" "$tmp/collide-out" "$tmp/collide" >/dev/null 2>&1
rc=$?
expect "leaderboard: ladder/02-x and ladder-02-x get files of their own (exit $rc)" \
    '[ $rc = 0 ] && grep -q "^# ladder/02-x:" "$tmp/collide-out/rank-ladder-02-x.dat" &&
     grep -q "^# ladder-02-x:" "$tmp/collide-out/rank-_ladder-02-x.dat" && [ "$(ls "$tmp/collide-out" | grep -c "\.dat$")" = 4 ]'
mkdir -p "$tmp/many"
awk 'BEGIN { for (i = 0; i < 50000; i++)
    printf "{\"schema\":\"kernel-workbook-result/1\",\"session\":\"ladder/03-memory\",\"exercise\":\"ex_%05d\",\"verdict\":\"PASS\",\"when\":\"2026-11-22T06:00:00Z\",\"pct_peak\":%d}\n", i, 1 + i % 90 }' \
    >"$tmp/many/alice.jsonl"
cp "$tmp/many/alice.jsonl" "$tmp/many/bob.jsonl"
t0=$(now_ms)
LEADERBOARD_GP=/nonexistent timeout 60 "$T/leaderboard" "$tmp/many-out" "$tmp/many" >/dev/null 2>&1
rc=$? ms=$(( $(now_ms) - t0 ))
expect "leaderboard: 2 students x 50000 distinct exercises in under 5 s (exit $rc, $ms ms)" \
    '[ $rc = 0 ] && [ $ms -lt 5000 ] && grep -q "^| 1 | alice | 50000/50000 |" "$tmp/many-out/leaderboard.md"'
mkdir -p "$tmp/sessions"   # each session writes two data files: this one is mostly file creation
awk 'BEGIN { for (i = 0; i < 2000; i++)
    printf "{\"schema\":\"kernel-workbook-result/1\",\"session\":\"s/%04d-x\",\"exercise\":\"01_a\",\"verdict\":\"PASS\",\"when\":\"2026-11-22T06:00:00Z\",\"pct_peak\":5}\n", i }' \
    >"$tmp/sessions/carol.jsonl"
t0=$(now_ms)
LEADERBOARD_GP=/nonexistent timeout 60 "$T/leaderboard" "$tmp/sessions-out" "$tmp/sessions" >/dev/null 2>&1
rc=$? ms=$(( $(now_ms) - t0 ))
expect "leaderboard: 2000 sessions, each with its files, in under 10 s (exit $rc, $ms ms)" \
    '[ $rc = 0 ] && [ $ms -lt 10000 ] && [ -s "$tmp/sessions-out/rank-s-1999-x.dat" ] && [ "$(ls "$tmp/sessions-out" | wc -l)" = 4002 ]'
mkdir -p "$tmp/names"
{
    student ladder/03-memory 01_ok
    student '../../../tmp/escape' 01_a
    student ladder/03-memory 'a\tb'
    student 'ladder/03-memory\nsecond line' 01_a
    student "ladder/$(printf 'x%.0s' $(seq 100))" 01_a
    student 'ladder/0`id`' 01_a
} >"$tmp/names/eve.jsonl"
LEADERBOARD_GP=/nonexistent timeout 20 "$T/leaderboard" "$tmp/names-out" "$tmp/names" >/dev/null 2>"$tmp/err"
rc=$?
expect "leaderboard: 5 records with bad names named in one warning and skipped (exit $rc)" \
    '[ $rc = 0 ] && one_line "$tmp/err" && grep -q "eve.jsonl: 5 records skipped (line 2: the session name holds \"..\")" "$tmp/err"' \
    "$(head -c 300 "$tmp/err")"
expect "leaderboard: ... the good record is ranked, and every file stays in the output folder" \
    'grep -q "^| 1 | eve | 1/1 |" "$tmp/names-out/leaderboard.md" && [ ! -e /tmp/escape ] && [ "$(find "$tmp/names-out" -type f | wc -l)" = 4 ]'

# item 5: a line longer than the reader's buffer is rejected whole, not split into two
{ echo 'copy_gbs 1000'; printf 'measured_on 2026-11-22%240s' ''; echo 'copy_gbs 99999'; } >"$tmp/long.roofs"
timeout 20 "$T/roofs-probe" "$tmp/long.roofs" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect "roofs: a 276-byte line is rejected whole, its tail read as no value (exit $rc, one warning)" \
    '[ $rc = 1 ] && one_line "$tmp/err" && grep -q "long.roofs: line 2 is longer than 255 bytes" "$tmp/err" && grep -q "^refused copy_gbs 0$" "$tmp/out"' \
    "$(cat "$tmp/out" "$tmp/err" | head -c 300)"
{ echo 'copy_gbs 1000'; printf '#%300s' '' | tr ' ' x; echo 'copy_gbs 99999'; } >"$tmp/comment.roofs"
timeout 20 "$T/roofs-probe" "$tmp/comment.roofs" >"$tmp/out" 2>&1
expect "roofs: a long comment is a comment to its end (copy_gbs stays 1000)" 'grep -q "^loaded copy_gbs 1000$" "$tmp/out"'
# fgets into 8192 bytes read the first 8191 as one line and the rest, a record of its own, as the next
{ printf '{"x":"%s' "$(head -c 8185 /dev/zero | tr '\0' a)"; bench_rec evil/01-x 01_a G; echo "$good"; } >"$tmp/long.jsonl"
timeout 20 "$T/bench-table" "$tmp/long.jsonl" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect "bench-table: a line over 8192 bytes is rejected whole, its tail read as no record (exit $rc)" \
    '[ $rc = 1 ] && one_line "$tmp/err" && grep -q "line 1 is malformed (longer than 8192 bytes)" "$tmp/err" &&
     ! grep -q evil "$tmp/out" && grep -q "| ladder/01-gpu-vs-cpu | 02_vector_add |" "$tmp/out"' "$(head -c 300 "$tmp/err")"

# ---- 3. the long run's machinery: libFuzzer -----------------------------------------------------
echo "== libFuzzer"
if ! command -v clang >/dev/null; then
    echo "SKIP  make fuzz: clang is not installed (apt-get install clang)"
else
    if grep -q 'tests/fuzz/fuzz.mk' Makefile; then lf=(make --no-print-directory BUILD="$build" fuzz)
    else lf=("${fuzz_make[@]}" fuzz); fi   # until the top-level Makefile includes fuzz.mk
    timeout 300 "${lf[@]}" FUZZ=jsonl SECONDS=5 >"$logs/libfuzzer.log" 2>&1
    rc=$?
    if grep -q 'no libFuzzer runtime' "$logs/libfuzzer.log"; then
        echo "SKIP  make fuzz: $(grep -m1 'no libFuzzer runtime' "$logs/libfuzzer.log")"
    elif [ $rc = 0 ] && grep -q '^Done [0-9]* runs' "$logs/libfuzzer.log"; then
        result PASS "make fuzz FUZZ=jsonl SECONDS=5: $(grep -m1 '^Done' "$logs/libfuzzer.log")"
    else
        result FAIL "make fuzz FUZZ=jsonl SECONDS=5" "exit $rc; see $logs/libfuzzer.log"
    fi
fi

finish
