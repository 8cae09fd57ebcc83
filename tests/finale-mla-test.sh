#!/usr/bin/env bash
# Session 14's MLA decode (01) without a GPU: the grader's counts, the solution's ldmatrix addresses
# and mma loops with the tensor-core product emulated, and the solution's per-row maths run tile by
# tile and split by split on the grader's own inputs against its float64 reference at every check
# shape, and the grader's traps (tests/finale/mla_emulate_test.cu); then the Hopper kernel for <= 32
# rows (mla_swap_given.cuh): its swizzle, descriptor and accumulator maps in a model of wgmma and TMA,
# and the whole kernel thread by thread against the float64 reference, with mutants that must fail
# (tests/finale/mla_swap_emulate_test.cu). Builds in build/finale-mla-test/ only. Ends with
# "N passed, N failed"; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/.."
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
work=${FINALE_MLA_TEST_DIR:-build/finale-mla-test}
mkdir -p "$work"
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]

if nvcc -std=c++17 -O2 -diag-suppress 20011,20014 -gencode=arch=compute_80,code=sm_80 -Ifinale/14-deepseek -Igrader \
        -Itests/serving tests/finale/mla_emulate_test.cu grader/finale_mla.c finale/14-deepseek/given/tensor_map_e4m3.cu \
        -o "$work/mla_emulate_test" >"$work/build.log" 2>&1; then
    result PASS "tests/finale/mla_emulate_test.cu builds"
    relay "$work/mla_emulate_test" "$work/mla.log" "mla_emulate_test"
else
    result FAIL "tests/finale/mla_emulate_test.cu builds" "$(head -n 3 "$work/build.log" | tr '\n' ' ')"
fi
if nvcc -std=c++17 -O2 -diag-suppress 20011,20014 -gencode=arch=compute_80,code=sm_80 -Ifinale/14-deepseek -Igrader \
        tests/finale/mla_swap_emulate_test.cu grader/finale_mla.c finale/14-deepseek/given/tensor_map_e4m3.cu \
        -o "$work/mla_swap_emulate_test" >"$work/build-swap.log" 2>&1; then
    result PASS "tests/finale/mla_swap_emulate_test.cu builds"
    relay "$work/mla_swap_emulate_test" "$work/mla-swap.log" "mla_swap_emulate_test"
else
    result FAIL "tests/finale/mla_swap_emulate_test.cu builds" "$(head -n 3 "$work/build-swap.log" | tr '\n' ' ')"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
