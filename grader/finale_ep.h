/* Session 14's exercise 05 (expert parallelism over several GPUs) as the grader sees it: the
 * whole world's buffers, its inputs, the CPU reference of the round trip, the tolerance and the
 * byte count. Host code only: the check driver (finale/14-deepseek/check.c) holds what touches the
 * GPUs and NCCL (the world, the slices, the yardstick).
 *
 * Shape (T, E, top_k, H [, dT [, routing]]): rank r holds T + r * dT tokens of H BF16 values (dT
 * 0 when absent), E experts split over the ranks as exercises.h says, routing 0 (absent) draws a
 * token's top_k distinct experts uniformly, 1 gives every token the first top_k experts (in a
 * random order), 2 the last top_k: all the traffic to one end of the world, the other experts and
 * ranks receiving nothing. The number of ranks R is the machine's, known when the case is
 * declared: the check driver sets c->param[0] = R before fm_ep_declare.
 *
 * Buffers, every rank's rows stacked (rank 0's first, then rank 1's, ...):
 *   inputs   "x" (T_all x H BF16), "topk_idx" (T_all x top_k int32), "topk_weight" (T_all x top_k
 *            float), "expert_scale" (E float; rank r receives its own experts' run of it)
 *   output   "y" (T_all x H BF16); a reference row per token.
 */
#ifndef GRADER_FINALE_EP_H
#define GRADER_FINALE_EP_H

#include "grader.h"

#define FM_EP_MAX_RANKS 8
#define FM_EP_MAX_EXPERTS 256
#define FM_EP_MAX_TOP_K 8

/* Tokens of rank r, their first row in the stacked arrays, and all ranks' tokens together. */
long fm_ep_tokens(const gr_shape *s, int r);
long fm_ep_first_row(const gr_shape *s, int r);
long fm_ep_tokens_all(const gr_shape *s, int ranks);
/* Experts and ranks, as exercises.h defines them: rank r owns first_expert(r) .. first_expert(r + 1) - 1. */
int fm_ep_first_expert(int r, int E, int ranks);
int fm_ep_owner(int e, int E, int ranks);

void fm_ep_declare(gr_case *c);
/* Distinct experts per token as the shape's routing says, weights positive and summing to 1 per
 * token (a router's), scales of both signs with magnitudes from 1/4 to 4 (an expert that ignored
 * its scale's sign or took another's would be off by far more than the tolerance). */
void fm_ep_adjust(gr_case *c);
/* y_t = sum_j w_tj * scale[e_tj] * x_t in float64 (the exact value, no rounding of the experts'
 * outputs), with the magnitudes sum_j |w_tj * scale[e_tj] * x_t| as the output's scale. */
void fm_ep_reference(gr_case *c, long row_begin, long row_end);
double fm_ep_tolerance(const gr_shape *s);
/* Rows a rank's tokens send and get back, one per (token, slot) pair each way: 2 * T * top_k * H * 2
 * bytes (rank 0's T, plus dT / 2). Every such row is written once where it lands and read once
 * where it is used, so an honest round trip moves at least these bytes through memory; a launcher
 * faster than the HBM roof on them has not moved its tokens (IMPOSSIBLE). */
double fm_ep_bytes(const gr_shape *s);

#endif
