/* Session 01: what a GPU is. The launchers the student writes, as the grader calls them.
 * Pointers are device pointers (host pointers for matmul_cpu); all work goes on `stream`. */
#ifndef SESSION01_EXERCISES_H
#define SESSION01_EXERCISES_H

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 01: C[M][N] = A[M][K] * B[K][N] on the CPU, row-major, by hand. */
void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K);

/* 02: z[i] = x[i] + y[i] for i < n. */
void vector_add(const float *x, const float *y, float *z, long n, cudaStream_t stream);

/* 03: C[M][N] = A[M][K] * B[K][N] on the GPU, one thread per element of C. */
void matmul_naive(const float *A, const float *B, float *C, int M, int N, int K, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
