#!/usr/bin/env bash
# The vendor-library yardsticks (grader/library.cu) without a GPU: library.o, built as make builds
# it, linked against a CPU stand-in for the CUDA runtime, cuBLAS and cuBLASLt written from their
# documentation (tests/library/fake_cuda.cpp), and run (tests/library/library_test.cpp): each GEMM
# yardstick must compute the row-major product it promises through the column-major calls it makes,
# and session 10's BF16 GEMM must keep the fastest of its candidates and call only that one.
# On a GPU, tests/gpu/gemm_nt_lib_test.cu runs the real libraries.
# Builds in build/library-test/ only. Ends with "N passed, N failed"; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/.."
work=build/library-test
mkdir -p "$work"
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
cuda=$(dirname "$(dirname "$(command -v nvcc)")")
lib=$work/sm_80/grader/library.o

if make --no-print-directory -s ARCH=sm_80 BUILD="$work" "$lib" >"$work/build.log" 2>&1 &&
    g++ -std=c++17 -O2 -Wall -Wextra -Igrader -Itests/library -I"$cuda/include" tests/library/library_test.cpp \
        tests/library/fake_cuda.cpp "$lib" -ldl -o "$work/library_test" >>"$work/build.log" 2>&1; then
    result PASS "library.o links against the stand-in alone (no CUDA runtime, no cuBLAS)"
else
    result FAIL "library.o links against the stand-in" "$(tail -n 5 "$work/build.log")"
    finish
fi

relay "$work/library_test" "$work/run.log" "library_test"
finish
