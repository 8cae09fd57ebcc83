/* Session 04: the GEMM ladder, lower rungs. Every rung computes the same SGEMM,
 *     C = alpha * A * B + beta * C        A: M x K, B: K x N, C: M x N, row-major, FP32,
 * for any M, N, K >= 1 (sizes no tile divides included). Pointers are device pointers. */
#ifndef SESSION04_EXERCISES_H
#define SESSION04_EXERCISES_H

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Rung 0, given: cuBLAS, the yardstick every rung is compared with. */
void sgemm_cublas(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                  cudaStream_t stream);
/* Rung 1: one thread per element of C, consecutive threads down a column. */
void sgemm_naive(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                 cudaStream_t stream);
/* Rung 2: the same with consecutive threads along a row: coalesced. */
void sgemm_coalesced(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                     cudaStream_t stream);
/* Rung 3: 32 x 32 tiles of A and B staged through shared memory. */
void sgemm_smem_tiled(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                      cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
