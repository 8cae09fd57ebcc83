#!/usr/bin/env bash
# The hints a failing exercise prints, end to end: each file in tests/wrong/ is a known-wrong session-01
# CPU matmul; it is linked into a check of session 01 in place of 01_matmul_cpu and run (on the CPU: no
# GPU needed). It must FAIL, and its "hint:" line must contain the words of the file's first line,
# "// expect hint: WORDS". The solution, linked the same way, must pass without a hint.
# Builds in build/hints-test/ only. Ends with "N passed, N failed"; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/.."
arch=sm_80
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
work=build/hints-test
b=$work/b
s=ladder/01-gpu-vs-cpu
ex=01_matmul_cpu
mkdir -p "$work"
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]

# The grader and the session's check, built from this tree in a folder of our own.
make --no-print-directory -s ARCH=$arch BUILD=$b $b/$arch/grader/grader.o $b/$arch/student/$s/check \
    >"$work/make.log" 2>&1 ||
    { echo "hints-test: building the grader and session 01's check failed; see $work/make.log"; echo "0 passed, 1 failed"; exit 1; }

# check_with FILE NAME: a check of session 01 whose CPU matmul is FILE, in $work/NAME/check.
check_with() {
    local file=$1 name=$2 dir objs=()
    dir=$work/$name
    mkdir -p "$dir"
    "$nvcc" -O2 -std=c++17 -gencode=arch=compute_${arch#sm_},code=$arch -I"$s" -Igrader -c "$file" -o "$dir/$ex.o" \
        >"$dir/build.log" 2>&1 || return 1
    for o in $b/$arch/student/$s/[0-9][0-9]_*.o; do [ "$(basename "$o")" = "$ex.o" ] || objs+=("$o"); done
    "$nvcc" -gencode=arch=compute_${arch#sm_},code=$arch -o "$dir/check" $b/$arch/grader/grader.o \
        $b/$arch/student/$s/check.o "$dir/$ex.o" "${objs[@]}" -lcublas -lcublasLt >>"$dir/build.log" 2>&1
}

# run_check DIR: the CPU exercise alone, at the check sizes, with a fixed seed (the hint must not hang on luck).
run_check() {
    (cd "$1" && SEED=0x1234 exec timeout -k 5 120 ./check --only "$ex" --small --time-limit 60 </dev/null >run.log 2>&1)
}

expected_of() { sed -n '1s|^// expect hint: \(.*\)$|\1|p' "$1"; }

for file in tests/wrong/*.cu; do
    name=$(basename "$file" .cu)
    want=$(expected_of "$file")
    if [ -z "$want" ]; then result FAIL "$name: has an '// expect hint:' first line"; continue; fi
    if ! check_with "$file" "$name"; then result FAIL "$name: builds" "see $work/$name/build.log"; continue; fi
    run_check "$work/$name"
    rc=$?
    log=$work/$name/run.log
    hint=$(sed -n 's/^ *hint: //p' "$log" | head -n 1)
    if ! grep -q ' FAIL ' "$log"; then
        result FAIL "$name: fails" "exit $rc, no FAIL line; see $log"
    elif [[ $hint == *"$want"* ]]; then
        result PASS "$name: hint says '$want'"
    else
        result FAIL "$name: hint says '$want'" "got '${hint:-no hint line}' ($(grep -m1 ' FAIL ' "$log" | sed 's/^ *//' | cut -c1-120))"
    fi
done

# Control: the solution passes and prints no hint.
if check_with solutions/$s/$ex.cu solution; then
    run_check "$work/solution"
    rc=$?
    if [ $rc = 0 ] && ! grep -q 'hint:' "$work/solution/run.log"; then result PASS "solution: passes, no hint"
    else result FAIL "solution: passes, no hint" "exit $rc; see $work/solution/run.log"; fi
else
    result FAIL "solution: builds" "see $work/solution/build.log"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
