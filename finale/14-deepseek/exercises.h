/* Session 14: the finale's kernels, the pieces of a DeepSeek-style serving step, and the
 * mini-model (finale/mini) that runs on them.
 *
 * Row-major throughout; BF16 tensors arrive as uint16_t (the top half of a float32). Pointers are
 * device pointers. Every launcher runs on its stream only, never synchronises the host, and so can
 * be captured in a CUDA graph. */
#ifndef SESSION14_EXERCISES_H
#define SESSION14_EXERCISES_H

#include <stddef.h>
#include <stdint.h>
#include <cuda_runtime.h>
/* 05 talks through NCCL where the build found it (the Makefile defines WB_HAVE_NCCL for this
 * session); without it the communicator is an opaque pointer type that nothing uses, the same one
 * nccl.h declares. */
#ifdef WB_HAVE_NCCL
#include <nccl.h>
#else
typedef struct ncclComm *ncclComm_t;
#endif

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

/* 05: expert parallelism (EP), DeepSeek's serving layout, over R GPUs ("ranks") driven by one
 * process. The E routed experts are split evenly: rank r owns experts ep_first_expert(r) ..
 * ep_first_expert(r + 1) - 1, with ep_first_expert(r) = r * E / R (integer division). Rank r holds
 * T[r] >= 0 tokens: x[r] (T[r] x H BF16) and their router's decisions, topk_idx[r] (T[r] x top_k,
 * distinct experts of a token, 0 <= e < E) and topk_weight[r] (T[r] x top_k, FP32). An expert's
 * parameters live on its owner only: expert_scale[r] holds the scales of rank r's own experts
 * (ep_first_expert(r + 1) - ep_first_expert(r) floats, the first for expert ep_first_expert(r)).
 * Expert e maps a row x to bf16(scale_e * x), the product in FP32 and rounded to BF16 as an
 * expert's output is before it travels back. Output y[r] (T[r] x H BF16), on rank r:
 *     y_t = bf16( sum over j < top_k of topk_weight[t][j] * expert_{topk_idx[t][j]}(x_t) ),
 * the sum in FP32.
 *
 * The work moves the tokens, as EP does: every (token, slot) pair whose expert lives on another
 * rank travels there as a row of its own (H BF16 values: top_k * H * 2 bytes a token at most, each
 * way), is transformed by its expert on that rank, and travels back to be combined (dispatch and
 * combine). Pairs whose expert is on the token's own rank need not travel; no expert's scale
 * leaves its rank. Rows travel through NCCL (grouped sends and receives) or, where the world has
 * peer access, by kernels storing them straight into the other rank's memory.
 *
 * The world: w->ranks = R (2 <= R <= EP_MAX_RANKS, R <= E), rank r's pointers are on device
 * w->device[r], its device work goes on w->stream[r], and its NCCL communicator is w->comm[r] (one
 * clique made by ncclCommInitAll: rank r of it is w->comm[r]). T is a host array; every other array
 * of pointers is a host array of R device pointers. Unlike the launchers above, this one waits on
 * the host once: how many rows go from each rank to each other depends on every rank's routing, so
 * the ranks first exchange their per-expert counts (a small all-to-all) and the host reads them
 * back before sizing the row exchanges. That is normal for EP without worst-case buffers; all
 * other work is asynchronous on the ranks' streams. The launcher may switch the calling thread's
 * current device and sets it back to the one it found. work[r] (on rank r's device) holds
 * work_bytes >= ep_work_bytes(R, E, top_k, H, T[0] + ... + T[R - 1]) bytes, yours. Shapes:
 * 1 <= top_k <= min(E, 8), E <= 256, H % 8 == 0 (rows of 16-byte pieces). */
#define EP_MAX_RANKS 8
#define EP_WORLD_EVENTS 4
typedef struct {
    int ranks;
    int device[EP_MAX_RANKS];
    ncclComm_t comm[EP_MAX_RANKS];
    cudaStream_t stream[EP_MAX_RANKS];
    int *counts_host[EP_MAX_RANKS];         /* pinned host room for rank r's counts read back (E + R E ints) */
    cudaEvent_t counts_read[EP_MAX_RANKS];  /* recorded on rank r's stream once they are copied there */
    /* 1 when peer access is on between every two ranks' devices (NVLink, as DeepEP uses it): then a
     * kernel on rank r may store straight into another rank's memory (its work buffer, say), and
     * one rank's stream may wait for an event of another's. */
    int peer_access;
    cudaEvent_t event[EP_MAX_RANKS][EP_WORLD_EVENTS];  /* rank r's, yours to record and wait for */
} ep_world;
/* Room for any routing: all ranks' pairs as rows twice over (what a rank sends and what it can
 * receive, with room to spare), their integers (counts, places, experts), and room to align each
 * piece to 256 bytes. */
static inline size_t ep_work_bytes(int ranks, int E, int top_k, int H, long tokens_all) {
    const size_t pairs = (size_t)tokens_all * (size_t)top_k;
    return 2 * pairs * (size_t)H * 2 + 4 * (3 * (size_t)E + 1 + (size_t)ranks * (size_t)E + 2 * pairs) + 16 * 256;
}
void ep_dispatch_combine(const ep_world *w, int E, int top_k, int H, const int *T, const uint16_t *const *x,
                         const int *const *topk_idx, const float *const *topk_weight,
                         const float *const *expert_scale, uint16_t *const *y, void *const *work, size_t work_bytes);

#ifdef __cplusplus
}
#endif

#endif
