/* Session 05: the GEMM ladder, upper rungs. Every rung computes the same SGEMM as session 04,
 *     C = alpha * A * B + beta * C        A: M x K, B: K x N, C: M x N, row-major, FP32,
 * for any M, N, K >= 1, K = 1 and sizes no tile divides included. Pointers are device pointers. */
#ifndef SESSION05_EXERCISES_H
#define SESSION05_EXERCISES_H

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Rung 4: each thread computes a column of 8 results (1D register blocktiling). */
void sgemm_1d_blocktiling(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                          cudaStream_t stream);
/* Rung 5: each thread computes an 8 x 8 block of results (2D register blocktiling). */
void sgemm_2d_blocktiling(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                          cudaStream_t stream);
/* Rung 6: 16-byte loads, the A tile stored transposed in shared memory. */
void sgemm_vectorized(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                      cudaStream_t stream);
/* Rung 7: warp tiles and double-buffered shared memory. */
void sgemm_warptiling(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                      cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
