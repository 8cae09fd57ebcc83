/* Session 14: the finale's kernels, the pieces of a DeepSeek-style serving step, and the
 * mini-model (finale/mini) that runs on them.
 *
 * Row-major throughout; BF16 tensors arrive as uint16_t (the top half of a float32). Pointers are
 * device pointers. Every launcher runs on its stream only, never synchronises the host, and so can
 * be captured in a CUDA graph. */
#ifndef SESSION14_EXERCISES_H
#define SESSION14_EXERCISES_H

#include <stdint.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 01: absorbed MLA decode over a paged latent cache (FlashMLA's problem). Each cached token is one
 * row of d_latent + d_rope BF16 values: its latent c (d_latent), then its RoPE key kr (d_rope),
 * shared by every query head. Rows live in blocks of MLA_BLOCK tokens:
 *     kv_cache[block][slot][d_latent + d_rope]
 * token t of sequence b in block block_table[b * max_blocks + t / MLA_BLOCK], slot t % MLA_BLOCK.
 * q is B x s_q x h_q x (d_latent + d_rope) (the query already absorbed: its latent part is
 * wk_b^T q_nope); seq_len[b] counts the sequence's tokens including its s_q new ones, already in
 * the cache. Query token i (0 .. s_q - 1) sees tokens 0 .. seq_len[b] - s_q + i (causal). For each
 * (b, i, h): out = sum_t p_t c_t with p = softmax_t(scale * q . [c_t, kr_t]); out is
 * B x s_q x h_q x d_latent BF16 (the caller applies wv_b afterwards). work: B * s_q * h_q *
 * MLA_SPLIT_MAX * (d_latent + 1) floats, yours. Shapes: d_latent 64 or 512, d_rope 16 or 64,
 * s_q 1 or 2, any h_q >= 1, any B >= 1, seq_len[b] >= s_q. */
#define MLA_BLOCK 64
#define MLA_SPLIT_MAX 64
void mla_decode(const uint16_t *q, const uint16_t *kv_cache, const int *block_table, const int *seq_len, int max_blocks,
                float scale, uint16_t *out, int B, int s_q, int h_q, int d_latent, int d_rope, float *work,
                cudaStream_t stream);

/* 02: the router's decisions for T tokens over E experts (E <= 256, 1 <= top_k <= min(E, 8)), as
 * finale/mini/MODEL.md defines them: logits is T x E (u = router . a), s = sigmoid(u); a token's
 * top_k experts are the largest s + bias (ties to the lower expert index), its weights
 * g = s / (sum of s over its chosen experts). Outputs:
 *   topk_idx, topk_weight   T x top_k, in the order chosen (largest s + bias first);
 *   expert_count            E: how many (token, slot) pairs chose each expert;
 *   expert_offset           E + 1: the exclusive prefix sum of expert_count (offset[E] = T * top_k);
 *   perm                    T * top_k: entry p of the expert-grouped order is the pair index
 *                           t * top_k + j; grouped by expert ascending, and inside an expert by
 *                           pair index ascending (so the result is unique);
 *   inv_perm                T * top_k: inv_perm[perm[p]] = p. */
void moe_route(const float *logits, const float *bias, int T, int E, int top_k, int *topk_idx, float *topk_weight,
               int *expert_count, int *expert_offset, int *perm, int *inv_perm, cudaStream_t stream);

/* 04: speculative decoding's verify step for a batch of B sequences, k >= 1 drafted tokens each.
 * Greedy: draft is B x k, target_argmax B x (k + 1) (the target model's argmax at each of the k + 1
 * positions of its one verify pass). accepted[b] = n, the length of the longest prefix of the drafts
 * equal to the target's argmax; out_tokens (B x (k + 1)) holds the n accepted drafts, then the
 * target's own token target_argmax[b][n] (a correction, or the bonus when n = k), then -1. */
void accept_greedy(const int *draft, const int *target_argmax, int B, int k, int *accepted, int *out_tokens,
                   cudaStream_t stream);

/* 04 (its +sampled entry): the same with sampling (speculative sampling): p_target is
 * B x (k + 1) x V and p_draft B x k x V, probabilities (rows sum to 1); draft B x k the drafted
 * tokens; u_accept B x k and u_sample B, uniform numbers in [0, 1). Draft i is accepted while
 * u_accept[b][i] < p_target[b][i][x_i] / p_draft[b][i][x_i] (x_i = draft[b][i]). At the first
 * rejection n the token is drawn from the residual r = max(0, p_target[b][n] - p_draft[b][n]); when
 * all k are accepted, from p_target[b][k]. Drawing from a distribution w over V: the smallest v
 * with w[0] + ... + w[v] > u_sample[b] * (w[0] + ... + w[V - 1]). Outputs as accept_greedy. */
void accept_sampled(const float *p_target, const float *p_draft, const int *draft, const float *u_accept,
                    const float *u_sample, int B, int k, int V, int *accepted, int *out_tokens, cudaStream_t stream);

/* 03: the FP8 grouped GEMM of an MoE layer (DeepGEMM's problem). A holds M rows of K FP8 e4m3
 * values (bytes, OCP e4m3: bias 7, max 448, 0x7F and 0xFF are NaN and never occur), with one FP32
 * scale per row and per 128 values of K: sa is M x ceil(K / 128) (the "1 x 128" activation
 * scales). B holds G weight matrices, each N x K e4m3 (a linear layer's [out][in]), with one FP32
 * scale per 128 x 128 tile: sb is G x ceil(N / 128) x ceil(K / 128) (the last tiles may be partial).
 * For a row m of group g:
 *     D[m][n] = sum over K blocks kb of  sa[m][kb] * sb[g][n / 128][kb] * (sum over k in kb of
 *               e4m3(A[m][k]) * e4m3(B[g][n][k]))
 * the inner sums in FP32 (products of e4m3 values are exact), the scales applied once per block,
 * D in BF16. K % 16 == 0 (16-byte rows); any M, N >= 1; G >= 1.
 * Contiguous layout (prefill): the groups' rows stacked; group g owns rows group_offset[g] ..
 * group_offset[g + 1] - 1 (G + 1 offsets, group_offset[0] = 0, group_offset[G] = M; a group may
 * be empty). D is M x N. */
void fp8_grouped_gemm_contiguous(const uint8_t *A, const float *sa, const uint8_t *B, const float *sb, uint16_t *D,
                                 const int *group_offset, int G, int M, int N, int K, cudaStream_t stream);
/* 03 (its +masked entry), the masked layout (decode: few tokens per expert, sizes known only on
 * the device): A is G x M_max x K, sa G x M_max x ceil(K / 128), D G x M_max x N; group g uses its
 * first masked_m[g] rows (0 .. M_max) and D's other rows are left as they were. */
void fp8_grouped_gemm_masked(const uint8_t *A, const float *sa, const uint8_t *B, const float *sb, uint16_t *D,
                             const int *masked_m, int G, int M_max, int N, int K, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
