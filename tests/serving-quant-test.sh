#!/usr/bin/env bash
# Session 12's quantised GEMVs (06 W4A16, 07 FP8) without a GPU: the grader's e4m3 decoder against
# CUDA's own conversion (cuda_fp8.h converts on the host too), the solutions' unpacking for every
# code in every place, and the solutions' kernels followed on the CPU at the check's shapes with the
# tensor-core product emulated (tests/serving/*_emulate_test.cu, tests/serving/mma_emulator.h).
# Builds in build/serving-quant-test/ only. Ends with "N passed, N failed"; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/.."
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
work=build/serving-quant-test
mkdir -p "$work"
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]

for t in w4a16 fp8; do
    if nvcc -std=c++17 -O2 -diag-suppress 20011,20014 -gencode=arch=compute_80,code=sm_80 -Iserving/12-serving -Igrader \
            -Itests/serving "tests/serving/${t}_emulate_test.cu" grader/serving_quant.c \
            -o "$work/${t}_emulate_test" >"$work/$t-build.log" 2>&1; then
        result PASS "tests/serving/${t}_emulate_test.cu builds"
    else
        result FAIL "tests/serving/${t}_emulate_test.cu builds" "$(head -n 3 "$work/$t-build.log" | tr '\n' ' ')"
        continue
    fi
    relay "$work/${t}_emulate_test" "$work/$t.log" "${t}_emulate_test"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
