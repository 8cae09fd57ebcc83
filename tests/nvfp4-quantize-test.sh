#!/usr/bin/env bash
# Session 13's exercise 01 without a GPU: the given e4m3 and e2m1 helpers, the solution's roundings
# and its per-block arithmetic against the grader's CPU versions (grader/nvfp4.c) and CUDA's own
# conversions (cuda_fp8.h, cuda_fp4.h run on the host too): tests/nvfp4/quantize_emulate_test.cu.
# Builds in build/nvfp4-quantize-test/ only. Ends with "N passed, N failed"; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/.."
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
work=build/nvfp4-quantize-test
mkdir -p "$work"
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]

if nvcc -std=c++17 -O2 -gencode=arch=compute_80,code=sm_80 -Iblackwell/13-nvfp4 -Igrader \
        tests/nvfp4/quantize_emulate_test.cu grader/nvfp4.c -o "$work/quantize_emulate_test" >"$work/build.log" 2>&1; then
    result PASS "tests/nvfp4/quantize_emulate_test.cu builds"
    relay "$work/quantize_emulate_test" "$work/run.log" "quantize_emulate_test"
else
    result FAIL "tests/nvfp4/quantize_emulate_test.cu builds" "$(head -n 3 "$work/build.log" | tr '\n' ' ')"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
