// Session 07, exercise 1 (solution): coalesced float4 loads, online softmax, warp shuffles.
//
// A group of G threads owns one row: a warp (G = 32) for rows of up to 256 items, the whole block
// (G = 256) above that. An item is a float4 when the row allows it (cols % 4 == 0, 16-byte aligned
// pointers), else one float. Thread `lane` of the group takes items lane, lane + G, lane + 2G ...:
// neighbouring lanes read neighbouring items, every load coalesced.
//
// One pass over x keeps a running (max m, sum s of exp(v - m)) per thread, tile by tile: a new
// maximum rescales the sum by exp(m_old - m_new). The group merges its partials with shuffles (and
// shared memory between warps), then writes exp(v - m) / s. When the row fits in the registers
// (up to 4096 items: 16384 floats with float4) it is read once and written from registers: 8 bytes
// per element, the minimum. Longer rows are read a second time to write (the L2 usually still
// holds them).
#include <math.h>
#include <stdint.h>

#include "exercises.h"
#include "softmax_given.cuh"

// The online-softmax rule: two partials over disjoint values give the partial over all of them.
__device__ __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
    const float m = fmaxf(a.m, b.m);
    if (m == -INFINITY) return a;  // both empty
    return MaxSum{m, a.s * rescale(a.m, m) + b.s * rescale(b.m, m)};
}

// Butterfly over the 32 lanes: after five xor-shuffle steps every lane holds the warp's partial.
__device__ __forceinline__ MaxSum warp_merge(MaxSum p) {
    for (int offset = 16; offset > 0; offset /= 2) {
        const MaxSum other{__shfl_xor_sync(FULL_MASK, p.m, offset), __shfl_xor_sync(FULL_MASK, p.s, offset)};
        p = merge(p, other);
    }
    return p;
}

// The partial of the whole group of G threads, in every thread. G > 32 means one row per block.
template <int G>
__device__ __forceinline__ MaxSum group_merge(MaxSum p) {
    p = warp_merge(p);
    if constexpr (G > 32) {
        constexpr int WARPS = G / 32;
        __shared__ float part_m[WARPS], part_s[WARPS];
        const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
        if (lane == 0) {
            part_m[warp] = p.m;
            part_s[warp] = p.s;
        }
        __syncthreads();
        // Every warp folds the WARPS partials itself: no second barrier, no broadcast.
        p = warp_merge(lane < WARPS ? MaxSum{part_m[lane], part_s[lane]} : MaxSum{-INFINITY, 0.0f});
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
        float tile_max = -INFINITY;
#pragma unroll
        for (int j = 0; j < ITEMS; j++) {
            const long i = base + (long)j * G + lane;
            if (i < n) {
                load_item<VEC>(xr, i, fits, v[j]);
            } else {
#pragma unroll
                for (int k = 0; k < W; k++) v[j][k] = -INFINITY;  // absent: exp gives 0
            }
#pragma unroll
            for (int k = 0; k < W; k++) tile_max = fmaxf(tile_max, v[j][k]);
        }
        const float m = fmaxf(acc.m, tile_max);
        if (m == -INFINITY) continue;  // nothing in this thread's part of the tile yet
        float s = acc.s * rescale(acc.m, m);
#pragma unroll
        for (int j = 0; j < ITEMS; j++)
#pragma unroll
            for (int k = 0; k < W; k++) s += __expf(v[j][k] - m);
        acc = MaxSum{m, s};
    }

    // The row's (m, s) in every thread of the group.
    acc = group_merge<G>(acc);
    const float inv = 1.0f / acc.s;

    // Pass 2: write exp(v - m) / s, from the registers when the row fitted, else reading x again.
    for (long base = 0; base < n; base += TILE) {
#pragma unroll
        for (int j = 0; j < ITEMS; j++) {
            const long i = base + (long)j * G + lane;
            if (i >= n) continue;
            if (!fits) load_item<VEC>(xr, i, false, v[j]);
            float e[W];
#pragma unroll
            for (int k = 0; k < W; k++) e[k] = __expf(v[j][k] - acc.m) * inv;
            store_item<VEC>(outr, i, e);
        }
    }
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
