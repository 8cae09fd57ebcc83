/* The engine's own kernels: the glue between the course's kernels (norms, RoPE and the latent
 * cache, the absorbed query, the experts' FP8 inputs, the MoE sum, the output head). Each rounds
 * exactly where MODEL.md's "Serving numerics" says. T rows are T positions, one after another; a
 * launcher that needs the position reads it from device memory (*pos, plus a fixed offset), so a
 * captured step replays at the next position. BF16 as uint16_t. */
#ifndef MINI_GPU_KERNELS_H
#define MINI_GPU_KERNELS_H

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

/* x[t] = embed[tokens[*pos + t]] as floats, t < T. */
void k_embed(const uint16_t *embed, const int *tokens, const int *pos, int T, float *x, int d, cudaStream_t s);

/* Each of T rows: out = BF16(g * (x * 1 / sqrt(mean(x^2) + eps))). */
void k_rmsnorm(const float *x, const float *g, int d, float eps, int T, uint16_t *out, cudaStream_t s);

/* The MTP module's input, T rows: cat[t] = [BF16(rmsnorm(h[t], hnorm)), BF16(rmsnorm(embed[tokens[*pos
 * + tok_off + t]], enorm))], 2 d values (mtp.proj's input). */
void k_mtp_input(const float *h, const uint16_t *embed, const int *tokens, const int *pos, int tok_off, int T,
                 const float *hnorm, const float *enorm, int d, float eps, uint16_t *cat, cudaStream_t s);

/* x = y as floats (n values). */
void k_bf16_to_float(const uint16_t *y, int n, float *x, cudaStream_t s);

/* The attention's glue, T positions p = *pos + pos_off + t, from row t of the stacked projection
 * proj = [q, kv_a, k_rope] (one gemv_bf16 of wq, wkv_a and wk_rope stacked): the latent cache row p
 * (BF16(rmsnorm(kv_a, kv_norm)), then BF16(rope(k_rope))), seq_len[t] = p + 1 (what mla_decode
 * sees), and, with_query, the absorbed query q_mla[t][h] = [BF16(wk_b_h^T q_nope_h),
 * BF16(rope(q_rope_h))] for every head. cos/sin: [max_seq][d_rope / 2]. The cache's blocks are in
 * order (block table 0, 1, 2, ...), so row p is at p * (d_latent + d_rope). */
typedef struct {
    int n_heads, d_nope, d_rope, d_latent;
    float eps;
} MlaShape;
void k_mla_prep(MlaShape sh, const uint16_t *proj, int with_query, const float *kv_norm, const uint16_t *wk_b,
                const float *cos_t, const float *sin_t, const int *pos, int pos_off, int T, uint16_t *kv_cache,
                int *seq_len, uint16_t *q_mla, cudaStream_t s);

/* o[t][h * d_v + j] = BF16(wv_b[h * d_v + j] . o_lat[t][h]) for every head of T positions. */
void k_value_up(const uint16_t *wv_b, const uint16_t *o_lat, int T, int n_heads, int d_v, int d_latent, uint16_t *o,
                cudaStream_t s);

/* T rows: normed[t] = BF16(rmsnorm(x[t] + attn[t], gain)) (attn BF16); logits[t][e] = router[e] .
 * normed[t] in float (the router's FP32 weights, E experts). x is left as it is: k_moe_combine adds
 * attn to it. */
void k_add_norm_router(const float *x, const uint16_t *attn, const float *gain, const float *router, int E, int d, float eps,
                       int T, uint16_t *normed, float *logits, cudaStream_t s);

/* out[t][r] = W[r] . a[t] in float, T rows of a, W BF16 (the output head). */
void k_gemv_bf16w_f32out(const uint16_t *W, const uint16_t *a, int rows, int cols, int T, float *out, cudaStream_t s);

/* The routed experts' FP8 inputs: for expert g and its p-th pair (p < count[g]), the token's row
 * a (d BF16 values) quantised into A[g][p] with one scale per 128 values (s = amax / 448, 1 when
 * amax is 0; code = e4m3(x / s)), and the same into A[G + g][p] (A and sa hold 2 G groups): the
 * inputs of w1 and w3 run as one grouped GEMM. count2[g] = count2[G + g] = count[g], its counts.
 * Rows past count[g] are not touched. */
