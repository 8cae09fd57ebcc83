// Session 09: what the exercises are given, shared by the skeletons and their solutions.
#ifndef SESSION09_FLASH_GIVEN_CUH
#define SESSION09_FLASH_GIVEN_CUH

#include <cuda_bf16.h>
#include <stdint.h>
#include <stdio.h>

#include "mma_ptx.cuh"

// 2^x by the special-function unit (one MUFU.EX2). 03 computes the softmax as exp2(x * log2(e)): the
// factor folds into the scale the scores are multiplied by anyway. ex2(-inf) is 0.
__device__ __forceinline__ float fast_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// ---- the shared tiles of the tensor-core kernels (02 and 03) ----
// Element (row, col) of a shared tile with HD columns, XOR-swizzled in 16-byte chunks: chunk c of row
// r lives at chunk c ^ (r % 8), so the 8 rows (same chunk) one ldmatrix matrix reads fall in 8
// different bank groups. Session 03's padding trick, without the wasted bytes.
template <int HD> __device__ __forceinline__ int swz(int row, int col) {
    return row * HD + ((((col >> 3) ^ (row & 7))) << 3) + (col & 7);
}

// Rows [row0, row0 + ROWS) of one (batch, head) slice of a tensor with `valid` rows, HD elements
// each, into a swizzled shared tile by cp.async (16 bytes a copy, NTHREADS threads sharing them);
// rows past `valid` are zero-filled. The copies are only issued: commit, wait and sync after.
template <int HD, int ROWS, int NTHREADS>
__device__ __forceinline__ void load_tile(__nv_bfloat16 *tile, const __nv_bfloat16 *src, int row0, int valid) {
    constexpr int CHUNKS = ROWS * HD / 8;
#pragma unroll
    for (int i = threadIdx.x; i < CHUNKS; i += NTHREADS) {
        int r = i / (HD / 8), c = i % (HD / 8);
        bool ok = row0 + r < valid;
        const __nv_bfloat16 *g = src + (size_t)(ok ? row0 + r : 0) * HD + c * 8;
        cp_async_16(smem_u32(tile + swz<HD>(r, c * 8)), g, ok);
    }
}

// The kernels are compiled for head dims 64 and 128 (a template parameter sizes their registers).
static inline bool flash_shape_supported(int head_dim, const char *who) {
    if (head_dim == 64 || head_dim == 128) return true;
    fprintf(stderr, "%s: head_dim %d is not supported (64 or 128)\n", who, head_dim);
    return false;
}

// launch<HD, CAUSAL>(args...) for the head dim (64 or 128) and the mask asked for: the kernels are
// templates, so each combination is its own compiled kernel.
#define FLASH_DISPATCH(head_dim, causal, launch, ...)                                                      \
    ((head_dim) == 64 ? ((causal) ? launch<64, true>(__VA_ARGS__) : launch<64, false>(__VA_ARGS__))          \
                      : ((causal) ? launch<128, true>(__VA_ARGS__) : launch<128, false>(__VA_ARGS__)))

#endif
