#!/usr/bin/env bash
# Tests of the class grader (grader/grade-class.sh) on the sample class in tests/class.
#   grade-test.sh          without a GPU (make test): the verdicts that need none (DISQUALIFIED,
#                          COMPILE_ERROR, NOT_SUBMITTED) and NO-GPU for everything else, even on
#                          a machine that has a GPU (the runs are given no device)
#   grade-test.sh --gpu    on a GPU (make gpu-test): every verdict, end to end
# Each student's folder has expected-verdicts.txt: "exercise  without-GPU  with-GPU" a line; an
# exercise of the graded sessions not listed there must be NOT_SUBMITTED. Also checked: the
# messages, the records' schema (the leaderboard reads them without a warning), isolation when
# run as root, and bad input. Prints a verdict table of what was handed in, PASS/FAIL lines, then
# "N passed, N failed".
# Results stay in build/grade-test/{no-gpu,gpu} (the leaderboard is there too).
set -u
cd "$(dirname "$0")/.."
mode=no-gpu column=2 flags=(--no-gpu)
case "${1:-}" in
    --gpu) mode=gpu column=3 flags=() ;;
    '') ;;
    *) echo "usage: grade-test.sh [--gpu]"; exit 64 ;;
esac
passed=0 failed=0
result() {  # result PASS|FAIL what [detail]
    if [ "$1" = PASS ]; then passed=$((passed + 1)); printf 'PASS  %s\n' "$2"
    else failed=$((failed + 1)); printf 'FAIL  %s  %s\n' "$2" "${3:-}"; fi
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
field() { printf '%s' "$1" | sed -n "s/.*\"$2\":\"\\(\\([^\"\\\\]\\|\\\\.\\)*\\)\".*/\\1/p"; }

class=tests/class
sessions="ladder/01-gpu-vs-cpu ladder/02-cuda-model ladder/03-memory"
out=build/grade-test/$mode
arch=$(make --no-print-directory -s print-ARCH)
[ $mode = no-gpu ] && arch=sm_80
tmp=$(mktemp -d "${TMPDIR:-/tmp}/grade-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ---- grade the sample class ------------------------------------------------------------------------
rm -f "$out"/*.jsonl
timeout 3000 bash grader/grade-class.sh "$class" "$out" --sessions "$sessions" --arch "$arch" --time-limit 60 "${flags[@]}" \
    >"$tmp/grade.log" 2>&1
rc=$?
cp "$tmp/grade.log" "$out/grade.log" 2>/dev/null
if [ $rc = 0 ]; then result PASS "grade-class.sh grades the sample class (log: $out/grade.log)"
else result FAIL "grade-class.sh grades the sample class" "exit $rc: $(tail -n 5 "$tmp/grade.log" | tr '\n' ' ')"; fi

# ---- every verdict -----------------------------------------------------------------------------------
exercises=$(for s in $sessions; do for f in "$s"/[0-9][0-9]_*.cu; do echo "${f%.cu}"; done; done)
printf '\n%-10s %-44s %-15s %-15s\n' student exercise expected got
students=0
for dir in "$class"/*/; do
    name=$(basename "$dir")
    students=$((students + 1))
    if [ ! -f "$dir/expected-verdicts.txt" ]; then result FAIL "$name: has expected-verdicts.txt"; continue; fi
    res=$out/$name.jsonl
    if [ ! -s "$res" ]; then result FAIL "$name: results file $res"; continue; fi
    bad=''
    for ex in $exercises; do
        want=$(awk -v e="$ex" -v c="$column" '!/^#/ && $1 == e {print $c}' "$dir/expected-verdicts.txt")
        want=${want:-NOT_SUBMITTED}
        line=$(grep -F "\"session\":\"${ex%/*}\",\"exercise\":\"${ex##*/}\"" "$res")
        got=$(field "$line" verdict)
        msg=$(field "$line" message)
        [ "$(printf '%s\n' "$line" | grep -c .)" = 1 ] || got="${got:-none} (x$(printf '%s\n' "$line" | grep -c .))"
        # The table shows what was handed in (and anything unexpected), not the rows of NOT_SUBMITTED.
        [ "$want $got" = "NOT_SUBMITTED NOT_SUBMITTED" ] ||
            printf '%-10s %-44s %-15s %-15s %s\n' "$name" "$ex" "$want" "${got:-none}" "$([ "$want" = "$got" ] && echo ok || echo MISMATCH)"
        [ "$want" = "$got" ] || bad+=" $ex: expected $want, got ${got:-none} (${msg:0:120});"
        # Each verdict's message says what happened.
        case "$got" in
            DISQUALIFIED) [[ $msg =~ ^${ex}\.cu:[0-9]+:\ DISQUALIFIED: ]] || bad+=" $ex: DISQUALIFIED without file:line ($msg);" ;;
            COMPILE_ERROR) [[ $msg == *error* ]] || bad+=" $ex: COMPILE_ERROR without the error ($msg);" ;;
            NOT_SUBMITTED) [[ $msg == "not handed in"* ]] || bad+=" $ex: NOT_SUBMITTED message ($msg);" ;;
            NO-GPU) [[ $msg == *"needs a CUDA GPU"* ]] || bad+=" $ex: NO-GPU message ($msg);" ;;
            WRONG|CRASH|TIMEOUT) [ -n "$msg" ] || bad+=" $ex: $got without a message;" ;;
        esac
    done
    [ -z "$bad" ] && result PASS "$name: every verdict as expected" || result FAIL "$name: verdicts" "$bad"
