// What the GPU tuning sweeps (tests/gpu/session1*/ *-tune.cu) share: a CUDA error check that stops
// the sweep, the stream and L2 flush buffer they time on, and the median time of a launch with the
// L2 flushed before it as the grader flushes it (grader/flush.cu), in microseconds.
#ifndef TESTS_GPU_TUNE_TIMING_H
#define TESTS_GPU_TUNE_TIMING_H

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <cuda_runtime.h>

#include "flush.h"

#define CK(x)                                                                                 \
    do {                                                                                      \
        cudaError_t e_ = (x);                                                                 \
        if (e_ != cudaSuccess) {                                                              \
            fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
            exit(1);                                                                          \
        }                                                                                     \
    } while (0)

static void *flush_buf;
static size_t flush_bytes;
static cudaStream_t st;

template <class F>
static float median_us(F run, int reps = 30) {
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    std::vector<float> t;
    for (int r = -2; r < reps; r++) {
        CK(gr_flush_l2(flush_buf, flush_bytes, r, st));
        CK(cudaEventRecord(a, st));
        run();
        CK(cudaEventRecord(b, st));
        CK(cudaEventSynchronize(b));
        CK(cudaGetLastError());
        float ms;
        CK(cudaEventElapsedTime(&ms, a, b));
        if (r >= 0) t.push_back(ms * 1e3f);
    }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

#endif
