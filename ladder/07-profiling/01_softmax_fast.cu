// Session 07, exercise 1: a row softmax at the speed of memory.
//
// First profile the given kernel (make profile EX=00_softmax_slow) and read the handout: this file
// fixes all five of its faults.
//
// A group of G threads owns one row: a warp (G = 32) for rows of up to 256 items, the whole block
// (G = 256) above that. An item is a float4 when the row allows it (cols % 4 == 0, 16-byte aligned
// pointers), else one float. Thread `lane` of the group takes items lane, lane + G, lane + 2G ...:
// neighbouring lanes read neighbouring items, so every load is coalesced (fixes FAULT 1).
//
// Online softmax: each thread keeps a running partial (m, s): the largest value it has seen and
// the sum of exp(v - m) over its values. A tile of ITEMS items at a time goes into registers; a
// larger maximum rescales the old sum by exp(m_old - m_new). The max and the sum come from one read
// of x (fixes FAULT 5). The partials meet through warp shuffles, registers to registers, with one
// barrier and 2 * 8 floats of shared memory between the warps of a block (fixes FAULTS 2, 3, 4).
// Then every thread writes its items: exp(v - m) / s.
//
// When the row fits in the registers (up to 4096 items) it is written from them: x is read once,
// 8 bytes per element, the minimum. Longer rows are read again to write. The launcher (given, at
// the end) picks G and ITEMS from the row length.
#include <math.h>
#include <stdint.h>

#include "exercises.h"
#include "softmax_given.cuh"

// The online-softmax rule: two partials over disjoint values give the partial over all of them.
__device__ __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
    // TODO 1: m = fmaxf(a.m, b.m). If m is -inf both are empty: return a. Otherwise return
    //         {m, a.s * rescale(a.m, m) + b.s * rescale(b.m, m)}.
    return a;
}

// Butterfly over the 32 lanes: after five xor-shuffle steps every lane holds the warp's partial.
__device__ __forceinline__ MaxSum warp_merge(MaxSum p) {
    // TODO 2: for offset = 16, 8, 4, 2, 1: fetch the partner's m and s with
    //         __shfl_xor_sync(FULL_MASK, value, offset) and p = merge(p, partner).
    return p;
}

// The partial of the whole group of G threads, in every thread. G > 32 means one row per block.
template <int G>
__device__ __forceinline__ MaxSum group_merge(MaxSum p) {
    p = warp_merge(p);
    if constexpr (G > 32) {
        constexpr int WARPS = G / 32;
        __shared__ float part_m[WARPS], part_s[WARPS];
        // TODO 3: lane 0 of each warp (threadIdx.x % 32 == 0) stores its warp's m and s in
        //         part_m[warp], part_s[warp]; one __syncthreads(); then every warp merges the WARPS
        //         partials itself: lane l < WARPS starts from {part_m[l], part_s[l]}, the other
        //         lanes from {-INFINITY, 0}, and p = warp_merge(that).
        //         Why threadIdx.x % 32 and warp = threadIdx.x / 32: warp w is threads 32 w .. 32 w + 31.
    }
    return p;
}

// G threads per row, ITEMS items per thread in registers, items of 4 floats (VEC) or 1.
template <int G, int ITEMS, bool VEC>
__global__ void __launch_bounds__(BLOCK_THREADS) softmax_fast_kernel(const float *x, float *out, int rows, int cols) {
    constexpr int W = VEC ? 4 : 1;  // floats per item
    constexpr int ROWS_PER_BLOCK = BLOCK_THREADS / G;
    constexpr long TILE = (long)G * ITEMS;  // items the group holds in registers at once
    const int lane = threadIdx.x % G;
    const long row = (long)blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / G;
    if (row >= rows) return;  // whole warps only: G is a multiple of 32, and only G = 32 can get here
    const long n = VEC ? cols / 4 : cols;  // items in the row
    const bool fits = n <= TILE;           // the whole row stays in registers: read x once
    const float *xr = x + row * cols;
    float *outr = out + row * cols;

    // Pass 1, online: tile by tile, fold the tile into the running (m, s).
    float v[ITEMS][W];
    MaxSum acc{-INFINITY, 0.0f};
    for (long base = 0; base < n; base += TILE) {
        // TODO 4: for j = 0 .. ITEMS - 1 (#pragma unroll: v must stay in registers): item
        //         i = base + j * G + lane; if i < n, load_item<VEC>(xr, i, fits, v[j]); else fill
        //         v[j][0 .. W-1] with -INFINITY (exp gives 0: an absent item adds nothing). Keep the
        //         largest of the tile's values as you go.
        //         Why j * G + lane: for each j the group's lanes read neighbouring items (coalesced).
        // TODO 5: m = max(acc.m, the tile's max). If m is still -inf this thread has seen nothing:
        //         continue. Otherwise s = acc.s * rescale(acc.m, m) plus __expf(v - m) for every
        //         value of the tile, and acc = {m, s}.
    }

    // The row's (m, s) in every thread of the group.
    acc = group_merge<G>(acc);
    const float inv = 1.0f / acc.s;

    // Pass 2: write exp(v - m) / s, from the registers when the row fitted, else reading x again.
    // TODO 6: the same loops over tiles and items as pass 1, skipping i >= n. When the row did not
    //         fit, load the item again first (load_item<VEC>(xr, i, false, v[j])). Compute
    //         e[k] = __expf(v[j][k] - acc.m) * inv for k < W and store_item<VEC>(outr, i, e).
}

template <int G, int ITEMS, bool VEC>
static void launch(const float *x, float *out, int rows, int cols, cudaStream_t stream) {
    constexpr int rows_per_block = BLOCK_THREADS / G;
    const int blocks = (int)(((long)rows + rows_per_block - 1) / rows_per_block);
    softmax_fast_kernel<G, ITEMS, VEC><<<blocks, BLOCK_THREADS, 0, stream>>>(x, out, rows, cols);
}

// The smallest tile that holds the row; rows past 4096 items stream in tiles of 2048.
template <bool VEC>
static void launch_for_items(const float *x, float *out, int rows, int cols, long n, cudaStream_t stream) {
    if (n <= 32) launch<32, 1, VEC>(x, out, rows, cols, stream);
    else if (n <= 64) launch<32, 2, VEC>(x, out, rows, cols, stream);
    else if (n <= 128) launch<32, 4, VEC>(x, out, rows, cols, stream);
    else if (n <= 256) launch<32, 8, VEC>(x, out, rows, cols, stream);
    else if (n <= 512) launch<BLOCK_THREADS, 2, VEC>(x, out, rows, cols, stream);
    else if (n <= 1024) launch<BLOCK_THREADS, 4, VEC>(x, out, rows, cols, stream);
    else if (n <= 2048) launch<BLOCK_THREADS, 8, VEC>(x, out, rows, cols, stream);
    else if (n <= 4096) launch<BLOCK_THREADS, 16, VEC>(x, out, rows, cols, stream);
    else launch<BLOCK_THREADS, 8, VEC>(x, out, rows, cols, stream);
}

void softmax_fast(const float *x, float *out, int rows, int cols, cudaStream_t stream) {
    if (rows <= 0 || cols <= 0) return;
    // float4 needs every row to start on a 16-byte boundary: cols % 4 == 0 and aligned pointers.
    const bool vec = cols % 4 == 0 && (uintptr_t)x % 16 == 0 && (uintptr_t)out % 16 == 0;
    if (vec) launch_for_items<true>(x, out, rows, cols, cols / 4, stream);
    else launch_for_items<false>(x, out, rows, cols, cols, stream);
}
