/* Session 03: the memory hierarchy. The launchers the student writes. */
#ifndef SESSION03_EXERCISES_H
#define SESSION03_EXERCISES_H

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 01-03: out[c * rows + r] = in[r * cols + c]: in is rows x cols, out is cols x rows, row-major. */
void transpose_naive(const float *in, float *out, int rows, int cols, cudaStream_t stream);
void transpose_shared(const float *in, float *out, int rows, int cols, cudaStream_t stream);
void transpose_padded(const float *in, float *out, int rows, int cols, cudaStream_t stream);

/* 04-05: *out = x[0] + ... + x[n-1]. `workspace` holds REDUCE_WORKSPACE_FLOATS(n) floats for
 * partial sums; it arrives filled with NaN, so write before you read. */
#define REDUCE_WORKSPACE_FLOATS(n) ((n) / 64 + 1024)
void reduce_tree(const float *x, float *out, long n, float *workspace, cudaStream_t stream);
void reduce_warp_shuffle(const float *x, float *out, long n, float *workspace, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
