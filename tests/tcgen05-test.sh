#!/usr/bin/env bash
# Session 13's Blackwell-only GEMM (blackwell/13-tcgen05, exercise 07) without a Blackwell GPU: the
# solution's descriptors against the PTX ISA's tables, and its kernel's copies, tcgen05 work and
# accumulator reads followed on the CPU through a model of the hardware (tests/tcgen05/
# gemm_model_test.cu says what that proves and what it cannot). The same test built with the
# skeleton must fail. Compiles for sm_100a (nothing of it runs on a GPU). Builds in
# $BUILD/tcgen05-test/ only (BUILD: default build). Ends with "N passed, N failed"; exit 1 on a failure.
set -u
cd "$(dirname "$0")/.."
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
work=${BUILD:-build}/tcgen05-test
mkdir -p "$work"
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]

build() {  # build NAME [flags...]: the model test, or a FAIL line
    local name=$1
    shift
    if nvcc -std=c++17 -O2 -diag-suppress 20011,20014,177 -gencode=arch=compute_100a,code=sm_100a "$@" \
            -Iblackwell/13-tcgen05 -Igrader tests/tcgen05/gemm_model_test.cu -o "$work/$name" >"$work/$name-build.log" 2>&1; then
        return 0
    fi
    result FAIL "tests/tcgen05/gemm_model_test.cu builds ($name)" "$(head -n 3 "$work/$name-build.log" | tr '\n' ' ')"
    return 1
}

if build model; then
    result PASS "tests/tcgen05/gemm_model_test.cu builds for sm_100a with the solution"
    relay "$work/model" "$work/model.log" "the model test"
fi

if build model-skeleton -DTEST_SKELETON; then
    "$work/model-skeleton" >"$work/model-skeleton.log" 2>&1
    rc=$?
    n=$(grep -c '^FAIL' "$work/model-skeleton.log")
    if [ $rc = 1 ] && [ "$n" -gt 0 ]; then result PASS "the skeleton fails the model test ($n checks fail, exit 1)"
    else result FAIL "the skeleton fails the model test" "exit $rc, $n checks fail"; fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
