// Session 14, exercise 5: expert parallelism, tokens to their experts' GPUs and back (solution)
//
// The experts of an MoE layer are spread over R GPUs; a token's top_k (token, slot) pairs go to the
// GPUs of their experts (dispatch), are transformed there, and come back to be summed with the
// router's weights (combine): two all-to-alls of rows around one expert step. Per rank, on its stream:
//
//   ep_count_pairs    the rank's pairs per expert (a block's counts in shared memory, then one atomic
//                     per expert and block)
//   ep_scan_counts    their prefix sum: where each expert's pairs start in expert order
//   -- given: the counts to every rank (NCCL), and a copy to the host, which waits for it --
//   ep_place_pairs    each pair's place in that order (an atomic per pair: the order inside an expert
//                     does not matter, since every row comes back to the place it left from)
//   ep_pack_rows      the rows of pairs bound for other ranks, copied into their places (both run
//                     while the host waits for the counts and plans)
//   -- given: the rows to their ranks --
//   ep_row_experts    which of this rank's experts each received row is for
//   -- given: the experts on the received rows, in place; the rows back to where they came from --
//   ep_combine        y_t = sum_j w_j * (the returned row, or the local expert on x_t itself)
//
// Pairs whose expert is on the token's own rank never travel: the combine applies that expert to
// x_t directly (ep_expert, the same bits the experts' kernel gives). On two GPUs that is half the
// pairs, half the bytes of a naive all-to-all, and no copy to self.
//
// Where the world has peer access (NVLink), the rows skip NCCL, as DeepEP's kernels do: the packing
// kernel stores each row straight into its expert's rank (ep_send_rows), and the experts' kernel
// stores each result straight back into the place its row left from (ep_apply_and_return). That
// takes two passes over HBM and two sets of NCCL kernels out of the trip: no send buffer is filled
// and then copied, no received row is written and read again before it goes back.
#include <stdint.h>
#include <stdio.h>

#include "ep_given.cuh"
#include "exercises.h"

#define COUNT_THREADS 256          // pairs a block of ep_count_pairs and ep_place_pairs takes at once
#define ROW_WARPS 4                // pairs (pack) or tokens (combine) a block: one per warp
#define ROWS_THREADS 256           // received rows a block of ep_row_experts takes at once

__global__ void __launch_bounds__(COUNT_THREADS)
ep_count_pairs(const int *__restrict__ topk_idx, long pairs, int E, int *__restrict__ expert_count) {
    __shared__ int local[EP_MAX_EXPERTS];
    for (int e = threadIdx.x; e < E; e += blockDim.x) local[e] = 0;
    __syncthreads();
    for (long p = blockIdx.x * (long)blockDim.x + threadIdx.x; p < pairs; p += (long)gridDim.x * blockDim.x)
        atomicAdd(local + topk_idx[p], 1);
    __syncthreads();
    for (int e = threadIdx.x; e < E; e += blockDim.x)
        if (local[e]) atomicAdd(expert_count + e, local[e]);
}

// One block of EP_MAX_EXPERTS threads: expert_offset (E + 1 values) and the placing cursors.
__global__ void __launch_bounds__(EP_MAX_EXPERTS)
ep_scan_counts(const int *__restrict__ expert_count, int E, int *__restrict__ expert_offset, int *__restrict__ cursor) {
    __shared__ int sum[EP_MAX_EXPERTS];
    const int e = threadIdx.x;
    sum[e] = e < E ? expert_count[e] : 0;
    __syncthreads();
    for (int d = 1; d < EP_MAX_EXPERTS; d *= 2) {  // Hillis-Steele: inclusive sums in log2(256) steps
        const int add = e >= d ? sum[e - d] : 0;
        __syncthreads();
        sum[e] += add;
        __syncthreads();
    }
    if (e < E) {
        const int start = e > 0 ? sum[e - 1] : 0;
        expert_offset[e] = start;
        cursor[e] = start;
        if (e == E - 1) expert_offset[E] = sum[e];
    }
}

