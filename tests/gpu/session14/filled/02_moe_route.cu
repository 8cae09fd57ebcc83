// Session 14, exercise 2: the MoE router's decisions, and the (token, slot) pairs grouped by expert
// so that each expert's GEMM reads its tokens as one contiguous batch.
//
// Two kernels after one that zeroes the counts:
//   route_tokens      one warp per token: the E sigmoid scores spread over the lanes (E / 32 each),
//                     top_k rounds of a warp argmax (ties to the lower expert), the weights, and a
//                     count per expert by atomics (a sum: the same whatever order they land in).
//   group_by_expert   one block per chunk of 256 pairs: where each pair goes in the grouped order.
//                     Position = offset[e] (the prefix of the counts) + the pairs of expert e in
//                     earlier chunks (counted by this block in shared memory) + those earlier in
//                     this chunk. No atomic decides a position, so perm is the same on every run.
//
// Yours: the scores, the warp argmax, the weights, the prefix sum and the positions.
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
    // TODO 1, the lane's scores: for j < SCORES_PER_LANE, expert e = lane + 32 j (when e < E) has
    //   score s = 1 / (1 + expf(-u[e])) and key s + bias[e]. Give a missing expert the key -INFINITY.
#pragma unroll
    for (int j = 0; j < SCORES_PER_LANE; j++) {
        const int e = lane + 32 * j;
        if (e < E) {
            score[j] = 1.0f / (1.0f + expf(-u[e]));
            key[j] = score[j] + bias[e];
        } else {
            score[j] = 0.0f;
            key[j] = -INFINITY;
        }
    }

    unsigned taken = 0;             // bit j: expert lane + 32 j is already chosen
    int my_expert = 0;              // lane r keeps round r's choice
    float my_score = 0.0f;
    for (int r = 0; r < top_k; r++) {
        float best_key = -INFINITY, best_score = 0.0f;
        int best_e = INT32_MAX;
        // TODO 2, round r: the lane's best untaken expert (better() decides), then the warp's best
        //   by a butterfly of __shfl_xor_sync over key, expert and score, so that every lane ends
        //   with the same winner. Its owner lane marks it taken; lane r keeps it in my_expert and
        //   my_score.
#pragma unroll
        for (int j = 0; j < SCORES_PER_LANE; j++) {
            const int e = lane + 32 * j;
            if (e < E && !((taken >> j) & 1u) && better(key[j], e, best_key, best_e)) {
                best_key = key[j];
                best_e = e;
                best_score = score[j];
            }
        }
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) {
            const float other_key = __shfl_xor_sync(0xffffffffu, best_key, off);
            const int other_e = __shfl_xor_sync(0xffffffffu, best_e, off);
            const float other_score = __shfl_xor_sync(0xffffffffu, best_score, off);
            if (better(other_key, other_e, best_key, best_e)) {
                best_key = other_key;
                best_e = other_e;
                best_score = other_score;
            }
        }
        if (best_e % 32 == lane) taken |= 1u << (best_e / 32);
        if (lane == r) {
            my_expert = best_e;
            my_score = best_score;
        }
    }

    // TODO 3, the weights: the sum of the top_k chosen scores over the warp (lanes past top_k add
    //   0), then lane j < top_k writes pair t * top_k + j: its expert, its score / sum, and one
    //   atomicAdd to its expert's count.
    float sum = lane < top_k ? my_score : 0.0f;
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
    if (lane < top_k) {
        const size_t pair = (size_t)t * top_k + lane;
        topk_idx[pair] = my_expert;
        topk_weight[pair] = my_score / sum;
        atomicAdd(&expert_count[my_expert], 1);
    }
}

__global__ void __launch_bounds__(GROUP_THREADS)
group_by_expert(const int *__restrict__ topk_idx, const int *__restrict__ expert_count, int E, int n_pairs,
                int *__restrict__ expert_offset, int *__restrict__ perm, int *__restrict__ inv_perm) {
    __shared__ int offset[GROUP_THREADS];       // inclusive, then read as offset[e - 1]
    __shared__ int earlier[MAX_EXPERTS];        // pairs of each expert in the chunks before this one
    __shared__ int chunk_expert[GROUP_THREADS]; // this chunk's pairs' experts
    const int tid = threadIdx.x, chunk_start = blockIdx.x * GROUP_THREADS;

    offset[tid] = tid < E ? expert_count[tid] : 0;
    if (tid < E) earlier[tid] = 0;
    __syncthreads();
    // TODO 4, the counts' inclusive prefix sum over the experts, in place in offset[] (log2(256)
    //   steps, each: read your neighbour d places down, __syncthreads, add, __syncthreads). Block 0
    //   then writes expert_offset: 0, then offset[0 .. E - 1].
    for (int d = 1; d < GROUP_THREADS; d <<= 1) {
        const int below = tid >= d ? offset[tid - d] : 0;
        __syncthreads();
        offset[tid] += below;
        __syncthreads();
    }
    if (blockIdx.x == 0) {
        if (tid == 0) expert_offset[0] = 0;
        if (tid < E) expert_offset[tid + 1] = offset[tid];
    }

    // TODO 5, the positions: count the pairs of every earlier chunk per expert into earlier[]
    //   (atomicAdd in shared memory), put this chunk's experts in chunk_expert[] (-1 past n_pairs),
    //   __syncthreads, then pair p = chunk_start + tid goes to offset[e - 1] (0 for e = 0) +
    //   earlier[e] + the pairs of expert e before it in this chunk: perm[pos] = p, inv_perm[p] = pos.
    for (int q = tid; q < chunk_start; q += GROUP_THREADS) atomicAdd(&earlier[topk_idx[q]], 1);
    const int p = chunk_start + tid;
    const int e = p < n_pairs ? topk_idx[p] : -1;
    chunk_expert[tid] = e;
    __syncthreads();
    if (e >= 0) {
        int before = 0;
        for (int i = 0; i < tid; i++) before += chunk_expert[i] == e;
        const int pos = (e > 0 ? offset[e - 1] : 0) + earlier[e] + before;
        perm[pos] = p;
        inv_perm[p] = pos;
    }
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
