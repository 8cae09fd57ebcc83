/* Session 06: tensor cores. Both exercises compute the same BF16 matrix product,
 *     C = A * B        A: M x K, B: K x N (BF16), C: M x N (FP32), all row-major,
 * with FP32 accumulation, for any M, N, K >= 1 (sizes no tile divides and K = 1 included).
 * A and B arrive as uint16_t: each element holds the 16 bits of a bfloat16 (the top half of a
 * float32); cast the pointers to __nv_bfloat16 inside. Pointers are device pointers. */
#ifndef SESSION06_EXERCISES_H
#define SESSION06_EXERCISES_H

#include <stdint.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 01: nvcuda::wmma 16x16x16 fragments, block tiles staged through shared memory. */
void gemm_bf16_wmma(const uint16_t *A, const uint16_t *B, float *C, int M, int N, int K, cudaStream_t stream);

/* 02: mma.sync m16n8k16 by inline PTX, ldmatrix from swizzled shared memory, a cp.async pipeline. */
void gemm_bf16_mma(const uint16_t *A, const uint16_t *B, float *C, int M, int N, int K, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