__global__ void __launch_bounds__(COUNT_THREADS)
ep_place_pairs(const int *__restrict__ topk_idx, long pairs, int *__restrict__ cursor, int *__restrict__ slot) {
    for (long p = blockIdx.x * (long)blockDim.x + threadIdx.x; p < pairs; p += (long)gridDim.x * blockDim.x)
        slot[p] = atomicAdd(cursor + topk_idx[p], 1);
}

// A warp per pair, its lanes over the row's 16-byte pieces.
__global__ void __launch_bounds__(ROW_WARPS * 32)
ep_pack_rows(const uint16_t *__restrict__ x, const int *__restrict__ topk_idx, const int *__restrict__ slot, long pairs,
             int top_k, int H, int E, int R, int rank, uint16_t *__restrict__ send_rows) {
    const int lane = threadIdx.x % 32, pieces = H / EP_ROW_PIECE;
    for (long p = blockIdx.x * (long)ROW_WARPS + threadIdx.x / 32; p < pairs; p += (long)gridDim.x * ROW_WARPS) {
        if (ep_owner(topk_idx[p], E, R) == rank) continue;  // stays home: the combine takes it from x
        const uint4 *from = reinterpret_cast<const uint4 *>(x) + (p / top_k) * pieces;
        uint4 *to = reinterpret_cast<uint4 *>(send_rows) + (long)slot[p] * pieces;
        for (int k = lane; k < pieces; k += 32) to[k] = from[k];
    }
}

// Where rows go on the other ranks, in one direction (from a rank's point of view): rank q's
// buffer `rows[q]`, the row that is row i here going to row i + shift[q] there; rows first[q] ..
// first[q + 1] - 1 here are the ones for rank q (used on the way back, to find a row's rank).
struct ep_route {
    uint16_t *rows[EP_MAX_RANKS];
    long shift[EP_MAX_RANKS];
    long first[EP_MAX_RANKS + 1];
};

// Dispatch by stores over NVLink: ep_pack_rows, but each remote pair's row goes straight to its
// place among the rows its expert's rank receives.
__global__ void __launch_bounds__(ROW_WARPS * 32)
ep_send_rows(const uint16_t *__restrict__ x, const int *__restrict__ topk_idx, const int *__restrict__ slot, long pairs,
             int top_k, int H, int E, int R, int rank, ep_route to) {
    const int lane = threadIdx.x % 32, pieces = H / EP_ROW_PIECE;
    for (long p = blockIdx.x * (long)ROW_WARPS + threadIdx.x / 32; p < pairs; p += (long)gridDim.x * ROW_WARPS) {
        const int d = ep_owner(topk_idx[p], E, R);
        if (d == rank) continue;
        const uint4 *from = reinterpret_cast<const uint4 *>(x) + (p / top_k) * pieces;
        uint4 *dst = reinterpret_cast<uint4 *>(to.rows[d]) + (slot[p] + to.shift[d]) * pieces;
        for (int k = lane; k < pieces; k += 32) dst[k] = from[k];
    }
}

// The experts on the received rows (ep_expert_piece, as ep_apply_experts), each result stored
// straight back into the send rows of the rank it came from, at the place its pair was given. A
// piece of 8 values a thread.
__global__ void __launch_bounds__(256)
ep_apply_and_return(const uint16_t *__restrict__ rows, const int *__restrict__ row_expert, long n_rows, int H,
                    const float *__restrict__ scale, int n_local, int R, ep_route back) {
    const long pieces = H / EP_ROW_PIECE, n = n_rows * pieces;
    for (long v = blockIdx.x * (long)blockDim.x + threadIdx.x; v < n; v += (long)gridDim.x * blockDim.x) {
        const long i = v / pieces;
        int s = 0;
        while (s < R - 1 && i >= back.first[s + 1]) s++;  // rows come by source rank: at most 7 steps
        const uint4 piece = ep_expert_piece(reinterpret_cast<const uint4 *>(rows)[v], row_expert[i], scale, n_local);
        reinterpret_cast<uint4 *>(back.rows[s])[(i + back.shift[s]) * pieces + v % pieces] = piece;
    }
}

