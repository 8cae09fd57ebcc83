/* Session 10: Hopper. TMA, wgmma and warp specialisation, up to a BF16 GEMM that beats cuBLAS.
 *
 * Every matrix is row-major; A, B and the tiles hold BF16 as uint16_t (the top half of a float32;
 * cast inside). Pointers are device pointers. Everything needs sm_90a (H100, H200, H800).
 *
 * TMA reads a matrix through a tensor map, which needs every row to start 16 bytes aligned: a
 * BF16 matrix read by TMA must have a column count divisible by 8. The check only uses such shapes
 * (and refuses to start with any other). */
#ifndef SESSION10_EXERCISES_H
#define SESSION10_EXERCISES_H

#include <stdint.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 01: cut `src` (rows x cols, cols % 8 == 0) into 64 x 64 tiles with TMA, one tile per block.
 * Tile (tr, tc) goes to tiles + (tr * ceil(cols/64) + tc) * 4096 as 64 x 64 row-major; elements of
 * a tile that fall outside the matrix are 0. */
void tma_tiles(const uint16_t *src, int rows, int cols, uint16_t *tiles, cudaStream_t stream);

/* 02: C = A * B^T with one warpgroup and wgmma per 64 x 64 tile of C: A is M x 64, B is N x 64,
 * C is M x N FP32; M and N are multiples of 64, K is 64. */
void wgmma_tiles(const uint16_t *A, const uint16_t *B, float *C, int M, int N, cudaStream_t stream);

/* 03-06: the GEMM of a linear layer, C = A * B^T:
 *     A: M x K   B: N x K (row n holds the K weights of output column n)   C: M x N, BF16
 * FP32 accumulation; any M, N >= 1 and any K >= 8 with K % 8 == 0 (TMA's 16-byte rows). */
void gemm_tma_wgmma(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream);
void gemm_warp_specialised(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream);
void gemm_persistent(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream);
void gemm_cluster(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
