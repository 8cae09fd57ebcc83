#!/usr/bin/env bash
# make check as a student meets it, in a copy of the workbook without solutions:
#   - a file that does not compile is its exercise's COMPILE_ERROR (with the compiler's error line),
#     and the session's other exercises are still graded;
#   - a deleted exercise file says which file and how to get it back;
#   - without a GPU, the CPU exercises are graded and "no usable CUDA GPU" is said once; a session
#     of GPU exercises only says in one line that nothing could be graded, and exits 2;
#   - a CPU exercise that never ends at 1x1x1 is stopped after 10 s, naming the size;
#   - what an exercise prints is capped, and printing while timed is said;
#   - TIME_LIMIT= reaches the check.
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
work=$(mktemp -d "${TMPDIR:-/tmp}/check-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
git ls-files -z Makefile grader ladder/01-gpu-vs-cpu ladder/02-cuda-model | xargs -0 -I{} cp --parents {} "$work/"
s=ladder/01-gpu-vs-cpu
cd "$work"
make=(make --no-print-directory -s ARCH=sm_80 SESSIONS=$s)

# A syntax error in 02, 03 deleted, the CPU exercise solved.
echo 'this is not C' >>"$s/02_vector_add.cu"
rm "$s/03_matmul_naive.cu"
cp "$OLDPWD/solutions/$s/01_matmul_cpu.cu" "$s/"
out=$(timeout 900 "${make[@]}" check 2>&1)
rc=$?
rec=build/sm_80/student/results.jsonl
tool=build/sm_80/grader/tools/record
verdict() { grep -F "\"exercise\":\"$1\"" "$rec" | "$tool" get verdict; }
message() { grep -F "\"exercise\":\"$1\"" "$rec" | "$tool" get message; }
[ $rc != 0 ] && [ "$(verdict 02_vector_add)" = COMPILE_ERROR ] && [[ $(message 02_vector_add) == *error* ]] &&
    result PASS "a file that does not compile: COMPILE_ERROR with the error line" ||
    result FAIL "a file that does not compile: COMPILE_ERROR with the error line" "exit $rc, $(verdict 02_vector_add): $(message 02_vector_add)"
[[ $(message 03_matmul_naive) == *"is missing"*"git checkout"* ]] && [ "$(verdict 03_matmul_naive)" = COMPILE_ERROR ] &&
    result PASS "a deleted file: says which and how to get it back" ||
    result FAIL "a deleted file: says which and how to get it back" "$(verdict 03_matmul_naive): $(message 03_matmul_naive)"
want=PASS
[ "$(verdict 01_matmul_cpu)" = "$want" ] && result PASS "the session's other exercise is still graded ($want)" ||
    result FAIL "the session's other exercise is still graded" "got '$(verdict 01_matmul_cpu)'"
if ! nvidia-smi >/dev/null 2>&1; then
    n=$(printf '%s\n' "$out" | grep -c "no usable CUDA GPU")
    [ "$n" = 1 ] && result PASS "without a GPU: said once" || result FAIL "without a GPU: said once" "said $n times"
    printf '%s\n' "$out" | grep -q "NO_GPU" && result FAIL "without a GPU: no NO_GPU rows" || result PASS "without a GPU: no NO_GPU rows"
    # A session of GPU exercises only: nothing to grade here, said in one line, exit 2 (the machine's
    # verdict), not "no results were written".
    gpu_only=$(timeout 900 make --no-print-directory -s ARCH=sm_80 SESSIONS=ladder/02-cuda-model check 2>&1)
    gpu_rc=$?
    [ $gpu_rc = 2 ] && [[ $gpu_only == *"every exercise here needs a CUDA GPU"* ]] && [[ $gpu_only != *"no results"* ]] &&
        result PASS "without a GPU, a session of GPU exercises only: one line, exit 2" ||
        result FAIL "without a GPU, a session of GPU exercises only: one line, exit 2" "exit $gpu_rc: $(printf '%s' "$gpu_only" | tail -n 2)"
fi

# A CPU exercise that never ends: stopped at 1x1x1 after 10 s, with the size named.
cat >"$s/01_matmul_cpu.cu" <<'EOF'
#include "exercises.h"
void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j += 0) C[(long)i * N + j] = A[0] * B[0] * (float)K;
}
EOF
start=$(date +%s)
"${make[@]}" check >/dev/null 2>&1
took=$(( $(date +%s) - start ))
[ "$(verdict 01_matmul_cpu)" = TIMEOUT ] && [[ $(message 01_matmul_cpu) == *"at size 1x1x1"* ]] && [ $took -lt 60 ] &&
    result PASS "an endless loop at 1x1x1: TIMEOUT naming the size, in $took s" ||
    result FAIL "an endless loop at 1x1x1: TIMEOUT naming the size, well under 120 s" "$(verdict 01_matmul_cpu) after $took s: $(message 01_matmul_cpu)"

# TIME_LIMIT= reaches the check: 1 s for the whole exercise.
# right_product LINE_IN_LOOP LINE_AFTER: a correct CPU product with one line added in its loop
# over (i, j) and one after it.
right_product() {
    cat >"$s/01_matmul_cpu.cu" <<EOF
#include <stdio.h>
#include "exercises.h"
void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = 0;
            for (int k = 0; k < K; k++) s += A[(long)i * K + k] * B[(long)k * N + j];
            C[(long)i * N + j] = s;
            $1
        }
    $2
}
EOF
}
right_product "" 'if (M > 500) for (volatile long spin = 0; spin >= 0; spin++) {}'
"${make[@]}" check TIME_LIMIT=3 >/dev/null 2>&1
[ "$(verdict 01_matmul_cpu)" = TIMEOUT ] && [[ $(message 01_matmul_cpu) == *"after 3 s"* ]] &&
    result PASS "TIME_LIMIT=3 reaches the check" || result FAIL "TIME_LIMIT=3 reaches the check" "$(message 01_matmul_cpu)"

# Printing: capped on the terminal, counted, and said when it happened while timed.
right_product 'printf("C[%d][%d] = %f\n", i, j, s);' ''
out=$(timeout 300 "${make[@]}" check 2>&1)
shown=$(printf '%s\n' "$out" | grep -c '^   | C\[')
[ "$shown" -le 20 ] && printf '%s\n' "$out" | grep -q "more line(s) the exercise printed, not shown" &&
    result PASS "an exercise's printing is capped ($shown lines shown) and counted" ||
    result FAIL "an exercise's printing is capped and counted" "$shown lines shown"
printf '%s\n' "$out" | grep -q "printed .* bytes while being timed" && [[ $(message 01_matmul_cpu) == *"while being timed"* ]] &&
    result PASS "printing while timed is said, on the terminal and in the record" ||
    result FAIL "printing while timed is said" "$(message 01_matmul_cpu)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
