#!/usr/bin/env bash
# Session 14's FP8 grouped GEMM (03) without a GPU: the grader's float64 reference on values worked
# by hand, and the solution's tile maths run block by block with the tensor-core products emulated
# (the sm_89 e4m3 m16n8k32 and the sm_80 BF16 m16n8k16 paths), for both layouts at several shapes,
# against that reference (tests/finale/fp8_gemm_emulate_test.cu). Builds in build/finale-fp8-test/
# only. Ends with "N passed, N failed"; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/.."
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
work=${FINALE_FP8_TEST_DIR:-build/finale-fp8-test}
mkdir -p "$work"
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]

if nvcc -std=c++17 -O2 -diag-suppress 20011,20014 -gencode=arch=compute_80,code=sm_80 -Ifinale/14-deepseek -Igrader \
        -Itests/serving tests/finale/fp8_gemm_emulate_test.cu grader/finale_fp8.c grader/serving_quant.c \
        finale/14-deepseek/given/tensor_map_e4m3.cu \
        -o "$work/fp8_gemm_emulate_test" >"$work/build.log" 2>&1; then
    result PASS "tests/finale/fp8_gemm_emulate_test.cu builds"
    relay "$work/fp8_gemm_emulate_test" "$work/fp8.log" "fp8_gemm_emulate_test"
else
    result FAIL "tests/finale/fp8_gemm_emulate_test.cu builds" "$(head -n 3 "$work/build.log" | tr '\n' ' ')"
fi

# The Hopper path (fp8_wgmma_given.cuh) cannot run here: it must at least build for sm_90a, and the
# GPU sweeps that time it and the decode path (tests/gpu/session14/*-tune.cu) must too, so that
# the next measurement does not start by mending them.
for f in tests/gpu/session14/s14-decode-tune.cu tests/gpu/session14/s14-wgmma-tune.cu; do
    if nvcc -std=c++17 -O2 -gencode=arch=compute_90a,code=sm_90a -Ifinale/14-deepseek -Igrader -c "$f" \
            -o "$work/$(basename "$f" .cu).o" >"$work/$(basename "$f" .cu).log" 2>&1; then
        result PASS "$f builds for sm_90a"
    else
        result FAIL "$f builds for sm_90a" "$(head -n 3 "$work/$(basename "$f" .cu).log" | tr '\n' ' ')"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