void k_gather_quantize(const uint16_t *a, const int *perm, const int *offset, const int *count, int top_k, int G,
                       int M_max, int d, uint8_t *A, float *sa, int *count2, cudaStream_t s);

/* h = silu(D1) * D3 for expert g's first count[g] rows, quantised as above into A2, sa2. */
void k_swiglu_quantize(const uint16_t *D1, const uint16_t *D3, const int *count, int G, int M_max, int d_hidden,
                       uint8_t *A2, float *sa2, cudaStream_t s);

/* h = BF16(silu(u) * v) for the shared expert (n values). */
void k_swiglu_bf16(const uint16_t *u, const uint16_t *v, int n, uint16_t *h, cudaStream_t s);

/* Expert parallelism: local[e] = count[e] for this rank's experts first .. end - 1, 0 for the
 * others (the grouped GEMMs then skip them); and expert e's first count[e] rows of D2 set to -0
 * for every expert not this rank's, so that a sum over the ranks gives each row its owner's bits. */
void k_ep_local_counts(const int *count, int E, int first, int end, int *local, cudaStream_t s);
void k_ep_zero_remote(uint16_t *D2, const int *count, int E, int first, int end, int M_max, int d, cudaStream_t s);

/* x[t] = (x[t] + attn[t]) + (shared[t] + the sum of token t's experts' g * y, in ascending expert
 * order) (T tokens); then, unless next_gain is NULL, normed[t] = BF16(rmsnorm(x[t], next_gain)). */
void k_moe_combine(float *x, const uint16_t *attn, const uint16_t *shared, const uint16_t *D2, const int *topk_idx, const float *topk_weight,
                   const int *inv_perm, const int *offset, int top_k, int M_max, int d, int T, const float *next_gain,
                   float eps, uint16_t *normed, cudaStream_t s);

/* best[t] = the first maximum of logits[t] (V values), T rows. */
void k_argmax_rows(const float *logits, int V, int T, int *best, cudaStream_t s);

/* Greedy's step end (one position p = *pos): logits and the hidden state x kept at row p of
 * logits_all and hidden_all; the argmax (first maximum) becomes tokens[p + 1] unless that position is
 * still the prompt's; *pos = p + 1. */
void k_step_end(const float *logits, int vocab, const float *x, int d, const int *prompt_len, int *tokens,
                float *logits_all, float *hidden_all, int *pos, cudaStream_t s);

/* A draft step's end: draft j's token (j = 1 .. k) is the argmax of the MTP's logits; it goes to
 * tokens[*pos + j] (where the verify pass reads it) and draft[j - 1] (for accept_greedy). */
void k_draft_pick(const float *logits, int vocab, int *tokens, const int *pos, int j, int *draft, cudaStream_t s);

/* After accept_greedy (a = accepted[0] drafts kept): tokens[*pos + 1 .. *pos + a + 1] = out_tokens[0 .. a],
 * h_last = hidden row a of the verify pass, accept_hist[a] += 1. *pos is not moved (k_advance). */
void k_accept_commit(const int *accepted, const int *out_tokens, const float *hidden, int d, int *tokens, const int *pos,
                     float *h_last, int *accept_hist, cudaStream_t s);

/* *pos += accepted[0] + 1. */
void k_advance(const int *accepted, int *pos, cudaStream_t s);

/* Random weights for the scaled configuration, drawn on the GPU from (seed, index): floats center +
 * amplitude * u, BF16 amplitude * u (u uniform in [-1, 1)), and e4m3 codes of magnitude 0.25 .. 3.75. */
void k_fill_f32(float *p, size_t n, uint64_t seed, float center, float amplitude, cudaStream_t s);
void k_fill_bf16(uint16_t *p, size_t n, uint64_t seed, float amplitude, cudaStream_t s);
void k_fill_fp8(uint8_t *p, size_t n, uint64_t seed, cudaStream_t s);

#endif