done
[ $students -ge 5 ] && result PASS "the sample class has $students students" || result FAIL "the sample class has at least 5 students"

# Runs got fresh seeds of their own: no two records of a run share one.
seeds=$(cat "$out"/*.jsonl | sed -n 's/.*"seed":"\(0x[0-9a-f]*\)".*/\1/p')
n=$(echo "$seeds" | grep -c .) u=$(echo "$seeds" | sort -u | grep -c .)
[ "$n" -gt 0 ] && [ "$n" = "$u" ] && result PASS "every run has a seed of its own ($n runs)" ||
    result FAIL "every run has a seed of its own" "$n seeds, $u distinct"

# ---- the leaderboard reads the results as they are -------------------------------------------------------
if [ -s "$out/leaderboard/leaderboard.md" ] && ! grep -q 'warning' "$out/leaderboard.log"; then
    result PASS "the leaderboard reads every results file without a warning"
else
    result FAIL "the leaderboard reads every results file without a warning" "$(head -n 3 "$out/leaderboard.log" 2>/dev/null | tr '\n' ' ')"
fi
rank=$(awk '$0 == "## ladder/02-cuda-model" {on = 1; next} /^## / {on = 0} on && /^\| / && /dave/' "$out/leaderboard/leaderboard.md" 2>/dev/null)
[[ $rank == *DISQUALIFIED* ]] && result PASS "the leaderboard shows dave disqualified in ladder/02-cuda-model" ||
    result FAIL "the leaderboard shows dave disqualified in ladder/02-cuda-model" "$rank"

# ---- isolation (as root) -----------------------------------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
    if id -u kwgrader >/dev/null 2>&1 && ! setpriv --reuid=kwgrader --regid=kwgrader --clear-groups test -r "$PWD/solutions" 2>/dev/null &&
       ! setpriv --reuid=kwgrader --regid=kwgrader --clear-groups test -r "$PWD/$class/alice" 2>/dev/null; then
        result PASS "the student's user kwgrader reads neither solutions/ nor the class"
    else
        result FAIL "the student's user kwgrader reads neither solutions/ nor the class"
    fi
    leftover=$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'kwgrade.*' -newer "$tmp" 2>/dev/null | head -n 1)
    [ -z "$leftover" ] && result PASS "no scratch folder left behind" || result FAIL "no scratch folder left behind" "$leftover"
fi

# ---- bad input: one line, non-zero exit --------------------------------------------------------------------
one_line() {  # one_line WHAT COMMAND...: fails with a single line of output and a non-zero exit
    local what=$1; shift
    "$@" >"$tmp/out" 2>&1
    local rc=$? lines
    lines=$(grep -c . "$tmp/out")
    [ $rc -ne 0 ] && [ "$lines" = 1 ] && result PASS "$what: one line, exit $rc" ||
        result FAIL "$what: one line, non-zero exit" "exit $rc, $lines lines: $(head -n 3 "$tmp/out" | tr '\n' ' ')"
}
one_line "a missing class folder" bash grader/grade-class.sh "$tmp/no-such-class" "$tmp/o1" --arch sm_80
mkdir -p "$tmp/empty"
one_line "an empty class folder" bash grader/grade-class.sh "$tmp/empty" "$tmp/o2" --arch sm_80
mkdir -p "$tmp/nothing/alice/notes"
one_line "a class that handed in nothing" bash grader/grade-class.sh "$tmp/nothing" "$tmp/o3" --arch sm_80
one_line "an unknown session" bash grader/grade-class.sh "$class" "$tmp/o4" --arch sm_80 --sessions ladder/99-nothing
one_line "an unknown student" bash grader/grade-class.sh "$class" "$tmp/o5" --arch sm_80 --students nobody
one_line "no arguments" bash grader/grade-class.sh
finish