// Received rows come by source rank, and from each source by local expert: segment g = s * n_local
// + le holds recv_count[g] rows. The segments' starts are a block-wide prefix sum (each thread sums
// a run of at most 8 counts, then the runs' sums are scanned); a row's expert is then the last
// segment that starts at or before it.
__global__ void __launch_bounds__(ROWS_THREADS)
ep_row_experts(const int *__restrict__ recv_count, int R, int n_local, long n_rows, int *__restrict__ row_expert) {
    __shared__ int start[EP_MAX_RANKS * EP_MAX_EXPERTS + 1];
    __shared__ int run[ROWS_THREADS];
    const int tid = threadIdx.x, segments = R * n_local, per = (segments + ROWS_THREADS - 1) / ROWS_THREADS;
    int mine = 0;
    for (int k = 0; k < per; k++) {
        const int g = tid * per + k;
        if (g < segments) mine += recv_count[g];
    }
    run[tid] = mine;
    __syncthreads();
    for (int d = 1; d < ROWS_THREADS; d *= 2) {
        const int add = tid >= d ? run[tid - d] : 0;
        __syncthreads();
        run[tid] += add;
        __syncthreads();
    }
    int at = tid > 0 ? run[tid - 1] : 0;
    for (int k = 0; k < per; k++) {
        const int g = tid * per + k;
        if (g < segments) { start[g] = at; at += recv_count[g]; }
    }
    if (tid == ROWS_THREADS - 1) start[segments] = run[tid];
    __syncthreads();

    for (long i = blockIdx.x * (long)blockDim.x + tid; i < n_rows; i += (long)gridDim.x * blockDim.x) {
        int lo = 0, hi = segments - 1;  // the last g with start[g] <= i: empty segments before it share its start
        while (lo < hi) {
            const int mid = (lo + hi + 1) / 2;
            if (start[mid] <= i) lo = mid;
            else hi = mid - 1;
        }
        row_expert[i] = lo % n_local;
    }
}

// A warp per token, its lanes over the row's pieces. Lane j first fetches slot j's expert, weight and
// place; each lane then walks its pieces, summing the top_k contributions in FP32 and rounding once.
__global__ void __launch_bounds__(ROW_WARPS * 32)
ep_combine(const uint16_t *__restrict__ x, const int *__restrict__ topk_idx, const float *__restrict__ topk_weight,
           const int *__restrict__ slot, const uint16_t *__restrict__ send_rows, const float *__restrict__ scale, int T,
           int top_k, int H, int E, int R, int rank, uint16_t *__restrict__ y) {
    const int lane = threadIdx.x % 32, pieces = H / EP_ROW_PIECE, first_expert = ep_first_expert(rank, E, R);
    for (long t = blockIdx.x * (long)ROW_WARPS + threadIdx.x / 32; t < T; t += (long)gridDim.x * ROW_WARPS) {
        int my_expert = 0, my_slot = 0;
        float my_weight = 0.0f;
        if (lane < top_k) {
            my_expert = topk_idx[t * top_k + lane];
            my_weight = topk_weight[t * top_k + lane];
            my_slot = slot[t * top_k + lane];
        }
        int expert[EP_MAX_TOP_K], place[EP_MAX_TOP_K];
        float weight[EP_MAX_TOP_K];
#pragma unroll
        for (int j = 0; j < EP_MAX_TOP_K; j++) {  // the whole warp, before any lane's loop ends early
            expert[j] = __shfl_sync(0xffffffffu, my_expert, j);
            weight[j] = __shfl_sync(0xffffffffu, my_weight, j);
            place[j] = __shfl_sync(0xffffffffu, my_slot, j);
        }
        const uint4 *x_row = reinterpret_cast<const uint4 *>(x) + t * pieces;
        uint4 *y_row = reinterpret_cast<uint4 *>(y) + t * pieces;
        for (int k = lane; k < pieces; k += 32) {
            const uint4 xv = x_row[k];
            const uint16_t *xh = reinterpret_cast<const uint16_t *>(&xv);
            float acc[EP_ROW_PIECE] = {};
#pragma unroll
            for (int j = 0; j < EP_MAX_TOP_K; j++) {
                if (j >= top_k) break;
                const int e = expert[j];
                if (ep_owner(e, E, R) == rank) {
                    const float s = scale[e - first_expert];
#pragma unroll
                    for (int q = 0; q < EP_ROW_PIECE; q++) acc[q] += weight[j] * ep_expert(s, xh[q]);
                } else {
                    const uint4 rv = reinterpret_cast<const uint4 *>(send_rows)[(long)place[j] * pieces + k];
                    const uint16_t *rh = reinterpret_cast<const uint16_t *>(&rv);
#pragma unroll
                    for (int q = 0; q < EP_ROW_PIECE; q++) acc[q] += weight[j] * ep_bf16_value(rh[q]);
                }
            }
            uint4 out;
            uint16_t *oh = reinterpret_cast<uint16_t *>(&out);
#pragma unroll
            for (int q = 0; q < EP_ROW_PIECE; q++) oh[q] = ep_bf16_round(acc[q]);
            y_row[k] = out;
        }
    }
}

