/* Session 13's exercises as the grader sees them: NVFP4 (e2m1 codes, an e4m3 scale per 16 values,
 * one float32 scale per tensor) decoded and encoded on the CPU, and the references of
 * blackwell/13-nvfp4/exercises.h (its comments define every operation these functions repeat).
 *
 *   the formats, the quantiser, the GEMV sum      nvfp4.c        (pure functions: no case, no GPU)
 *   the check's buffers, inputs, counts           nvfp4_check.c  (shapes: 01 (rows, K); 02-06 (M, K, L))
 */
#ifndef GRADER_NVFP4_H
#define GRADER_NVFP4_H

#include <stddef.h>
#include <stdint.h>

#include "grader.h"

#define FP4_BLOCK 16        /* NVFP4_BLOCK of exercises.h: values that share one e4m3 scale */
#define FP4_E2M1_MAX 6.0f   /* e2m1's largest magnitude */
#define FP4_E4M3_MAX 448.0f /* e4m3's largest magnitude, code 0x7E */

/* ---- the formats (nvfp4.c) ----------------------------------------------------------------------- */

/* The value of an e2m1 code (its low 4 bits): 0, 0.5, 1, 1.5, 2, 3, 4, 6; codes 8..15 the same
 * negated (code 8 is -0). */
float fp4_e2m1_value(uint8_t code);
/* The e2m1 code nearest to v: ties to the even code, magnitudes above 6 saturate to 6, the sign of v
 * kept (so -0.1 gives code 8, -0). NaN gives code 0. */
uint8_t fp4_e2m1_encode(float v);

/* The value of an e4m3 ("fn") byte: NaN for 0x7F and 0xFF, no infinities. */
float fp4_e4m3_value(uint8_t byte);
/* The e4m3 code nearest to s >= 0: ties to the even code, values above 448 (and +infinity) saturate
 * to 448 (0x7E). s < 0 or NaN: code 0x00 (the quantiser never asks). */
uint8_t fp4_e4m3_encode(float s);

/* ---- 01's quantiser, one block of 16 values (nvfp4.c) -----------------------------------------------
 * Exactly exercises.h's recipe, float operation for float operation: scale = e4m3(amax / (6 * gs)),
 * S = e4m3_value(scale) * gs, code[k] = e2m1(x[k] / S), every code +0 when S is 0. codes gets 8 bytes
 * (value 2i in the low nibble of byte i); returns the scale byte. */
uint8_t fp4_quantize_block(const float *x, float global_scale, uint8_t *codes);
/* 16 values back from 8 code bytes and a scale byte: (e2m1 * e4m3) * global_scale in float. */
void fp4_dequantize_block(const uint8_t *codes, uint8_t scale, float global_scale, float *y);
/* The global scale of NVFP4's recipe: the tensor's largest |x| over 6 * 448, in float; 1 for an
 * all-zero tensor (any scale quantises zeros to zeros). */
float fp4_global_scale(const float *x, size_t n);

/* ---- 02-06's GEMV, one output (nvfp4.c) -----------------------------------------------------------
 * c = sum over k < K of e2m1(a[k]) e4m3(sfa[k/16]) e2m1(b[k]) e4m3(sfb[k/16]) for one row of a
 * (K/2 code bytes, K/16 scales) against b, summed in double. Each term and each block's sum is exact
 * in double, and so is the whole sum while it spans fewer than 53 bits (the check's scales keep it
 * there), so this is the exact result that any FP32 accumulation approximates. *magnitude, when not
 * NULL, gets the sum of the terms' absolute values. */
double fp4_gemv_dot(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, long K,
                    double *magnitude);

/* ---- the check's side (nvfp4_check.c) ---------------------------------------------------------------
 * 01, shape (rows, K), K % 16 == 0:
 *   quantise:   "X" (rows x K float32 in), "q" (rows x K/2 bytes out), "scales" (rows x K/16 bytes out);
 *               param[0] = the global scale, fp4_global_scale of X, drawn again with every fill.
 *   dequantise: "q", "scales" (valid e4m3, never NaN) in, "Y" (rows x K float32 out); param[0] the
 *               global scale.
 *   Both exact: tolerance 0. */
void fp4_quantize_declare(gr_case *c);
void fp4_quantize_adjust(gr_case *c);
void fp4_quantize_reference(gr_case *c, long row_begin, long row_end);
double fp4_quantize_bytes(const gr_shape *s);
void fp4_dequantize_declare(gr_case *c);
void fp4_dequantize_adjust(gr_case *c);
void fp4_dequantize_reference(gr_case *c, long row_begin, long row_end);
double fp4_dequantize_bytes(const gr_shape *s);
double fp4_exact_tolerance(const gr_shape *s);

/* 02-06, shape (M, K, L), K % 64 == 0: "a" (L x M x K/2), "sfa" (L x M x K/16), "b" (L x K/2),
 * "sfb" (L x K/16) bytes in; "c" (L x M FP16 out), one reference row per batch l. */
void fp4_gemv_declare(gr_case *c);
void fp4_gemv_adjust(gr_case *c);
void fp4_gemv_reference(gr_case *c, long row_begin, long row_end);
double fp4_gemv_tolerance(const gr_shape *s);
double fp4_gemv_flops(const gr_shape *s);
double fp4_gemv_bytes(const gr_shape *s);
/* Under a bench result: the competition's B200 speed of light for its three benchmark shapes. */
void fp4_gemv_note(const gr_shape *s, char *buf, size_t len);
/* The exponent fields the GEMV's scales are drawn from (their values 2^-4 .. 1.875). */
#define FP4_GEMV_SCALE_E_MIN 3
#define FP4_GEMV_SCALE_E_MAX 7

#endif
