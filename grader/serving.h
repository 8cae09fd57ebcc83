/* Session 12's exercises as the grader sees them: buffers, CPU references, tolerances, byte counts
 * and yardsticks. The check driver (serving/12-serving/check.c) holds only the launch functions.
 *
 *   GEMV shapes       (M, N, K)                        serving_gemv.c
 *   paged KV write    (T, Hkv, D, num_blocks)          serving_paged.c
 *   paged decode      (B, Hq, Hkv, D, max_context)     serving_paged.c
 *   quantised GEMV    (M, N, K), K % 128 == 0          serving_quant.c
 */
#ifndef GRADER_SERVING_H
#define GRADER_SERVING_H

#include "grader.h"

/* ---- 01 GEMV, 02 RMSNorm + QKV (serving_gemv.c) -------------------------------------------------
 * Buffers: "W" (N x K BF16), "X" (M x K BF16), "Y" (M x N BF16 out); 02 adds "gamma" (K BF16) and
 * draws eps into param[0]. Y = X W^T is session 10's C = A B^T: its tolerance, FLOP and byte counts
 * and library label (gemm.h: gr_bf16_gemm_nt_*, gr_gemm_flops) serve 01, 06 and 07 as they are. */
void sv_gemv_declare(gr_case *c);
void sv_gemv_reference(gr_case *c, long row_begin, long row_end);
void sv_gemv_library(gr_case *c, cudaStream_t stream);          /* cuBLAS on the same shape */
void sv_rmsnorm_qkv_declare(gr_case *c);
void sv_rmsnorm_qkv_reference(gr_case *c, long row_begin, long row_end);
double sv_rmsnorm_qkv_tolerance(const gr_shape *s);
double sv_rmsnorm_qkv_flops(const gr_shape *s);
double sv_rmsnorm_qkv_bytes(const gr_shape *s);
void sv_rmsnorm_qkv_library(gr_case *c, cudaStream_t stream);   /* a norm kernel, then cuBLAS */
/* Which of cuBLAS and cuBLASLt the GEMV's yardstick timed fastest (gr_exercise.library_label). */
/* 02's inputs: the even rows of X scaled (by a power of two) to a mean square near eps, where a
 * misplaced or missing eps shows; the odd rows as drawn (gr_exercise.adjust_inputs). */
void sv_rmsnorm_qkv_adjust(gr_case *c);

/* ---- 03 paged KV write, 04/05 paged decode (serving_paged.c) --------------------------------------
 * KV write: "k_new", "v_new" (T x Hkv x D BF16), "slot_of" (T int32), in-out "k_cache", "v_cache"
 * (num_blocks x Hkv x PAGE x D BF16).
 * Decode: "q" (B x Hq x D), "k_cache", "v_cache", "block_table" (B x max_blocks int32), "seq_len"
 * (B int32), "out" (B x Hq x D BF16 out), scratch "work" (B x Hq x SPLIT_MAX x (D + 1) floats);
 * param[0] = scale, param[1] = max_blocks. */
void sv_kv_write_declare(gr_case *c);
void sv_kv_write_adjust(gr_case *c);
void sv_kv_write_reference(gr_case *c, long row_begin, long row_end);
double sv_kv_write_tolerance(const gr_shape *s);
double sv_kv_write_bytes(const gr_shape *s);
void sv_decode_declare(gr_case *c);
void sv_decode_adjust(gr_case *c);
void sv_decode_reference(gr_case *c, long row_begin, long row_end);
double sv_decode_tolerance(const gr_shape *s);
double sv_decode_flops(const gr_shape *s);
double sv_decode_bytes(const gr_shape *s);
/* exercises.h's PAGE_TOKENS and SPLIT_MAX, for the grader's side (the unit tests check they agree). */
#define SV_PAGE_TOKENS 16
#define SV_SPLIT_MAX 64
/* Contexts from this length up are "long": every sequence holds at least 3/4 of max_context. */
#define SV_LONG_CONTEXT 4096
/* Blocks in a decode case's cache: every sequence's pages at max_context, and an eighth more that
 * no sequence uses (declare runs before the lengths are drawn). */
long sv_decode_num_blocks(const gr_shape *s);
/* Tokens in all sequences together, and their pages: exact for long contexts (a fixed set of
 * lengths dealt out at random), the mean over the random lengths below. */
double sv_decode_tokens(const gr_shape *s, double *pages);
/* The length of sequence j (j >= 1) in the fixed set of a long context; sequence 0 has max_context. */
long sv_decode_long_length(const gr_shape *s, long j);
/* The line under a decode bench result (gr_exercise.bench_note): the K/V bytes, and how many
 * (sequence, KV head) pairs a kernel without splits has to spread over the GPU. */
void sv_decode_note(const gr_shape *s, char *buf, size_t len);

/* ---- 06 W4A16, 07 FP8 (serving_quant.c) -----------------------------------------------------------
 * W4A16: "W4" (N x K/2 bytes), "scales" (N x K/128 BF16), "X", "Y".
 * FP8:   "W8" (N x K bytes, e4m3), "scales" (N x K/128 float32), "X", "Y". */
void sv_w4a16_declare(gr_case *c);
void sv_w4a16_adjust(gr_case *c);
void sv_w4a16_reference(gr_case *c, long row_begin, long row_end);
double sv_w4a16_bytes(const gr_shape *s);
void sv_fp8_declare(gr_case *c);
void sv_fp8_adjust(gr_case *c);
void sv_fp8_reference(gr_case *c, long row_begin, long row_end);
double sv_fp8_bytes(const gr_shape *s);
/* The value of an e4m3 byte (NaN for 0x7F and 0xFF) and of a signed 4-bit nibble. */
float sv_e4m3_value(uint8_t byte);
int sv_int4_value(uint8_t nibble);
/* n uniform e4m3 codes (bytes) folded into a window of four binades, exponents e_lo .. e_lo + 3
 * (e_lo 0 .. 12), signs and mantissas kept, the NaN codes 0x7F / 0xFF made +-448: codes that a
 * block scale of 2^(4 - e_lo) brings back to size, from the subnormals (e_lo 0) to 448 (e_lo 12). */
void sv_e4m3_fold(uint8_t *code, long n, int e_lo);

#endif
