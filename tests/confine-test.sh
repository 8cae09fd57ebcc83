#!/usr/bin/env bash
# The check's own boundary, tested below the source scanner and the object policy: each file in
# tests/cheats-run/ is linked into a check as it is (as if both front layers had missed it) and run
# the way the class grader runs it (--leaderboard, records into a descriptor, --results-fd). The
# CPU cheats pose as session 01's CPU exercise and run anywhere; with --gpu the GPU ones
# (tests/cheats-run/gpu/, posing as session 02's saxpy) run too. Each must get the verdict written
# in its "// expect:" line, the records must be the parent's alone, and nothing may outlive the check.
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
gpu=0
[ "${1:-}" = --gpu ] && gpu=1
arch=sm_80
[ $gpu = 1 ] && arch=$(make --no-print-directory -s print-ARCH)
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
work=build/confine-test
mkdir -p "$work"
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
record=build/$arch/grader/tools/record

# check_with CHEAT SESSION EXERCISE: a check of SESSION whose EXERCISE is the cheat, in $work/NAME/check.
check_with() {
    local cheat=$1 s=$2 ex=$3 name dir objs=()
    name=$(basename "$cheat" .cu)
    dir=$work/$name
    mkdir -p "$dir"
    "$nvcc" -O2 -std=c++17 -gencode=arch=compute_${arch#sm_},code=$arch -I"$s" -Igrader -c "$cheat" -o "$dir/$ex.o" \
        >"$dir/build.log" 2>&1 || return 1
    for o in build/$arch/student/$s/[0-9][0-9]_*.o; do [ "$(basename "$o")" = "$ex.o" ] || objs+=("$o"); done
    "$nvcc" -gencode=arch=compute_${arch#sm_},code=$arch -o "$dir/check" build/$arch/grader/grader.o \
        build/$arch/student/$s/check.o "$dir/$ex.o" "${objs[@]}" -lcublas -lcublasLt >>"$dir/build.log" 2>&1
}

# run_cheat DIR EXERCISE [ARGS...]: the check as the grader runs it; records in DIR/records.
run_cheat() {
    local dir=$1 ex=$2; shift 2
    : >"$dir/records"
    (cd "$dir" && exec timeout -k 5 120 ./check --only "$ex" --leaderboard --time-limit 60 --results-fd 3 "$@" \
        3>>records </dev/null >run.log 2>&1)
}

# the verdict a cheat must get, from its "// expect:" line: one or more names separated by " or "
expected_of() { sed -n 's|^// expect: \([A-Z_]*\( or [A-Z_]*\)*\).*|\1|p' "$1" | head -n 1; }

make --no-print-directory -s ARCH=$arch build/$arch/grader/grader.o build/$arch/grader/tools/record \
    build/$arch/student/ladder/01-gpu-vs-cpu/check build/$arch/student/ladder/02-cuda-model/check >"$work/make.log" 2>&1 ||
    { echo "confine-test: building the checks failed; see $work/make.log"; echo "0 passed, 1 failed"; exit 1; }

cheats=(tests/cheats-run/*.cu)
[ $gpu = 1 ] && cheats+=(tests/cheats-run/gpu/*.cu)
for cheat in "${cheats[@]}"; do
    name=$(basename "$cheat" .cu)
    if [[ $cheat == */gpu/* ]]; then s=ladder/02-cuda-model ex=02_saxpy_grid_stride; else s=ladder/01-gpu-vs-cpu ex=01_matmul_cpu; fi
    want=$(expected_of "$cheat")
    if ! check_with "$cheat" "$s" "$ex"; then result FAIL "$name: builds" "see $work/$name/build.log"; continue; fi
    before=$(date +%s)
    SEED=0x1234 run_cheat "$work/$name" "$ex"
    rc=$?
    got=$("$record" get verdict <"$work/$name/records")
    lines=$(grep -c . "$work/$name/records")
    if [[ " ${want//or/} " == *" $got "* ]] && [ "$lines" = 1 ]; then
        result PASS "$name: $got, one record, written by the check's parent"
    else
        result FAIL "$name: expected $want" "got '${got:-none}' in $lines record(s), exit $rc; see $work/$name/run.log"
    fi
    grep -q forged "$work/$name/records" && result FAIL "$name: no forged record" "$(head -c 300 "$work/$name/records")"
    # Nothing the cheat started is still running.
    sleep 1
    left=$(pgrep -f "$work/$name/check" ; pgrep -f "^./check --only $ex" | grep -v "^$$\$")
    [ -z "$left" ] && result PASS "$name: nothing left running" || { result FAIL "$name: nothing left running" "$left"; pkill -KILL -f "$work/$name/check"; }
    case $name in
        seed_env)
            seed=$("$record" get seed <"$work/$name/records")
            [ -n "$seed" ] && [ "$seed" != 0x1234 ] && result PASS "seed_env: grading ignores SEED (seed $seed)" ||
                result FAIL "seed_env: grading ignores SEED" "seed '$seed'" ;;
        fork_linger)
            grep -q "fork returned -1" "$work/$name/run.log" && result PASS "fork_linger: fork refused in grading" ||
                result FAIL "fork_linger: fork refused in grading" "$(grep cheat: "$work/$name/run.log" | head -n 2)"
            # Outside grading (make check) the fork happens, and the check still reaps the child.
            (cd "$work/$name" && timeout -k 5 120 ./check --only "$ex" --time-limit 60 </dev/null >plain.log 2>&1)
            sleep 1
            left=$(pgrep -f "$work/$name/check"; pgrep -f "^./check --only $ex")
            grep -q "stopped 1 process" "$work/$name/plain.log" && [ -z "$left" ] &&
                result PASS "fork_linger: outside grading the orphan is stopped by the check" ||
                { result FAIL "fork_linger: outside grading the orphan is stopped by the check" "left: $left"; pkill -KILL -f "^./check --only $ex"; } ;;
        ptrace_parent)
            refused=$(grep -cE "cheat: (ptrace attach -1|process_vm_writev -1|open .*mem: |kill\(parent, SIGSTOP\) -1)" "$work/$name/run.log")
            [ "$refused" = 4 ] && result PASS "ptrace_parent: ptrace, process_vm_writev, /proc/PID/mem and kill refused" ||
                result FAIL "ptrace_parent: all four refused" "$(grep cheat: "$work/$name/run.log" | tr '\n' ' ')" ;;
    esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
