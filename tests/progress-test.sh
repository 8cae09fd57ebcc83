#!/usr/bin/env bash
# Tests of what a student runs besides make check: make progress (grader/tools/progress.c) on a
# crafted history in a small made-up workbook, the history kept by keep_progress
# (grader/student.mk), and make watch (grader/watch.sh): its name resolution and its loop, with
# WATCH_CMD standing in for the check. No GPU needed; about 15 s.
# Prints PASS/FAIL lines and ends with "N passed, N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
unset MAKEFLAGS MFLAGS MAKELEVEL SOLUTION   # the caller's make must not steer ours
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
check() {  # check what command...: PASS when the command succeeds
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then result PASS "$what"; else result FAIL "$what"; fi
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
has() { grep -qE -- "$2" "$1"; }          # has FILE REGEX
line_of() { grep -E -- "^  $2 " "$1"; }   # line_of OUTPUT EXERCISE: its row

# BUILD=DIR (make's variable, from the environment) builds the tool elsewhere than build/.
tool=$(make --no-print-directory print-BUILD)/sm_80/grader/tools/progress
tmp=$(mktemp -d "${TMPDIR:-/tmp}/progress-test.XXXXXX")
watch_pid=
trap '[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
if make --no-print-directory ARCH=sm_80 "$tool" >"$tmp/build.log" 2>&1 && [ -x "$tool" ]; then
    result PASS "progress builds"
else
    result FAIL "progress builds" "$(tail -n 5 "$tmp/build.log")"
    finish
fi
if grep -q 'progress.c.*warning' "$tmp/build.log"; then result FAIL "progress compiles without warnings"
else result PASS "progress compiles without warnings"; fi

# ---- a made-up workbook: session order is the NN of the session folder, not its group's name ---
wb=$tmp/wb
for f in z/01-first/01_alpha z/01-first/02_beta a/02-second/01_gamma a/02-second/02_delta a/03-third/01_eps; do
    mkdir -p "$wb/$(dirname "$f")"
    echo "// $f" >"$wb/$f.cu"
    touch "$wb/$(dirname "$f")/check.c"
done
mkdir -p "$wb/a/04-planned" && echo "// no check.c: not a session yet" >"$wb/a/04-planned/01_later.cu"

rec() {  # rec SESSION EXERCISE VERDICT [PCT [WHEN [EXTRA]]]: one record as the check writes it
    local timed=false pct=""
    [ -n "${4:-}" ] && { timed=true; pct=",\"pct_peak\":$4"; }
    printf '{"schema":"kernel-workbook-result/1","session":"%s","exercise":"%s","solution":false,"given":false,"verdict":"%s","message":"size 17: first wrong element out[3]: expected 1, got 0","seed":"0x1","when":"%s","gpu":"NVIDIA H200","timed":%s%s%s}\n' \
        "$1" "$2" "$3" "${5:-2026-12-01T10:00:00Z}" "$timed" "$pct" "${6:-}"
}
history=$tmp/history.jsonl
{
    rec z/01-first 01_alpha FAIL "" 2026-12-01T10:00:00Z
    rec z/01-first 01_alpha PASS 42.5 2026-12-01T10:05:00Z
    rec z/01-first 02_beta PASS 10 2026-12-01T10:01:00Z
    echo 'this line is not JSON'
    rec z/01-first 02_beta FAIL "" 2026-12-01T10:07:00Z
    rec a/02-second 01_gamma PASS 77.25 2026-12-01T10:02:00Z
    rec a/02-second 01_gamma NO_GPU "" 2026-12-02T09:00:00Z             # a machine without a GPU
    rec a/02-second 02_delta PASS 99 2026-12-01T10:03:00Z | sed 's/"solution":false/"solution":true/'
    rec a/02-second 02_delta PASS 99 2026-12-01T10:03:00Z | sed 's/"given":false/"given":true/'
    rec z/01-first 01_alpha MAYBE 50 2026-12-03T10:00:00Z                 # an unknown verdict
    rec a/03-third 01_eps PASS 30 2026-12-01T10:04:00Z
    rec a/03-third 01_eps+causal FAIL "" 2026-12-01T10:04:00Z
    rec z/01-first 09_gone PASS 5                                          # no such exercise now
    rec z/01-first 02_beta PASS 10 | head -c 90; echo                     # a record cut short
    printf '\n'
} >"$history"
out=$tmp/out
"$tool" "$history" "$wb" >"$out" 2>"$tmp/err"
rc=$?
check "progress exits 0 on a history (rc $rc)" test $rc = 0
check "the latest verdict wins: 01_alpha FAIL then PASS is PASS" has <(line_of "$out" 01_alpha) "PASS"
check "the latest verdict wins: 02_beta PASS then FAIL is FAIL" has <(line_of "$out" 02_beta) "FAIL"
check "the percent of peak is shown (01_alpha 42.5%)" has <(line_of "$out" 01_alpha) "42\.5% of peak"
check "when is shown (01_alpha 2026-12-01 10:05 UTC)" has <(line_of "$out" 01_alpha) "2026-12-01 10:05 UTC"
check "NO_GPU does not hide a real verdict: 01_gamma stays PASS, 77.2%" has <(line_of "$out" 01_gamma) "PASS +77\.[23]% of peak"
check "solution and given records are not the student's: 02_delta not tried yet" has <(line_of "$out" 02_delta) "not tried yet$"
check "a failing timing variant fails its file: 01_eps FAIL" has <(line_of "$out" 01_eps) "FAIL"
check "the next exercise is the first not passing, in session order" has "$out" "^Next: z/01-first/02_beta\.cu \(FAIL: size 17"
check "the next exercise says how to check it" has "$out" "make -C z/01-first check +or +make watch EX=02_beta"
check "the count: 2 of 5 exercises pass, 4 tried" has "$out" "^2 of 5 exercises pass, 4 tried\.$"
check "a progress bar: 2 of 5 is 16 of 40 marks" has "$out" "^Progress \[#{16}-{24}\] 2/5$"
check "sessions in the order of their folders' numbers" test "$(grep -nE '^z/01-first$' "$out" | cut -d: -f1)" -lt "$(grep -nE '^a/02-second$' "$out" | cut -d: -f1)"
check "a folder without check.c is not a session" test "$(grep -c 04-planned "$out")" = 0
check "records of exercises not in the workbook are left out" test "$(grep -c 09_gone "$out")" = 0
check "one warning for the malformed lines" test "$(grep -c warning "$tmp/err")" = 1
check "the warning counts them (3) and names the first (line 4)" has "$tmp/err" "3 malformed lines skipped \(first: line 4"
check "warnings go to stderr, not into the report" test "$(grep -c warning "$out")" = 0
check "no 'nothing checked yet' when something was" test "$(grep -ci 'nothing checked yet' "$out")" = 0

# Sessions named on the command line: only those, in that order.
"$tool" "$history" "$wb" a/03-third >"$out" 2>/dev/null
check "named sessions only (a/03-third)" test "$(grep -cE '^(z|a)/' "$out")" = 1
check "named sessions: its next exercise" has "$out" "^Next: a/03-third/01_eps\.cu"

# Everything passing.
{ rec z/01-first 01_alpha PASS 1; rec z/01-first 02_beta PASS 2; rec a/02-second 01_gamma PASS 3
  rec a/02-second 02_delta PASS 4; rec a/03-third 01_eps PASS 5; rec a/03-third 01_eps+causal PASS 6; } >"$tmp/all.jsonl"
"$tool" "$tmp/all.jsonl" "$wb" >"$out" 2>&1
check "every exercise passing is said, with no Next" eval 'has "$out" "^Every exercise passes" && ! has "$out" "^Next:"'

# ---- histories that say nothing, or are hostile ---------------------------------------------------
: >"$tmp/empty.jsonl"
for h in "$tmp/empty.jsonl" "$tmp/missing.jsonl"; do
    what=$([ -e "$h" ] && echo "n empty" || echo " missing")
    "$tool" "$h" "$wb" >"$out" 2>&1
    rc=$?
    check "a$what history: exit 0 (rc $rc)" test $rc = 0
    check "a$what history says nothing checked yet" has "$out" "^Nothing checked yet"
    check "a$what history: every exercise not tried yet" test "$(grep -c 'not tried yet$' "$out")" = 5
    check "a$what history: next is the first exercise" has "$out" "^Next: z/01-first/01_alpha\.cu$"
    check "a$what history: no warning" test "$(grep -c warning "$out")" = 0
done

head -c 1048576 /dev/zero | tr '\0' 'x' >"$tmp/long.jsonl"   # one 1 MB line, no newline
start=$(date +%s)
timeout 10 "$tool" "$tmp/long.jsonl" "$wb" >"$out" 2>&1
rc=$?
check "a history of one 1 MB line ends at once (rc $rc, $(( $(date +%s) - start )) s)" test $rc = 0
check "the 1 MB line is warned about, once" test "$(grep -c 'warning.*1 malformed line skipped (first: line 1, longer than 64 KiB' "$out")" = 1
check "the 1 MB line: nothing checked yet" has "$out" "^Nothing checked yet"
{ head -c 1048576 /dev/zero | tr '\0' '{'; echo; rec z/01-first 01_alpha PASS 12; } >"$tmp/long2.jsonl"
timeout 10 "$tool" "$tmp/long2.jsonl" "$wb" >"$out" 2>&1
check "a record after a 1 MB line is still read" has <(line_of "$out" 01_alpha) "PASS +12\.0% of peak"
{ rec z/01-first 01_alpha PASS 12 | tr 'P' '\0'; rec z/01-first 02_beta PASS 3; } >"$tmp/nul.jsonl"
"$tool" "$tmp/nul.jsonl" "$wb" >"$out" 2>&1
check "a line holding a NUL byte is skipped with a warning" eval 'has "$out" "1 malformed line skipped" && has <(line_of "$out" 01_alpha) "not tried yet" && has <(line_of "$out" 02_beta) PASS'
"$tool" "$tmp" "$wb" >"$out" 2>&1
rc=$?
check "a folder as history: exit 1 in one line (rc $rc)" eval 'test $rc = 1 && test "$(grep -c . "$out")" = 1'
"$tool" "$history" "$tmp/nowhere" >"$out" 2>&1
rc=$?
check "a workbook without exercises: exit 1 in one line (rc $rc)" eval 'test $rc = 1 && test "$(grep -c . "$out")" = 1'
"$tool" >/dev/null 2>&1
check "no arguments: usage, exit 64" test $? = 64

# ---- keep_progress: the history make check keeps -------------------------------------------------
# The Makefile includes grader/student.mk once its include line is in; until then the test adds it.
mk=(make --no-print-directory -f Makefile)
[ -n "$(make --no-print-directory print-PROGRESS_HISTORY 2>/dev/null)" ] || mk+=(-f grader/student.mk)
printf 'keep:\n\t@$(call keep_progress,$(RESULTS)); echo kept\n' >"$tmp/keep.mk"
mk+=(-f "$tmp/keep.mk" PROGRESS_HISTORY="$tmp/kept/history.jsonl")
rec z/01-first 01_alpha PASS 1 >"$tmp/results.jsonl"
"${mk[@]}" RESULTS="$tmp/results.jsonl" keep >/dev/null 2>&1
"${mk[@]}" RESULTS="$tmp/results.jsonl" keep >/dev/null 2>&1
check "keep_progress appends each check's results to the history" test "$(wc -l <"$tmp/kept/history.jsonl")" = 2
"${mk[@]}" RESULTS="$tmp/results.jsonl" SOLUTION=1 keep >/dev/null 2>&1
check "keep_progress keeps nothing of a SOLUTION=1 run" test "$(wc -l <"$tmp/kept/history.jsonl")" = 2
"${mk[@]}" RESULTS="$tmp/none.jsonl" keep >"$out" 2>&1
check "keep_progress: no results file, nothing kept, no noise" eval 'test "$(wc -l <"$tmp/kept/history.jsonl")" = 2 && test "$(cat "$out")" = kept'
"${mk[@]}" RESULTS="$tmp/results.jsonl" PROGRESS_HISTORY=/proc/no/such/history.jsonl keep >"$out" 2>&1
rc=$?
check "keep_progress: a history it can't write warns in one line and fails nothing" eval 'test $rc = 0 && has "$out" "^warning: could not keep" && test "$(grep -c . "$out")" = 2'

# ---- make watch: which file -------------------------------------------------------------------------
watch_try() { WORKBOOK_ROOT=$wb WATCH_POLL=1 WATCH_CMD='echo run >>"$COUNT"' timeout 5 bash grader/watch.sh "$@"; }
mkdir -p "$wb/b/05-fifth" && touch "$wb/b/05-fifth/check.c" && echo "// twin name" >"$wb/b/05-fifth/01_alpha.cu"
refused() {  # refused what REGEX NAME [SESSION...]: one line matching REGEX, exit 64
    local what=$1 re=$2; shift 2
    watch_try "$@" >"$out" 2>&1
    local rc=$?
    if [ $rc = 64 ] && [ "$(grep -c . "$out")" = 1 ] && has "$out" "$re"; then result PASS "watch: $what refused in one line"
    else result FAIL "watch: $what refused in one line" "rc $rc: $(head -c 300 "$out")"; fi
}
refused "an unknown name" "no exercise named 'nope'" nope
refused "a name in two sessions" "01_alpha is in 2 sessions .*give its path" 01_alpha
refused "a beginning several exercises share" "'0' could be [0-9]+ exercises .*give more of the name" 0
refused "no name" "say which exercise" ""
refused "a file outside the sessions" "not an exercise file" "$wb/a/04-planned/01_later.cu"
refused "a name of another session than the ones named" "no exercise named '02_beta'" 02_beta a/02-second

# ---- make watch: the loop ----------------------------------------------------------------------------
# Started in the background on a scratch workbook with WATCH_CMD counting its runs: one run at the
# start, one per save (a touch, then a save by rename as editors do), none while nothing changes.
runs() { [ -f "$COUNT" ] && wc -l <"$COUNT" || echo 0; }
wait_runs() {  # wait_runs N: up to 4 s for the count to reach N
    for _ in $(seq 40); do [ "$(runs)" -ge "$1" ] && return 0; sleep 0.1; done; return 1
}
loop_test() {  # loop_test MODE(poll|inotify)
    local mode=$1 file=$wb/a/02-second/02_delta.cu first idle second third after rc
    export COUNT=$tmp/count-$mode
    rm -f "$COUNT"
    WORKBOOK_ROOT=$wb WATCH_POLL=$([ "$mode" = poll ] && echo 1 || echo 0) WATCH_CMD='echo "$WATCH_EXERCISE" >>"$COUNT"' \
        bash grader/watch.sh 02_del a/02-second >"$tmp/watch-$mode.log" 2>&1 &
    watch_pid=$!
    wait_runs 1; first=$(runs)
    sleep 1.5; idle=$(runs)
    touch "$file"; wait_runs 2; second=$(runs)
    cp "$file" "$file.new" && echo "// saved" >>"$file.new" && mv "$file.new" "$file"
    wait_runs 3; third=$(runs)
    sleep 1.5; after=$(runs)
    kill -TERM "$watch_pid"; wait "$watch_pid" 2>/dev/null; rc=$?
    watch_pid=
    check "watch ($mode): one run at the start, of the exercise found by its beginning" eval '[ "$first" = 1 ] && [ "$(head -n1 "$COUNT")" = 02_delta ]'
    check "watch ($mode): no run while nothing changes" test "$idle" = 1
    check "watch ($mode): a touch runs the check again" test "$second" = 2
    check "watch ($mode): a save by rename runs it again" test "$third" = 3
    check "watch ($mode): three runs in all" test "$after" = 3
    check "watch ($mode): a signal stops it cleanly (rc $rc)" eval '[ $rc = 0 ] && has "$tmp/watch-$mode.log" "make watch: stopped"'
}
loop_test poll
if command -v inotifywait >/dev/null; then loop_test inotify
else echo "SKIP  watch (inotify): inotifywait is not installed (Debian: inotify-tools)"; fi
finish
