/* CPU references for attention (sessions 08 and 09): softmax of a row, the same softmax computed
 * online tile by tile, and scaled dot-product attention with an optional causal mask. Everything is
 * computed in float64 and rounded once to float32 at the end.
 *
 * Layouts, row-major float32: Q [batch][heads][sq][d], K and V [batch][heads][skv][d],
 * out [batch][heads][sq][d], lse [batch][heads][sq].
 *
 * The causal mask is aligned to the end: query row i may see key j iff j <= i + (skv - sq). With
 * sq == skv that is the usual lower triangle; with sq < skv (decoding with a KV cache: the new
 * queries are the last sq positions) each row also sees every cached key before it. A row that
 * sees no key (possible only when sq > skv) gets output 0 and lse -INFINITY. */
#ifndef GRADER_REF_ATTENTION_H
#define GRADER_REF_ATTENTION_H

#include <stdbool.h>

/* One query row against one head's keys and values (k_head, v_head: [skv][d]), seeing keys
 * 0 .. visible_keys-1. scale multiplies the scores (usually 1/sqrt(d)). Writes out_row[d] and,
 * where not NULL, *lse_out = log(sum_j exp(scale * q.k_j)) over the visible keys (natural log), and
 * scale_out[d]: sum_j p_j |v_j[c]| for each output element c, the magnitude an error in the
 * probabilities p_j is measured against. */
void ref_attention_row(const float *q_row, const float *k_head, const float *v_head, int skv, int d, float scale,
                       int visible_keys, float *out_row, float *lse_out, float *scale_out);

/* How many keys (from index 0) query row i sees: skv, or with the causal mask
 * min(skv, max(0, i + 1 + skv - sq)). */
int ref_attention_visible(int i, int sq, int skv, bool causal);

/* Every row of every head: out = softmax(scale * Q K^T, masked) V. lse may be NULL. */
void ref_attention(const float *q, const float *k, const float *v, float *out, float *lse, int batch, int heads,
                   int sq, int skv, int d, float scale, bool causal);

/* out[j] = exp(x[j] - max) / sum_k exp(x[k] - max). -INFINITY entries (masked scores) give 0; a row
 * of nothing but -INFINITY gives all zeros. */
void ref_softmax_row(const float *x, int n, float *out);

/* What the online softmax knows after folding in one tile. */
typedef struct {
    int step;            /* 1, 2, ...: the tile just folded in */
    int begin, end;      /* its elements: x[begin .. end) */
    double tile_max;     /* the largest value of the tile */
    double old_max;      /* running max before the tile (-INFINITY before the first) */
    double running_max;  /* after: max(old_max, tile_max) */
    double rescale;      /* exp(old_max - running_max): what the old sum is multiplied by (1 when the
                          * max did not move; 0 before the first tile, when the old sum is empty) */
    double tile_sum;     /* sum over the tile of exp(x - running_max) */
    double running_sum;  /* old sum * rescale + tile_sum */
} ref_online_step;

typedef void (*ref_online_trace)(const ref_online_step *step, void *ctx);

/* The same softmax as ref_softmax_row, but in one pass over x, `tile` elements at a time, keeping
 * only a running max m and a running sum s of exp(x - m): when a tile raises the max, the sum so far
 * is rescaled by exp(m_old - m_new). A second pass writes exp(x - m) / s. If trace is not NULL it is
 * called after each tile with what changed (the board demo prints it). tile < 1 means one tile. */
void ref_online_softmax_row(const float *x, int n, int tile, float *out, ref_online_trace trace, void *ctx);

#endif
