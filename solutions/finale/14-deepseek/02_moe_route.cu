// Session 14, exercise 2 (solution): the MoE router's decisions, and the (token, slot) pairs grouped
// by expert so that each expert's GEMM reads its tokens as one contiguous batch.
//
// Two kernels after one that zeroes the counts:
//   route_tokens      one warp per token: the E sigmoid scores spread over the lanes (E / 32 each),
//                     top_k rounds of a warp argmax (ties to the lower expert), the weights, and a
//                     count per expert by atomics (a sum: the same whatever order they land in).
//   group_by_expert   one block per chunk of 256 pairs: where each pair goes in the grouped order.
//                     Position = offset[e] (the prefix of the counts) + the pairs of expert e in
//                     earlier chunks (counted by this block in shared memory) + those earlier in
//                     this chunk. No atomic decides a position, so perm is the same on every run.
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "exercises.h"

#define MAX_EXPERTS 256
#define MAX_TOP_K 8
#define SCORES_PER_LANE (MAX_EXPERTS / 32)   // lane l holds experts l, l + 32, l + 64, ...
#define ROUTE_WARPS 8                         // tokens per block of route_tokens
#define GROUP_THREADS 256                     // pairs per chunk of group_by_expert (and E <= it)

// The better of two candidates: the larger key, or on a tie the lower expert.
__device__ __forceinline__ bool better(float key, int e, float best_key, int best_e) {
    return key > best_key || (key == best_key && e < best_e);
}

__global__ void __launch_bounds__(ROUTE_WARPS * 32)
route_tokens(const float *__restrict__ logits, const float *__restrict__ bias, int T, int E, int top_k,
             int *__restrict__ topk_idx, float *__restrict__ topk_weight, int *__restrict__ expert_count) {
    const int lane = threadIdx.x % 32, t = blockIdx.x * ROUTE_WARPS + threadIdx.x / 32;
    if (t >= T) return;  // a whole warp leaves together: nothing below waits for the block
    const float *u = logits + (size_t)t * E;

    float score[SCORES_PER_LANE], key[SCORES_PER_LANE];
#pragma unroll
    for (int j = 0; j < SCORES_PER_LANE; j++) {
        const int e = lane + 32 * j;
        score[j] = e < E ? 1.0f / (1.0f + expf(-u[e])) : 0.0f;
        key[j] = e < E ? score[j] + bias[e] : -INFINITY;
    }

    unsigned taken = 0;             // bit j: expert lane + 32 j is already chosen
    int my_expert = 0;              // lane r keeps round r's choice
    float my_score = 0.0f;
    for (int r = 0; r < top_k; r++) {
        // The lane's own best untaken expert; its experts ascend with j, so > keeps the lower one.
        float best_key = -INFINITY, best_score = 0.0f;
        int best_e = INT32_MAX;
#pragma unroll
        for (int j = 0; j < SCORES_PER_LANE; j++) {
            const int e = lane + 32 * j;
            if (e < E && !(taken >> j & 1) && better(key[j], e, best_key, best_e)) {
                best_key = key[j]; best_e = e; best_score = score[j];
            }
        }
        // The warp's best: a butterfly, so that every lane ends with the same winner.
#pragma unroll
        for (int off = 16; off > 0; off /= 2) {
            const float k2 = __shfl_xor_sync(0xffffffffu, best_key, off);
            const int e2 = __shfl_xor_sync(0xffffffffu, best_e, off);
            const float s2 = __shfl_xor_sync(0xffffffffu, best_score, off);
            if (better(k2, e2, best_key, best_e)) { best_key = k2; best_e = e2; best_score = s2; }
        }
        if (best_e % 32 == lane) taken |= 1u << (best_e / 32);
        if (lane == r) { my_expert = best_e; my_score = best_score; }
    }

    float sum = lane < top_k ? my_score : 0.0f;
#pragma unroll
    for (int off = 16; off > 0; off /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, off);
    if (lane < top_k) {
        const size_t pair = (size_t)t * top_k + lane;
        topk_idx[pair] = my_expert;
        topk_weight[pair] = my_score / sum;
        atomicAdd(expert_count + my_expert, 1);
    }
}

