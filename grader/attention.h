/* Attention exercises, described once for the sessions that have them (08, 09). A shape is
 * (batch, heads, sq, skv, head_dim, causal); Q is [batch][heads][sq][head_dim] and K, V are
 * [batch][heads][skv][head_dim], BF16, buffers named "q", "k", "v"; the output is "out"
 * [batch][heads][sq][head_dim] and, where the exercise writes one, "lse" [batch][heads][sq].
 * The causal mask is aligned to the end (grader/ref/attention.h). */
#ifndef GRADER_ATTENTION_H
#define GRADER_ATTENTION_H

#include <math.h>

#include "grader.h"

#define ATTN_B(s) ((s)->d[0])
#define ATTN_H(s) ((s)->d[1])
#define ATTN_SQ(s) ((s)->d[2])
#define ATTN_SKV(s) ((s)->d[3])
#define ATTN_HD(s) ((s)->d[4])
#define ATTN_CAUSAL(s) ((int)((s)->d[5] != 0))
#define ATTN_HEADS(s) (ATTN_B(s) * ATTN_H(s))  /* every batch's heads in a row */
#define ATTN_SCALE(s) (1.0f / sqrtf((float)ATTN_HD(s)))

/* Query-key pairs the mask lets through, per head: sq * skv, or for causal the visible keys summed. */
double gr_attention_visible_pairs(const gr_shape *s);
/* Both products, Q K^T and P V: 4 FLOP per visible pair and head-dim element, every head (the
 * softmax's exp and adds are not counted, as the literature and PyTorch's figures do). */
double gr_attention_flops(const gr_shape *s);

/* Uniform [-1, 1) inputs give scores of spread ~1/3 after the 1/sqrt(d) scale: a nearly flat
 * softmax, where a kernel that mixes up the running max of two tiles, or never subtracts it, still
 * passes. So each query row is multiplied by 2^k, k drawn from 0..8 (a power of two keeps every
 * BF16 value exact): some rows stay flat, others put nearly all their weight on a few keys, with
 * scores in the hundreds, where exp overflows unless the max is subtracted. (adjust_inputs) */
void gr_attention_stretch_queries(gr_case *c);

/* Reference rows [r0, r1) (row r: query r % sq of head r / sq) of "out", with its magnitudes
 * sum_j p_j |v_j| (gr_scale), and of "lse" when the exercise declared one (judged in absolute
 * terms: its magnitude is 1). */
void gr_attention_reference(gr_case *c, long r0, long r1);

/* Against the magnitudes sum_j p_j |v_j|: one BF16 rounding of P (2^-9) and one of the output
 * (2^-9) at most, so 2^-8 on the norm; FP32 scores and sums of up to skv terms stay far below. The
 * log-sum-exp gets 2^-8 absolute: it catches log2 for ln, a missing log(l), a max from the wrong
 * tile or row. A key dropped or counted twice is off by about 1/skv, far above this at the
 * checked sizes. */
double gr_attention_tolerance(const gr_shape *s);

/* FlashAttention forward (sessions 09 and 11): q, k, v in, "out" (BF16) and "lse" (FP32) out. */
void gr_flash_declare(gr_case *c);
/* Q, K, V read once, O written once (BF16), the log-sum-exp (FP32): the least any kernel moves. */
double gr_flash_bytes(const gr_shape *s);
/* One key; odd lengths in both directions; Q shorter than KV (decoding with a cache, the causal mask
 * aligned to the end); Q longer than KV (the first rows see no key at all); lengths one past the
 * tiles (129 rows, 65 keys); head dims 64 and 128; several heads and batches. */
#define GR_FLASH_SHAPES                                                                                     \
    {GR_SHAPE(1, 1, 1, 1, 64, 0), GR_SHAPE(1, 1, 1, 1, 128, 1), GR_SHAPE(1, 2, 17, 17, 64, 1),               \
     GR_SHAPE(2, 3, 33, 77, 128, 0), GR_SHAPE(1, 2, 5, 131, 64, 1), GR_SHAPE(1, 1, 200, 70, 128, 1),          \
     GR_SHAPE(1, 2, 129, 65, 128, 0), GR_SHAPE(2, 2, 256, 256, 64, 0), GR_SHAPE(1, 1, 300, 1000, 128, 1),      \
     GR_SHAPE(1, 4, 1, 4096, 128, 1), GR_SHAPE(1, 2, 1024, 1024, 128, 1), GR_SHAPE(1, 1, 700, 300, 64, 1)}
/* The causal timing entries re-check one causal shape that crosses tile edges, not the whole list. */
#define GR_FLASH_CAUSAL_SHAPES {GR_SHAPE(1, 2, 129, 65, 128, 1)}
#define GR_FLASH_BENCH_FULL GR_SHAPE(4, 16, 4096, 4096, 128, 0)
#define GR_FLASH_BENCH_CAUSAL GR_SHAPE(4, 16, 4096, 4096, 128, 1)

#endif
