/* Session 14's 03_fp8_grouped_gemm as the grader sees it: DeepGEMM's FP8 grouped GEMM of an MoE
 * layer, block-scaled (finale/14-deepseek/exercises.h has the layouts and the formula).
 *
 *   contiguous (prefill)   shape (G, M, N, K)       M rows stacked, group g owns group_offset[g] ..
 *   masked (decode)        shape (G, M_max, N, K)   group g owns its first masked_m[g] of M_max rows
 *
 * Buffers: "A" (rows x K e4m3 bytes), "sa" (rows x ceil(K / 128) float32), "B" (G x N x K e4m3),
 * "sb" (G x ceil(N / 128) x ceil(K / 128) float32), "D" (rows x N BF16: an output, or in-out for
 * the masked layout, whose unused rows must keep their values); "group_offset" (G + 1 int32) or
 * "masked_m" (G int32). rows = M (contiguous) or G x M_max (masked). A reference row is a row of D.
 * The check driver's exercise table uses these as gr_exercise hooks; the compute roof is FP8. */
#ifndef GRADER_FINALE_FP8_H
#define GRADER_FINALE_FP8_H

#include "grader.h"

#define FM_FP8_BLOCK 128   /* values of K (and rows of B) that share one scale */

void fm_fp8_contiguous_declare(gr_case *c);
void fm_fp8_masked_declare(gr_case *c);
/* Codes over e4m3's whole range in windows that each block's scale brings back to size (as session
 * 12's 07: sv_e4m3_fold), one window per 128 values of a row of A and per 128 x 128 tile of B; the
 * contiguous groups' sizes uneven, one of them empty and one of a single row (G >= 3); the masked
 * counts fm_fp8_masked_rows' fixed set, dealt to the groups at random. */
void fm_fp8_contiguous_adjust(gr_case *c);
void fm_fp8_masked_adjust(gr_case *c);
void fm_fp8_contiguous_reference(gr_case *c, long row_begin, long row_end);
void fm_fp8_masked_reference(gr_case *c, long row_begin, long row_end);
/* The same for a list of rows at once (any order): the rows of one group share the decoding of its
 * weights, so that a check's 64 sampled rows cost a few times less than row by row. An exercise
 * names a reference with its rows form through these. */
void fm_fp8_contiguous_reference_rows(gr_case *c, const long *rows, long n_rows);
void fm_fp8_masked_reference_rows(gr_case *c, const long *rows, long n_rows);
#define FM_FP8_CONTIGUOUS_REF .reference = fm_fp8_contiguous_reference, .reference_rows = fm_fp8_contiguous_reference_rows
#define FM_FP8_MASKED_REF .reference = fm_fp8_masked_reference, .reference_rows = fm_fp8_masked_reference_rows
double fm_fp8_tolerance(const gr_shape *s);
double fm_fp8_contiguous_flops(const gr_shape *s);
double fm_fp8_masked_flops(const gr_shape *s);
double fm_fp8_contiguous_bytes(const gr_shape *s);
double fm_fp8_masked_bytes(const gr_shape *s);
void fm_fp8_contiguous_note(const gr_shape *s, char *buf, size_t len);
void fm_fp8_masked_note(const gr_shape *s, char *buf, size_t len);

/* The j-th of the masked layout's row counts (0 <= j < G): M_max, 0, 1, then spread over 0 .. M_max
 * by a fixed stride. A fixed set (shuffled over the groups) makes FLOP and bytes exact. */
long fm_fp8_masked_rows(const gr_shape *s, long j);
/* One element of D in float64, the contract's order: each K block's sum of exact products, times
 * sa * sb, summed over the blocks. a: the row's K codes, b: the column's K codes (a row of B),
 * sa_row: the row's ceil(K / 128) scales, sb_col: the column's tile row of scales (ceil(K / 128)). */
double fm_fp8_dot(const uint8_t *a, const uint8_t *b, const float *sa_row, const float *sb_col, long K);

/* Checked against the reference, (G, M, N, K): a single element (K 16); odd M and N; K past a
 * block by 16 (a partial last scale block: 272, 1040) and below one (64, 144); N not a multiple of
 * 128; G 1 .. 8; the mini-model's experts (8 groups, w1/w3: N 64, K 256; w2: N 256, K 64). */
#define FP8_CONTIGUOUS_SHAPES                                                                                 \
    {GR_SHAPE(1, 1, 1, 16),       GR_SHAPE(2, 1, 1, 16),      GR_SHAPE(3, 17, 33, 128),  GR_SHAPE(2, 2, 3, 48),   \
     GR_SHAPE(8, 127, 129, 272),  GR_SHAPE(4, 300, 200, 384), GR_SHAPE(5, 65, 1000, 144), GR_SHAPE(8, 64, 64, 256), \
     GR_SHAPE(8, 64, 256, 64),    GR_SHAPE(7, 1000, 130, 1040), GR_SHAPE(1, 129, 257, 2048), GR_SHAPE(6, 513, 384, 640)}
/* (G, M_max, N, K): one row of one group; M_max past one tile of 64 (65, 128); the same edges; decode
 * (M_max up to 4: a fast path may treat it as a GEMV) with many K blocks and a partial last one. */
#define FP8_MASKED_SHAPES                                                                                      \
    {GR_SHAPE(1, 1, 1, 16),     GR_SHAPE(2, 3, 17, 144),    GR_SHAPE(4, 17, 129, 272), GR_SHAPE(8, 64, 64, 256), \
     GR_SHAPE(8, 64, 256, 64),  GR_SHAPE(5, 33, 300, 512),  GR_SHAPE(3, 128, 130, 1040), GR_SHAPE(8, 7, 1000, 128), \
     GR_SHAPE(16, 65, 256, 512), GR_SHAPE(3, 1, 5, 32),     GR_SHAPE(8, 4, 300, 2064)}
/* Bench: DeepSeek-V3's expert GEMM (K 7168, N 4096): prefill with 4 groups of about 8192 rows
 * (compute-bound), decode over 32 experts with up to 64 tokens each (memory-bound: every expert's
 * weights once for a few rows). */
#define FP8_BENCH_CONTIGUOUS GR_SHAPE(4, 32768, 4096, 7168)
#define FP8_BENCH_MASKED GR_SHAPE(32, 64, 4096, 7168)

#endif
