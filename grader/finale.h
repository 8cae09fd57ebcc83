/* Session 14's exercises 02 (MoE routing) and 04 (speculative accept) as the grader sees them:
 * buffers, inputs, CPU references, tolerances, byte counts. The check driver
 * (finale/14-deepseek/check.c) holds only the launch functions; 01 (MLA decode) is in finale_mla.h.
 *
 *   02 moe_route        (T, E, top_k)      finale_route.c
 *   04 accept_greedy    (B, k)             finale_accept.c
 *   04 accept_sampled   (B, k, V)          finale_accept.c
 */
#ifndef GRADER_FINALE_H
#define GRADER_FINALE_H

#include "grader.h"

/* ---- 02 MoE routing (finale_route.c) ------------------------------------------------------------
 * Inputs "logits" (T x E float), "bias" (E float). Outputs "topk_idx", "topk_weight" (T x top_k),
 * "expert_count" (E), "expert_offset" (E + 1), "perm", "inv_perm" (T * top_k), int32 but the
 * weights. One reference row: the whole case (the grouping is global). */
#define FM_MAX_EXPERTS 256
#define FM_MAX_TOP_K 8
void fm_route_declare(gr_case *c);
/* The logits and biases reshaped so that no two keys s + bias of a token are closer than
 * FM_ROUTE_MARGIN unless they are exactly equal (same logit, same bias): such exact ties are planted
 * on purpose, and the lower expert must win them. */
void fm_route_adjust(gr_case *c);
void fm_route_reference(gr_case *c, long row_begin, long row_end);
double fm_route_tolerance(const gr_shape *s);
double fm_route_bytes(const gr_shape *s);
void fm_route_note(const gr_shape *s, char *buf, size_t len);
/* Two keys of one token closer than this could be ordered one way by the GPU's expf and the other
 * by the host's (each is within a few float ulps, about 1e-7, of the true value). */
#define FM_ROUTE_MARGIN 0x1p-16
/* The model's routing of one token (MODEL.md "MoE feed-forward"), the reference's core: the keys
 * s + bias in float as finale/mini/engine/moe.c forms them, so the choice is the model's bit for
 * bit; chosen[top_k] in the order picked (largest key first, ties to the lower index); weights in
 * float64 from the float64 sigmoid. */
void fm_route_token(const float *logits, const float *bias, int E, int top_k, int *chosen, double *weight);

/* ---- 04 speculative accept (finale_accept.c) -----------------------------------------------------
 * Greedy (B, k): inputs "draft" (B x k), "target_argmax" (B x (k + 1)) int32.
 * Sampled (B, k, V): inputs "p_target" (B x (k + 1) x V), "p_draft" (B x k x V), "draft" (B x k),
 * "u_accept" (B x k), "u_sample" (B).
 * Both: outputs "accepted" (B) and "out_tokens" (B x (k + 1)) int32; a reference row per sequence. */
void fm_greedy_declare(gr_case *c);
/* Each sequence agrees with the target for a drawn number n of drafts (0 .. k, every value likely),
 * then disagrees at n, and after n agrees again at random: only the prefix counts. */
void fm_greedy_adjust(gr_case *c);
void fm_greedy_reference(gr_case *c, long row_begin, long row_end);
double fm_greedy_bytes(const gr_shape *s);
void fm_greedy_note(const gr_shape *s, char *buf, size_t len);
double fm_accept_tolerance(const gr_shape *s);   /* 0: integers, exact */

void fm_sampled_declare(gr_case *c);
/* Peaked probability rows (like a language model's), the target's and the draft's related; drafts
 * drawn from the draft rows; sequences b with b % 4 == 3 accept all k drafts, the others reject
 * at a drawn position; every u kept FM_ACCEPT_MARGIN from its accept decision and every u_sample
 * FM_DRAW_MARGIN (of the row's total weight) from the edges of the token it draws. */
void fm_sampled_adjust(gr_case *c);
void fm_sampled_reference(gr_case *c, long row_begin, long row_end);
double fm_sampled_bytes(const gr_shape *s);
void fm_sampled_note(const gr_shape *s, char *buf, size_t len);
/* u_accept against p_target[x] / p_draft[x]: float division (or u * p_draft < p_target) is off by
 * about 1e-7, far inside this. */
#define FM_ACCEPT_MARGIN 0x1p-14
/* The draw's cumulative sums in float, summed in any tree-like order (per-warp sums, a block scan),
 * are within about log2(V) * eps = 2e-6 of the total; a purely sequential float sum over 32000
 * terms may drift past this. */
#define FM_DRAW_MARGIN 0x1p-17
/* The sampled rule for one sequence in float64 (the reference's core): returns n, writes
 * out_tokens[k + 1]. Rows as in exercises.h, this sequence's only. */
int fm_sampled_row(const float *p_target, const float *p_draft, const int *draft, const float *u_accept,
                   float u_sample, int k, int V, int *out_tokens);
/* Which sequences accept every draft in the check's inputs (the byte count relies on it). */
#define FM_ALL_ACCEPTED(b) ((b) % 4 == 3)

#endif
