/* Session 13, the Blackwell-only part: an NVFP4 GEMM on the fifth-generation tensor cores (tcgen05).
 *
 * Everything here needs sm_100a (B200, GB200): tcgen05 and tensor memory exist nowhere else, and
 * the folder builds for sm_100a only (its NEEDS_ARCH and TARGETS files). The format is the one of
 * blackwell/13-nvfp4/exercises.h: e2m1 codes two per byte, the even k in the LOW nibble; one e4m3
 * scale per 16 consecutive values of a row (OCP e4m3fn, never NaN). Pointers are device pointers. */
#ifndef SESSION13_TCGEN05_EXERCISES_H
#define SESSION13_TCGEN05_EXERCISES_H

#include <stdint.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The shapes the kernel takes: whole 128 x 128 output tiles, whole 256-value steps along K. The
 * check refuses any other shape in one line before it runs. */
#define TC_TILE_M 128
#define TC_TILE_N 128
#define TC_STEP_K 256

/* 07: the GEMM of an NVFP4 linear layer, D = A * B^T:
 *     D[m][n] = sum over k of  e2m1(a[m][k]) * e4m3(sfa[m][k / 16])
 *                            * e2m1(b[n][k]) * e4m3(sfb[n][k / 16])
 * accumulated in FP32 by the tensor cores, written as FP32.
 * Layouts, all row-major with K innermost (the layout a linear layer's weights already have):
 *     a    M x K/2 bytes      sfa  M x K/16 bytes (row m: the scales of k = 0..15, 16..31, ...)
 *     b    N x K/2 bytes      sfb  N x K/16 bytes
 *     D    M x N floats
 * M % 128 == 0, N % 128 == 0, K % 256 == 0 (every size at least one tile).
 *
 * Why FP32 out: it is what the tensor memory holds, so the check sees the accumulator itself, and
 * no scale (e4m3 reaches 448) can overflow an FP16 result. Why plain row-major scales: they are
 * what session 13's quantiser writes; the kernel rearranges them as it copies them (production
 * libraries ask for them pre-arranged instead, so that one bulk copy moves them). */
void nvfp4_gemm_tcgen05(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, float *D, int M,
                        int N, int K, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
