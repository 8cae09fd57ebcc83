/* Session 11: the abstraction ladder. Every rung computes the same BF16 matrix product,
 *     C = A * B^T        A: M x K, row-major;  B: N x K, row-major;  C: M x N, row-major
 * ("NT": both operands K-major, row n of B is column n of B^T), with FP32 accumulation and C rounded
 * to BF16 once, at the end. A, B and C hold BF16 values as uint16_t (the top 16 bits of a float32).
 * Pointers are device pointers from cudaMalloc (256-byte aligned). Sizes: any M >= 1 and N >= 1, and
 * K >= 8 with K % 8 == 0 (so every row of A and B starts on a 16-byte boundary); elements of C
 * outside M x N must not be written. All work is enqueued on `stream`. */
#ifndef SESSION11_EXERCISES_H
#define SESSION11_EXERCISES_H

#include <stdint.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 04: CuTe (C++): a TiledMMA of mma.sync, swizzled shared memory filled by a cp.async TiledCopy,
 * ldmatrix into the fragments, a multistage pipeline, predicated edges. */
void cute_gemm(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
