#!/usr/bin/env bash
# Tests of the class grader (grader/grade-class.sh) on the sample class in tests/class.
#   grade-test.sh          without a GPU (make test): the verdicts that need none (DISQUALIFIED,
#                          COMPILE_ERROR, NOT_SUBMITTED) and NO_GPU for everything else, even on
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
class=tests/class
while [ $# -gt 0 ]; do
    case "$1" in
        --gpu) mode=gpu column=3 flags=() ;;
        tests/*) class=${1%/} ;;
        *) echo "usage: grade-test.sh [--gpu] [CLASS_DIR]"; exit 64 ;;
    esac
    shift
done
sample=0; [ "$class" = tests/class ] && sample=1
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
field() { printf '%s\n' "$1" | "$record_tool" get "$2"; }

sessions="ladder/01-gpu-vs-cpu ladder/02-cuda-model ladder/03-memory"
[ -f "$class/SESSIONS" ] && sessions=$(grep -v "^#" "$class/SESSIONS")   # a class of other sessions names them
out=build/grade-test/$(basename "$class")-$mode
arch=$(make --no-print-directory -s print-ARCH)
[ $mode = no-gpu ] && arch=sm_80
record_tool=build/$arch/grader/tools/record
tmp=$(mktemp -d "${TMPDIR:-/tmp}/grade-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ---- grade the sample class ------------------------------------------------------------------------
rm -f "$out"/*.jsonl
# 60 s an exercise (the hostile class's endless loops end sooner), or the class's own TIME_LIMIT
# (a class of 8192^3 GEMMs: leaderboard mode checks each timed repetition on the CPU).
limit=60
[ -f "$class/TIME_LIMIT" ] && limit=$(grep -v "^#" "$class/TIME_LIMIT" | head -n 1)
timeout 3000 bash grader/grade-class.sh "$class" "$out" --sessions "$sessions" --arch "$arch" --time-limit "$limit" "${flags[@]}" \
    >"$tmp/grade.log" 2>&1
rc=$?
cp "$tmp/grade.log" "$out/grade.log" 2>/dev/null
if [ $rc = 0 ]; then result PASS "grade-class.sh grades the sample class (log: $out/grade.log)"
else result FAIL "grade-class.sh grades the sample class" "exit $rc: $(tail -n 5 "$tmp/grade.log" | tr '\n' ' ')"; fi

# ---- every verdict -----------------------------------------------------------------------------------
exercises=$(for s in $sessions; do for f in "$s"/[0-9][0-9]_*.cu "$s"/[0-9][0-9]_*.py; do [ -f "$f" ] && echo "${f%.*}"; done; done)
printf '\n%-10s %-44s %-15s %-15s\n' student exercise expected got
students=0
for dir in "$class"/*/; do
    name=$(basename "$dir")
    if [ -L "${dir%/}" ]; then   # a student folder that is a link is not graded
        [ -e "$out/$name.jsonl" ] && result FAIL "$name (a link to a folder): not graded" "$out/$name.jsonl exists" ||
            result PASS "$name (a link to a folder): not graded"
        grep -q "skipped '$name'" "$out/grade.log" && result PASS "$name: the skip is said in one line" ||
            result FAIL "$name: the skip is said in one line"
        continue
    fi
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
            # the scanner and the object policy name the file; the check names the size it ran at
            DISQUALIFIED) [[ $msg =~ ^${ex}\.(cu|py)(:[0-9]+)?:\ DISQUALIFIED: ]] || [[ $msg =~ ^size\ [0-9x]+:\  ]] ||
                bad+=" $ex: DISQUALIFIED without the file or size and the reason ($msg);" ;;
            COMPILE_ERROR) [[ $msg == *error* ]] || bad+=" $ex: COMPILE_ERROR without the error ($msg);" ;;
            NOT_SUBMITTED) [[ $msg == "not handed in"* ]] || bad+=" $ex: NOT_SUBMITTED message ($msg);" ;;
            NO_GPU) [[ $msg == *"needs a CUDA GPU"* ]] || bad+=" $ex: NO_GPU message ($msg);" ;;
            FAIL|CRASH|TIMEOUT) [ -n "$msg" ] || bad+=" $ex: $got without a message;" ;;
        esac
    done
    [ -z "$bad" ] && result PASS "$name: every verdict as expected" || result FAIL "$name: verdicts" "$bad"
done
[ $students -ge 5 ] && result PASS "the class has $students students" || result FAIL "the class has at least 5 students"

