#!/usr/bin/env bash
# Session 13's NVFP4 GEMV ladder (exercises 02-06) without a GPU: each rung's solution compiled
# into tests/nvfp4/gemv_emulate_test.cu (RUNG=2..6) and followed on the CPU through its own
# __host__ __device__ functions: every e2m1 code in every place, the exactness of the FP16 block
# sums (05, 06), and whole GEMVs against float64 at several shapes, odd M and L > 1 among them.
# Builds in build/nvfp4-gemv-test/ only. Ends with "N passed, N failed"; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/.."
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
work=build/nvfp4-gemv-test
mkdir -p "$work"
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]

for rung in 2 3 4 5 6; do
    exe="$work/gemv_emulate_$rung"
    if nvcc -std=c++17 -O2 -diag-suppress 20011,20014 -gencode=arch=compute_80,code=sm_80 -DRUNG=$rung \
            -Iblackwell/13-nvfp4 -Igrader tests/nvfp4/gemv_emulate_test.cu -o "$exe" >"$exe-build.log" 2>&1; then
        result PASS "tests/nvfp4/gemv_emulate_test.cu builds for rung 0$rung"
    else
        result FAIL "tests/nvfp4/gemv_emulate_test.cu builds for rung 0$rung" "$(head -n 3 "$exe-build.log" | tr '\n' ' ')"
        continue
    fi
    relay "$exe" "$exe.log" "rung 0$rung" "0$rung: "
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
