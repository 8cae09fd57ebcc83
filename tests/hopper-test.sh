#!/usr/bin/env bash
# Session 10 without a GPU: the given tensor-map helper refuses, in one line each, the shapes and
# boxes TMA does not allow (tests/hopper/tma_map_test.cu, run on the host). Ends with
# "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
work=build/hopper-test
mkdir -p "$work"
if nvcc -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Ihopper/10-beat-cublas -Igrader tests/hopper/tma_map_test.cu \
        hopper/10-beat-cublas/given/tensor_map.cu -o "$work/tma_map_test" >"$work/build.log" 2>&1; then
    "$work/tma_map_test"
else
    echo "FAIL  tests/hopper/tma_map_test.cu builds: $(head -n 3 "$work/build.log" | tr '\n' ' ')"
    echo "0 passed, 1 failed"
    exit 1
fi