// Steps 3 to 6 with peer access: rows stored into the other ranks' memory, no NCCL. The ranks meet
// twice: once every row has arrived, once every result is back.
static void ep_round_trip_by_stores(const ep_world *w, int E, int top_k, int H, const int *T, const uint16_t *const *x,
                                    const int *const *topk_idx, const float *const *topk_weight,
                                    const float *const *expert_scale, uint16_t *const *y, const ep_rank_work *ws,
                                    const ep_plan *plan) {
    const int R = w->ranks;
    for (int r = 0; r < R; r++) {  // 3. each remote pair's row to its place on its expert's rank
        const long pairs = (long)T[r] * top_k;
        ep_use_rank(w, r);
        ep_route to = {};
        for (int d = 0; d < R; d++) {
            to.rows[d] = ws[d].recv_rows;
            to.shift[d] = plan->recv_first[d][r] - plan->send_first[r][d];
        }
        if (pairs > 0)
            ep_send_rows<<<ep_blocks(pairs, ROW_WARPS), ROW_WARPS * 32, 0, w->stream[r]>>>(
                x[r], topk_idx[r], ws[r].slot, pairs, top_k, H, E, R, r, to);
    }
    ep_meet(w, 0);
    for (int r = 0; r < R; r++) {  // 4. the experts, each result back where its row came from
        const long n = plan->recv_total[r];
        if (n == 0) continue;
        ep_use_rank(w, r);
        ep_route back = {};
        for (int s = 0; s < R; s++) {
            back.rows[s] = ws[s].send_rows;
            back.shift[s] = plan->send_first[s][r] - plan->recv_first[r][s];
            back.first[s] = plan->recv_first[r][s];
        }
        back.first[R] = n;
        ep_row_experts<<<ep_blocks(n, ROWS_THREADS), ROWS_THREADS, 0, w->stream[r]>>>(ws[r].recv_count, R, ws[r].n_local,
                                                                                     n, ws[r].row_expert);
        ep_apply_and_return<<<ep_blocks(n * (H / EP_ROW_PIECE), 256), 256, 0, w->stream[r]>>>(
            ws[r].recv_rows, ws[r].row_expert, n, H, expert_scale[r], ws[r].n_local, R, back);
    }
    ep_meet(w, 1);
    for (int r = 0; r < R; r++) {  // 6. the sums, as with NCCL
        if (T[r] == 0) continue;
        ep_use_rank(w, r);
        ep_combine<<<ep_blocks(T[r], ROW_WARPS), ROW_WARPS * 32, 0, w->stream[r]>>>(
            x[r], topk_idx[r], topk_weight[r], ws[r].slot, ws[r].send_rows, expert_scale[r], T[r], top_k, H, E, R, r, y[r]);
    }
}

