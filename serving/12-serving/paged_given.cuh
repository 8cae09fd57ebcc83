// Session 12: what the paged-attention exercises (04, 05) are given, shared by the skeletons and
// their solutions.
#ifndef SESSION12_PAGED_GIVEN_CUH
#define SESSION12_PAGED_GIVEN_CUH

#include <cuda_bf16.h>
#include <stdint.h>
#include <stdio.h>

#include "exercises.h"
#include "mma_ptx.cuh"  // cp_async_16, cp_async_commit, cp_async_wait

#define LOG2E 1.4426950408889634f

// 2^x by the special-function unit (one MUFU.EX2). The kernels keep their scores in log2 units
// (the query is multiplied by scale * log2(e) once), so the softmax's exp is this. ex2(-inf) = 0.
__device__ __forceinline__ float fast_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// Eight BF16 values (16 bytes) as floats: a BF16 is the top half of a float32, so widening is a
// shift (the even element, in the low half) or a mask (the odd one).
__device__ __forceinline__ void bf16x8_to_float(uint4 v, float f[8]) {
    const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        f[2 * i] = __uint_as_float(w[i] << 16);
        f[2 * i + 1] = __uint_as_float(w[i] & 0xFFFF0000u);
    }
}

// How a warp reads one page of one KV head (PAGE_TOKENS rows of D BF16, 32 * D bytes, contiguous):
// 16 bytes (8 elements) a lane per load, so one load of the whole warp covers TOKENS_PER_STEP
// whole rows, and STEPS loads the page. Lane l holds elements 8 * (l % LANES_PER_TOKEN) .. + 7 of
// row l / LANES_PER_TOKEN of each step: load `st` of lane l is chunk st * 32 + l of the page.
template <int D> struct PageLayout {
    static constexpr int LANES_PER_TOKEN = D / 8;                       // 16 for D = 128, 8 for 64
    static constexpr int TOKENS_PER_STEP = 32 / LANES_PER_TOKEN;        // 2, 4
    static constexpr int STEPS = PAGE_TOKENS / TOKENS_PER_STEP;         // 8, 4
    static constexpr int PAGE_ELEMS = PAGE_TOKENS * D;                  // one KV head's page
};

// One page's keys and values into a warp's shared buffers (sk, sv: PAGE_ELEMS each) by cp.async:
// lane l copies exactly the chunks it will read (st * 32 + l), so its own cp_async_wait is all it
// needs before reading them: no other lane's copies are involved. Issued only: commit after.
template <int D>
__device__ __forceinline__ void stage_page(__nv_bfloat16 *sk, __nv_bfloat16 *sv, const __nv_bfloat16 *k_page,
                                           const __nv_bfloat16 *v_page, int lane) {
#pragma unroll
    for (int st = 0; st < PageLayout<D>::STEPS; st++) {
        const int chunk = st * 32 + lane;
        cp_async_16(smem_u32(sk + chunk * 8), k_page + chunk * 8, true);
        cp_async_16(smem_u32(sv + chunk * 8), v_page + chunk * 8, true);
    }
}

// Query heads a block takes: GT heads of one KV group, so that every key and value it reads serves
// all of them. GT is the largest of 8, 4, 2, 1 that divides the group (Hq / Hkv): a group of 4 in
// one block, a group of 6 in three blocks of 2.
static inline int heads_per_block(int hq, int hkv) {
    const int group = hq / hkv;
    return group % 8 == 0 ? 8 : group % 4 == 0 ? 4 : group % 2 == 0 ? 2 : 1;
}

static inline bool paged_shape_supported(int d, int hq, int hkv, const char *who) {
    if ((d == 64 || d == 128) && hkv > 0 && hq % hkv == 0) return true;
    fprintf(stderr, "%s: head dim %d with %d query and %d KV heads is not supported (D 64 or 128, Hq %% Hkv == 0)\n",
            who, d, hq, hkv);
    return false;
}

// launch<D, GT>(args...) for the head dim and heads per block asked for: the kernels are templates,
// each combination its own compiled kernel (D and GT size their registers).
#define PAGED_DISPATCH_GT(D, gt, launch, ...)                                                               \
    ((gt) == 8   ? launch<D, 8>(__VA_ARGS__)                                                                \
     : (gt) == 4 ? launch<D, 4>(__VA_ARGS__)                                                                \
     : (gt) == 2 ? launch<D, 2>(__VA_ARGS__)                                                                \
                 : launch<D, 1>(__VA_ARGS__))
#define PAGED_DISPATCH(d, gt, launch, ...)                                                                  \
    ((d) == 64 ? PAGED_DISPATCH_GT(64, gt, launch, __VA_ARGS__) : PAGED_DISPATCH_GT(128, gt, launch, __VA_ARGS__))

#endif
