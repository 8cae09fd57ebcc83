// Session 14, exercise 4: speculative decoding's verify step for a batch, in one launch
// (so the step can sit in a CUDA graph with the model's passes).
//
//   accept_greedy    one warp per sequence: a ballot of "draft i differs from the target's argmax"
//                    over 32 positions at a time; the first set bit is the number accepted.
//   accept_sampled   one block per sequence: the accept tests (u * q < p, a few floats), then the
//                    draw from the residual max(0, p - q) (or from p when all were accepted). The
//                    row is cut into one contiguous chunk per warp; each warp sums its chunk, the
//                    chunk whose range of the running sum holds u * total is walked 32 tokens at a
//                    time with a warp scan until the sum passes the target.
//
// The per-sequence rules are __host__ __device__ functions, and accept_sampled_row below runs the
// kernel's steps one at a time on the host: tests/accept-sampled-test.sh checks on the CPU that it
// reproduces p_target's distribution.
//
// Yours: the greedy prefix and its tokens, the accept test, the residual, the chunk sums and the walk.
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "exercises.h"

#define GREEDY_WARPS 4     // sequences per block of accept_greedy
#define SAMPLE_WARPS 8     // chunks of a row, one per warp of accept_sampled's block
#define FULL 0xffffffffu

__global__ void __launch_bounds__(GREEDY_WARPS * 32)
accept_greedy_kernel(const int *__restrict__ draft, const int *__restrict__ target_argmax, int B, int k,
                     int *__restrict__ accepted, int *__restrict__ out_tokens) {
    const int lane = threadIdx.x % 32, b = blockIdx.x * GREEDY_WARPS + threadIdx.x / 32;
    if (b >= B) return;
    const int *d = draft + (size_t)b * k, *t = target_argmax + (size_t)b * (k + 1);

    int n = k;  // all accepted unless a mismatch is found
    // TODO 1, n: 32 positions at a time, lane i asks "does draft i differ from t[i]?" (i < k only);
    //   __ballot_sync gathers the answers, and the lowest set bit (__ffs) is the first mismatch.
    //   Every lane gets the same ballot, so every lane leaves the loop together.

    int *out = out_tokens + (size_t)b * (k + 1);
    // TODO 2, the outputs: lane 0 writes accepted[b] = n; the lanes write out[0 .. k]: the n
    //   accepted drafts, then t[n] (the correction, or the bonus when n = k), then -1.
}

void accept_greedy(const int *draft, const int *target_argmax, int B, int k, int *accepted, int *out_tokens,
                   cudaStream_t stream) {
    if (B < 1 || k < 1) return;
    accept_greedy_kernel<<<(B + GREEDY_WARPS - 1) / GREEDY_WARPS, GREEDY_WARPS * 32, 0, stream>>>(
        draft, target_argmax, B, k, accepted, out_tokens);
}

// ---- the sampled rule, one sequence -------------------------------------------------------------

// Drafts accepted: while u_accept[i] < p[i][x_i] / q[i][x_i], written as a product so that q = 0
// (a token the draft could not have drawn) accepts instead of dividing by zero.
__host__ __device__ inline int count_accepted(const float *pt, const float *pd, const int *draft,
                                              const float *u_accept, int k, int V) {
    int n = 0;
    // TODO 3, the accept tests: draft i (x = draft[i]) is accepted while u_accept[i] * q < p, with
    //   p = pt[i * V + x] and q = pd[i * V + x]; stop at the first rejection.
    return n;
}

// What the draw samples from: the residual after a rejection, p itself when pd_row is NULL.
__host__ __device__ inline float draw_weight(const float *pt_row, const float *pd_row, int v) {
    // TODO 4, the weight of token v: the residual max(0, p - q) after a rejection, p itself when
    //   pd_row is NULL (every draft accepted).
    return 0.0f;
}

// Chunk c of a row of V tokens: [*v0, *v1).
__host__ __device__ inline void chunk_of(int V, int c, int *v0, int *v1) {
    const int size = (V + SAMPLE_WARPS - 1) / SAMPLE_WARPS;
    *v0 = min(c * size, V);
    *v1 = min(*v0 + size, V);
}

// The chunk that holds the target: the last one of positive weight whose running sum starts at or
// below it (the last one of positive weight at all when rounding left the target at the total).
// before[c] is the sum of the chunks before c.
__host__ __device__ inline int owner_chunk(const float *chunk_sum, const float *before, float target) {
    int owner = -1;
    for (int c = 0; c < SAMPLE_WARPS; c++)
        if (chunk_sum[c] > 0.0f && (owner < 0 || before[c] <= target)) owner = c;
    return owner;
}

__host__ __device__ inline void write_tokens(const int *draft, int n, int k, int token, int *out) {
    for (int i = 0; i <= k; i++) out[i] = i < n ? draft[i] : i == n ? token : -1;
}