void ep_dispatch_combine(const ep_world *w, int E, int top_k, int H, const int *T, const uint16_t *const *x,
                         const int *const *topk_idx, const float *const *topk_weight,
                         const float *const *expert_scale, uint16_t *const *y, void *const *work, size_t work_bytes) {
    if (!ep_shape_ok(w, E, top_k, H, T, work_bytes)) return;
    const int R = w->ranks;
    ep_keep_device keep;  // the caller's current device, back when this returns
    ep_rank_work ws[EP_MAX_RANKS];

    // 1. Every rank: its pairs counted per expert.
    for (int r = 0; r < R; r++) {
        ep_use_rank(w, r);
        ws[r] = ep_carve(work[r], r, R, E, top_k, H, T);
        cudaStream_t s = w->stream[r];
        const long pairs = (long)T[r] * top_k;
        ep_zero_ints<<<1, 256, 0, s>>>(ws[r].expert_count, E);
        const long table = (long)R * ws[r].n_local;  // received counts: their own rank's row stays 0
        ep_zero_ints<<<ep_blocks(table, 256), 256, 0, s>>>(ws[r].recv_count, table);
        if (pairs > 0)
            ep_count_pairs<<<ep_blocks(pairs, COUNT_THREADS), COUNT_THREADS, 0, s>>>(topk_idx[r], pairs, E, ws[r].expert_count);
        ep_scan_counts<<<1, EP_MAX_EXPERTS, 0, s>>>(ws[r].expert_count, E, ws[r].expert_offset, ws[r].cursor);
    }

    // 2. The counts to every rank and back to the host; meanwhile every rank places its pairs in
    //    expert order (and, with NCCL carrying the rows, packs the remote ones), while the host
    //    waits for the counts (its one wait) and plans who sends what to whom.
    if (!ep_exchange_counts(w, E, ws)) return;
    ep_read_counts(w, E, ws);
    for (int r = 0; r < R; r++) {
        const long pairs = (long)T[r] * top_k;
        if (pairs == 0) continue;
        ep_use_rank(w, r);
        cudaStream_t s = w->stream[r];
        ep_place_pairs<<<ep_blocks(pairs, COUNT_THREADS), COUNT_THREADS, 0, s>>>(topk_idx[r], pairs, ws[r].cursor, ws[r].slot);
        if (!w->peer_access)  // with peer access, the rows are packed straight into the other ranks
            ep_pack_rows<<<ep_blocks(pairs, ROW_WARPS), ROW_WARPS * 32, 0, s>>>(x[r], topk_idx[r], ws[r].slot, pairs, top_k, H,
                                                                          E, R, r, ws[r].send_rows);
    }
    ep_plan plan;
    if (!ep_make_plan(w, E, top_k, T, ws, &plan)) return;
    if (w->peer_access) {
        ep_round_trip_by_stores(w, E, top_k, H, T, x, topk_idx, topk_weight, expert_scale, y, ws, &plan);
        return;
    }

    // 3. Dispatch: the rows to their experts' ranks.
    if (!ep_exchange_rows(w, H, &plan, ws, EP_DISPATCH)) return;

    // 4. Every rank's experts on what it received.
    for (int r = 0; r < R; r++) {
        const long n = plan.recv_total[r];
        if (n == 0) continue;
        ep_use_rank(w, r);
        cudaStream_t s = w->stream[r];
        ep_row_experts<<<ep_blocks(n, ROWS_THREADS), ROWS_THREADS, 0, s>>>(ws[r].recv_count, R, ws[r].n_local, n,
                                                                            ws[r].row_expert);
        ep_apply_experts<<<ep_blocks(n * (H / EP_ROW_PIECE), 256), 256, 0, s>>>(ws[r].recv_rows, ws[r].row_expert, n, H,
                                                                                expert_scale[r], ws[r].n_local);
    }

    // 5. Combine: every row back to the place it left from.
    if (!ep_exchange_rows(w, H, &plan, ws, EP_COMBINE)) return;

    // 6. Every rank sums its tokens' results.
    for (int r = 0; r < R; r++) {
        if (T[r] == 0) continue;
        ep_use_rank(w, r);
        ep_combine<<<ep_blocks(T[r], ROW_WARPS), ROW_WARPS * 32, 0, w->stream[r]>>>(
            x[r], topk_idx[r], topk_weight[r], ws[r].slot, ws[r].send_rows, expert_scale[r], T[r], top_k, H, E, R, r, y[r]);
    }
}