# Runs got fresh seeds of their own: no two records of a run share one.
seeds=$(cat "$out"/*.jsonl | sed -n 's/.*"seed":"\(0x[0-9a-f]*\)".*/\1/p')
n=$(echo "$seeds" | grep -c .) u=$(echo "$seeds" | sort -u | grep -c .)
[ "$n" = "$u" ] && result PASS "every run has a seed of its own ($n runs)" ||
    result FAIL "every run has a seed of its own" "$n seeds, $u distinct"

# ---- the leaderboard reads the results as they are -------------------------------------------------------
if [ -s "$out/leaderboard/leaderboard.md" ] && ! grep -q 'warning' "$out/leaderboard.log"; then
    result PASS "the leaderboard reads every results file without a warning"
else
    result FAIL "the leaderboard reads every results file without a warning" "$(head -n 3 "$out/leaderboard.log" 2>/dev/null | tr '\n' ' ')"
fi
if [ $sample = 1 ]; then
    rank=$(awk '$0 == "## ladder/02-cuda-model" {on = 1; next} /^## / {on = 0} on && /^\| / && /dave/' "$out/leaderboard/leaderboard.md" 2>/dev/null)
    [[ $rank == *DISQUALIFIED* ]] && result PASS "the leaderboard shows dave disqualified in ladder/02-cuda-model" ||
        result FAIL "the leaderboard shows dave disqualified in ladder/02-cuda-model" "$rank"
fi

# ---- isolation (as root) -----------------------------------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
    if id -u kwgrader1 >/dev/null 2>&1 && ! setpriv --reuid=kwgrader1 --regid=kwgrader1 --clear-groups test -r "$PWD/solutions" 2>/dev/null &&
       ! setpriv --reuid=kwgrader1 --regid=kwgrader1 --clear-groups test -r "$PWD/$class/alice" 2>/dev/null; then
        result PASS "the student's user kwgrader1 reads neither solutions/ nor the class"
    else
        result FAIL "the student's user kwgrader1 reads neither solutions/ nor the class"
    fi
    # Nothing of any grading user is still running.
    stray=$(for u in $(getent passwd | cut -d: -f1 | grep '^kwgrader[0-9]'); do pgrep -U "$u"; done)
    [ -z "$stray" ] && result PASS "no process of a grading user is left" || result FAIL "no process of a grading user is left" "$stray"
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
[ $sample = 0 ] || finish

# ---- hostile input to the class grader itself -------------------------------------------------------------
# OUT inside CLASS, CLASS inside OUT, and the same folder: refused before anything is touched.
mkdir -p "$tmp/nest/alice/ladder/02-cuda-model"
cp tests/class/alice/ladder/02-cuda-model/02_saxpy_grid_stride.cu "$tmp/nest/alice/ladder/02-cuda-model/"
one_line "OUT inside CLASS" bash grader/grade-class.sh "$tmp/nest" "$tmp/nest/results" --arch sm_80
one_line "CLASS inside OUT" bash grader/grade-class.sh "$tmp/nest" "$tmp" --arch sm_80
one_line "OUT the same as CLASS" bash grader/grade-class.sh "$tmp/nest" "$tmp/nest" --arch sm_80
[ -f "$tmp/nest/alice/ladder/02-cuda-model/02_saxpy_grid_stride.cu" ] && result PASS "no submission lost to an overlap" ||
    result FAIL "no submission lost to an overlap"
# A class whose path holds '|' and a 50 MB file: graded, the big file DISQUALIFIED with a reason.
odd="$tmp/odd|class"
mkdir -p "$odd/bigfile/ladder/02-cuda-model" "$odd/alice/ladder/02-cuda-model"
cp tests/class/alice/ladder/02-cuda-model/02_saxpy_grid_stride.cu "$odd/alice/ladder/02-cuda-model/"
{ cat tests/class/alice/ladder/02-cuda-model/02_saxpy_grid_stride.cu; head -c 50000000 /dev/zero | tr '\0' '/'; } \
    >"$odd/bigfile/ladder/02-cuda-model/02_saxpy_grid_stride.cu"
timeout 900 bash grader/grade-class.sh "$odd" "$tmp/odd-out" --sessions ladder/02-cuda-model --arch "$arch" --time-limit 60 "${flags[@]}" \
    >"$tmp/odd.log" 2>&1
rc=$?
big=$(grep -F '"exercise":"02_saxpy_grid_stride"' "$tmp/odd-out/bigfile.jsonl" 2>/dev/null)
v=$(field "$big" verdict) m=$(field "$big" message)
[ $rc = 0 ] && [ "$v" = DISQUALIFIED ] && [[ $m == *MiB* ]] && result PASS "a 50 MB file: DISQUALIFIED, saying its size" ||
    result FAIL "a 50 MB file: DISQUALIFIED, saying its size" "exit $rc, $v: $m"
v=$(field "$(grep -F '"exercise":"02_saxpy_grid_stride"' "$tmp/odd-out/alice.jsonl" 2>/dev/null)" verdict)
want=NO_GPU; [ $mode = gpu ] && want=PASS
[ "$v" = "$want" ] && result PASS "a class folder whose path holds '|': graded ($v)" ||
    result FAIL "a class folder whose path holds '|': graded" "got '$v' (log: $(tail -n 3 "$tmp/odd.log" | tr '\n' ' '))"
# A results file replaced by a link to /dev/zero does not hang the report.
ln -sf /dev/zero "$tmp/odd-out/zero.jsonl"
timeout 60 bash grader/grade-class.sh --report "$tmp/odd-out" --arch "$arch" >"$tmp/report.log" 2>&1
rc=$?
[ $rc != 124 ] && result PASS "a results file that is a link to /dev/zero does not hang the report (exit $rc)" ||
    result FAIL "a results file that is a link to /dev/zero does not hang the report"
finish