// The kernel's steps for sequence b, one at a time (host and tests). Returns the number accepted.
__host__ __device__ inline int accept_sampled_row(const float *pt, const float *pd, const int *draft,
                                                  const float *u_accept, float u_sample, int k, int V,
                                                  int *out_tokens) {
    const int n = count_accepted(pt, pd, draft, u_accept, k, V);
    const float *p_row = pt + (size_t)n * V, *q_row = n < k ? pd + (size_t)n * V : NULL;
    float chunk_sum[SAMPLE_WARPS], before[SAMPLE_WARPS], total = 0.0f;
    for (int c = 0; c < SAMPLE_WARPS; c++) {
        int v0, v1;
        chunk_of(V, c, &v0, &v1);
        float s = 0.0f;
        for (int v = v0; v < v1; v++) s += draw_weight(p_row, q_row, v);
        chunk_sum[c] = s;
        before[c] = total;
        total += s;
    }
    const float target = u_sample * total;
    const int c = owner_chunk(chunk_sum, before, target);
    int token = 0;
    if (c >= 0) {
        int v0, v1;
        chunk_of(V, c, &v0, &v1);
        float running = before[c];
        for (int v = v0; v < v1; v++) {
            const float w = draw_weight(p_row, q_row, v);
            if (w <= 0.0f) continue;
            token = v;  // the last positive one, should rounding keep the sum at or below the target
            running += w;
            if (running > target) break;
        }
    }
    write_tokens(draft, n, k, token, out_tokens);
    return n;
}

// ---- the sampled kernel: one block per sequence ------------------------------------------------

__global__ void __launch_bounds__(SAMPLE_WARPS * 32)
accept_sampled_kernel(const float *__restrict__ p_target, const float *__restrict__ p_draft,
                      const int *__restrict__ draft, const float *__restrict__ u_accept,
                      const float *__restrict__ u_sample, int k, int V, int *__restrict__ accepted,
                      int *__restrict__ out_tokens) {
    __shared__ float chunk_sum[SAMPLE_WARPS];
    const int b = blockIdx.x, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const float *pt = p_target + (size_t)b * (k + 1) * V, *pd = p_draft + (size_t)b * k * V;
    const int *d = draft + (size_t)b * k;

    // Every thread runs the few accept tests itself: the same floats, read once into L1.
    const int n = count_accepted(pt, pd, d, u_accept + (size_t)b * k, k, V);
    const float *p_row = pt + (size_t)n * V, *q_row = n < k ? pd + (size_t)n * V : nullptr;

    // Each warp's chunk: lanes stride through it (coalesced), then a butterfly sum.
    int v0, v1;
    chunk_of(V, warp, &v0, &v1);
    float s = 0.0f;
    // TODO 5, the chunk's sum, in place of the placeholder line below (which stores 0 from every
    //   lane): lane l adds the weights of v0 + l, v0 + l + 32, ... below v1 into s; a butterfly of
    //   __shfl_xor_sync adds the lanes; lane 0 alone stores s in chunk_sum[warp].
    chunk_sum[warp] = 0.0f;
    __syncthreads();

    float before[SAMPLE_WARPS], sums[SAMPLE_WARPS], total = 0.0f;
    for (int c = 0; c < SAMPLE_WARPS; c++) {
        sums[c] = chunk_sum[c];
        before[c] = total;
        total += sums[c];
    }
    const float target = u_sample[b] * total;
    const int owner = owner_chunk(sums, before, target);
    if (warp != (owner < 0 ? 0 : owner)) return;  // no weight at all (bad input): warp 0 writes token 0

    // The owner walks its chunk 32 tokens at a time: an inclusive warp scan of the step's weights;
    // the first lane whose running sum passes the target holds the token.
    float running = before[warp];
    int token = -1, last_positive = -1;
    // TODO 6, the walk: for each step of 32 tokens from v0 (below v1), lane l's weight w of token
    //   base + l, its inclusive prefix over the lanes (__shfl_up_sync, 5 steps), then a ballot of
    //   "w > 0 and running + prefix > target": its lowest bit is the token. Otherwise remember the
    //   step's last token of positive weight and add the step's total (lane 31's prefix) to running.
    if (token < 0) token = last_positive < 0 ? 0 : last_positive;  // rounding kept the sum at or below the target
    if (lane == 0) accepted[b] = n;
    int *out = out_tokens + (size_t)b * (k + 1);
    for (int i = lane; i <= k; i += 32) out[i] = i < n ? d[i] : i == n ? token : -1;
}

void accept_sampled(const float *p_target, const float *p_draft, const int *draft, const float *u_accept,
                    const float *u_sample, int B, int k, int V, int *accepted, int *out_tokens, cudaStream_t stream) {
    if (B < 1 || k < 1 || V < 1) return;
    accept_sampled_kernel<<<B, SAMPLE_WARPS * 32, 0, stream>>>(p_target, p_draft, draft, u_accept, u_sample, k, V,
                                                             accepted, out_tokens);
}