__global__ void __launch_bounds__(GROUP_THREADS)
group_by_expert(const int *__restrict__ topk_idx, const int *__restrict__ expert_count, int E, int n_pairs,
                int *__restrict__ expert_offset, int *__restrict__ perm, int *__restrict__ inv_perm) {
    __shared__ int offset[GROUP_THREADS];       // inclusive, then read as offset[e - 1]
    __shared__ int earlier[MAX_EXPERTS];        // pairs of each expert in the chunks before this one
    __shared__ int chunk_expert[GROUP_THREADS]; // this chunk's pairs' experts
    const int tid = threadIdx.x, chunk_start = blockIdx.x * GROUP_THREADS;

    // The counts' prefix sum over the experts (Hillis-Steele: log2(256) = 8 steps).
    offset[tid] = tid < E ? expert_count[tid] : 0;
    if (tid < E) earlier[tid] = 0;
    __syncthreads();
    for (int d = 1; d < GROUP_THREADS; d *= 2) {
        const int add = tid >= d ? offset[tid - d] : 0;
        __syncthreads();
        offset[tid] += add;
        __syncthreads();
    }
    if (blockIdx.x == 0 && tid < E) {
        expert_offset[tid + 1] = offset[tid];
        if (tid == 0) expert_offset[0] = 0;
    }

    // Every earlier chunk's pairs, counted per expert. The earlier chunks are in L2 by now; the
    // last block reads all n_pairs of them, which at DeepSeek's 4096 x 8 is 128 KB.
    for (int q = tid; q < chunk_start; q += GROUP_THREADS) atomicAdd(earlier + topk_idx[q], 1);
    const int p = chunk_start + tid;
    const int e = p < n_pairs ? topk_idx[p] : -1;
    chunk_expert[tid] = e;
    __syncthreads();
    if (e < 0) return;

    int rank = 0;  // pairs of expert e earlier in this chunk
    for (int j = 0; j < tid; j++) rank += chunk_expert[j] == e;
    const int pos = (e > 0 ? offset[e - 1] : 0) + earlier[e] + rank;
    perm[pos] = p;
    inv_perm[p] = pos;
}

// The counts start at 0 for route_tokens' atomics (a kernel, not a memset: an exercise's launcher
// works in its buffers only through kernels).
__global__ void zero_counts(int *expert_count, int E) {
    if ((int)threadIdx.x < E) expert_count[threadIdx.x] = 0;
}

void moe_route(const float *logits, const float *bias, int T, int E, int top_k, int *topk_idx, float *topk_weight,
               int *expert_count, int *expert_offset, int *perm, int *inv_perm, cudaStream_t stream) {
    if (T < 1) return;
    if (E < 1 || E > MAX_EXPERTS || top_k < 1 || top_k > MAX_TOP_K || top_k > E) {
        fprintf(stderr, "moe_route: E %d, top_k %d: want E <= %d and 1 <= top_k <= min(E, %d)\n", E, top_k,
                MAX_EXPERTS, MAX_TOP_K);
        return;
    }
    const int n_pairs = T * top_k;
    zero_counts<<<1, MAX_EXPERTS, 0, stream>>>(expert_count, E);  // a kernel: the launcher only launches
    route_tokens<<<(T + ROUTE_WARPS - 1) / ROUTE_WARPS, ROUTE_WARPS * 32, 0, stream>>>(
        logits, bias, T, E, top_k, topk_idx, topk_weight, expert_count);
    group_by_expert<<<(n_pairs + GROUP_THREADS - 1) / GROUP_THREADS, GROUP_THREADS, 0, stream>>>(
        topk_idx, expert_count, E, n_pairs, expert_offset, perm, inv_perm);
}
