/* Session 13: NVFP4, four-bit floating point with a scale per 16 values.
 *
 * The format. An e2m1 code is 4 bits: sign, a 2-bit exponent (bias 1), a 1-bit mantissa. Its 16
 * values are 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives (code 8 is -0). Two codes share a
 * byte: the element with the even index k sits in the LOW nibble, k + 1 in the high one. Every 16
 * consecutive values of a row share one scale, an FP8 e4m3 code (the OCP "e4m3fn": bias 7,
 * subnormals at exponent 0, largest 448 = 0x7E, 0x7F and 0xFF are NaN and never occur). NVFP4
 * adds one FP32 scale for the whole tensor, so that the block scales stay inside e4m3's range:
 *     value[k] = e2m1(code[k]) * e4m3(scale[k / 16]) * global_scale.
 *
 * Pointers are device pointers; codes and scales arrive as bytes, FP16 results as uint16_t (IEEE
 * binary16 bits). */
#ifndef SESSION13_EXERCISES_H
#define SESSION13_EXERCISES_H

#include <stdint.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NVFP4_BLOCK 16 /* values that share one e4m3 scale */

/* 01: quantise X (rows x K floats, K % 16 == 0) to NVFP4 with the given global scale (> 0).
 * For each block of 16 values of a row:
 *   amax  = the largest |x| of the block;
 *   scale = amax / (6 * global_scale) rounded to the nearest e4m3 value, ties to even, saturating
 *           at 448 (the scale that maps the block's largest value onto e2m1's largest, 6);
 *   S     = e4m3(scale) * global_scale (one float multiply);
 *   code  = x / S (one float divide) rounded to the nearest e2m1 value, ties to even, saturating at
 *           +-6, the sign of x kept (a small negative x gives -0, code 8); every code is +0 when S
 *           is 0.
 * q is rows x K/2 bytes, scales rows x K/16 bytes. The results are exact: compared bit for bit. */
void nvfp4_quantize(const float *X, float global_scale, uint8_t *q, uint8_t *scales, int rows, int K,
                    cudaStream_t stream);

/* 01 (its +dequantize entry): Y[r][k] = e2m1(q) * e4m3(scale) * global_scale, rows x K floats,
 * computed as (e2m1 * e4m3) * global_scale in float: exact, compared bit for bit. */
void nvfp4_dequantize(const uint8_t *q, const uint8_t *scales, float global_scale, float *Y, int rows, int K,
                      cudaStream_t stream);

/* 02-06: the batched NVFP4 GEMV of the gpu-mode NVFP4 competition (reference-kernels,
 * problems/nvidia/nvfp4_gemv), L independent products of an M x K matrix with a K vector:
 *     c[l][m] = sum over k of  e2m1(a[l][m][k]) * e4m3(sfa[l][m][k / 16])
 *                            * e2m1(b[l][k])    * e4m3(sfb[l][k / 16])
 * summed in FP32, rounded once to FP16. Layouts (K-major, batch outermost):
 *     a   L x M x K/2 bytes      sfa  L x M x K/16 bytes
 *     b   L x K/2 bytes          sfb  L x K/16 bytes          c  L x M FP16
 * Any M >= 1 and L >= 1; K % 64 == 0 (as in the competition: every row is whole 32-byte pieces).
 * No global scale here: the competition has none (it would multiply c once). */
#define NVFP4_GEMV_ARGS                                                                                   \
    const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, uint16_t *c, int M, int K, \
        int L, cudaStream_t stream
void nvfp4_gemv_table(NVFP4_GEMV_ARGS); /* 02: decode through a 16-entry table in shared memory */
void nvfp4_gemv_bits(NVFP4_GEMV_ARGS);  /* 03: decode with bit operations, 128-bit loads */
void nvfp4_gemv_ilp(NVFP4_GEMV_ARGS);   /* 04: more independent loads and sums per warp */
void nvfp4_gemv_fused(NVFP4_GEMV_ARGS); /* 05: packed half2 FMAs, the two scales multiplied once */
void nvfp4_gemv_sm100(NVFP4_GEMV_ARGS); /* 06: Blackwell's e2m1 conversion instruction (05's path
                                         *     on anything older) */

#ifdef __cplusplus
}
#endif

#endif
