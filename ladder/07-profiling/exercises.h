/* Session 07: profiling. Both launchers compute the same row-wise softmax of a rows x cols float32
 * matrix, row-major:
 *     out[r][c] = exp(x[r][c] - max_r) / sum over c' of exp(x[r][c'] - max_r),  max_r = max over c of x[r][c]
 * for any rows >= 1 and cols >= 1. Pointers are device pointers; all work goes on `stream`. */
#ifndef SESSION07_EXERCISES_H
#define SESSION07_EXERCISES_H

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 00, given: correct and deliberately slow, with the classic faults marked (given/softmax_slow.cu).
 * The kernel to profile and diagnose. */
void softmax_slow(const float *x, float *out, int rows, int cols, cudaStream_t stream);

/* 01: the fixed kernel: coalesced (float4 where aligned), one pass of online softmax, one pass to write. */
void softmax_fast(const float *x, float *out, int rows, int cols, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
