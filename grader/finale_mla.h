/* Session 14's 01_mla_decode as the grader sees it: absorbed Multi-head Latent Attention decode
 * over a paged latent cache (finale/14-deepseek/exercises.h has the layouts).
 *
 *   shape (B, s_q, h_q, d_latent, d_rope, max_context)      max_context: the longest sequence drawn
 *
 * Buffers: "q" (B x s_q x h_q x (d_latent + d_rope) BF16), "kv_cache" (num_blocks x MLA_BLOCK x
 * (d_latent + d_rope) BF16), "block_table" (B x max_blocks int32), "seq_len" (B int32), "out"
 * (B x s_q x h_q x d_latent BF16, the output), scratch "work" (B x s_q x h_q x MLA_SPLIT_MAX x
 * (d_latent + 1) floats). param[0] = scale, param[1] = max_blocks. A reference row is one
 * (sequence, query token, head): d_latent elements of out.
 * The check driver's exercise table uses these as gr_exercise hooks; the compute roof is BF16
 * (the tensor cores), which only the h_q = 128 bench shape reaches. */
#ifndef GRADER_FINALE_MLA_H
#define GRADER_FINALE_MLA_H

#include "grader.h"

/* exercises.h's MLA_BLOCK and MLA_SPLIT_MAX, for the grader's side (the CPU test checks they agree). */
#define FM_MLA_BLOCK 64
#define FM_MLA_SPLIT_MAX 64
/* Contexts from this length up are "long": every sequence holds at least 3/4 of max_context, from
 * a fixed set of lengths, so that the bytes to move are known exactly. */
#define FM_MLA_LONG_CONTEXT 4096

void fm_mla_declare(gr_case *c);
void fm_mla_adjust(gr_case *c);
void fm_mla_reference(gr_case *c, long row_begin, long row_end);
double fm_mla_tolerance(const gr_shape *s);
double fm_mla_flops(const gr_shape *s);
double fm_mla_bytes(const gr_shape *s);
void fm_mla_note(const gr_shape *s, char *buf, size_t len);

/* The scale the launcher is given: 1 / sqrt(d_latent + d_rope) (the mini-model's is
 * 1 / sqrt(d_nope + d_rope); any positive scale exercises the same code). */
float fm_mla_scale(const gr_shape *s);
/* Cache blocks of a case: every sequence's pages at max_context and an eighth more nobody uses. */
long fm_mla_num_blocks(const gr_shape *s);
/* Tokens in all sequences together and their pages: exact for long contexts, the mean over the
 * random lengths below. */
double fm_mla_tokens(const gr_shape *s, double *pages);
/* Tokens 0 .. end - 1 are what query token i (0 .. s_q - 1) of a sequence of len tokens sees. */
long fm_mla_visible_end(long len, long s_q, long i);
/* One output row in float64, the reference's own maths (the CPU tests call it on their own data):
 * q (d_latent + d_rope), rows[t] the cached row of token t (t < visible), out and mag d_latent:
 * out = sum_t p_t c_t, mag = sum_t p_t |c_t|, p = softmax_t(scale * q . row_t). */
void fm_mla_reference_row(const float *q, const float *const *rows, long visible, int d_latent, int d_rope,
                          double scale, float *out, float *mag);

/* Checked against the reference: one token; two tokens and s_q 2 (row 0 sees one); lengths one
 * past a block; ragged batches; h_q 1, 4, 16, 20 (groups of 16 rows that do not divide) and 128
 * (small B); the mini-model's 64/16 and DeepSeek-V3's 512/64; a long single sequence (splits). */
#define MLA_CHECK_SHAPES                                                                                     \
    {GR_SHAPE(1, 1, 1, 64, 16, 1),      GR_SHAPE(1, 2, 4, 64, 16, 2),     GR_SHAPE(3, 1, 4, 64, 16, 65),    \
     GR_SHAPE(5, 2, 4, 64, 16, 300),    GR_SHAPE(3, 2, 20, 64, 16, 150),  GR_SHAPE(4, 1, 1, 512, 64, 100),  \
     GR_SHAPE(2, 1, 16, 512, 64, 129),  GR_SHAPE(7, 2, 16, 512, 64, 200), GR_SHAPE(1, 1, 16, 512, 64, 5000), \
     GR_SHAPE(2, 1, 128, 512, 64, 300), GR_SHAPE(1, 2, 128, 512, 64, 97), GR_SHAPE(9, 1, 16, 64, 16, 1000)}
/* Bench: DeepSeek-V3's decode at batch 128, context 4096: 16 heads (a GPU's share under tensor
 * parallelism: memory-bound), 128 heads (compute-bound: Hopper's wgmma territory); and the
 * mini-model's own step. */
#define MLA_BENCH_16 GR_SHAPE(128, 1, 16, 512, 64, 4096)
#define MLA_BENCH_128 GR_SHAPE(128, 1, 128, 512, 64, 4096)
#define MLA_BENCH_MINI GR_SHAPE(1, 1, 4, 64, 16, 1024)

#endif
