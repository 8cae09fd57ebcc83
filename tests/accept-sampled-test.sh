#!/usr/bin/env bash
# Session 14's sampled accept (04_accept+sampled) without a GPU: the solution's per-sequence rule,
# run on the host, reproduces the target's distribution (chi-square, fixed seed) and the grader's
# float64 reference on the check's own inputs: tests/finale/accept_sampled_test.cu. Links the
# grader library of $BUILD (default build), made here for sm_80 when missing.
# Builds in $BUILD/accept-sampled-test/ only. Ends with "N passed, N failed"; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/.."
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
build=${BUILD:-build}
work=$build/accept-sampled-test
mkdir -p "$work"
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]

lib=$build/sm_80/grader/libgrader.a
if ! make --no-print-directory -s BUILD="$build" ARCH=sm_80 "$lib" >"$work/lib.log" 2>&1; then
    result FAIL "the grader library builds ($lib)" "$(tail -n 3 "$work/lib.log" | tr '\n' ' ')"
elif gcc -std=c11 -O2 -D_GNU_SOURCE -Igrader -I"$(dirname "$(command -v nvcc)")/../include" -Itests/finale \
        -c tests/finale/sampled_inputs.c -o "$work/sampled_inputs.o" >"$work/build.log" 2>&1 &&
     nvcc -std=c++17 -O2 -gencode=arch=compute_80,code=sm_80 -Ifinale/14-deepseek -Igrader -Itests/finale \
        tests/finale/accept_sampled_test.cu "$work/sampled_inputs.o" "$lib" -lcublas -lcublasLt \
        -o "$work/accept_sampled_test" >>"$work/build.log" 2>&1; then
    result PASS "tests/finale/accept_sampled_test.cu builds"
    relay "$work/accept_sampled_test" "$work/run.log" "accept_sampled_test"
else
    result FAIL "tests/finale/accept_sampled_test.cu builds" "$(grep -m 3 -i error "$work/build.log" | tr '\n' ' ')"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
