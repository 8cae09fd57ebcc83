// Session 14, exercise 1 (solution only): the plumbing of 01_mla_decode.cu's ring kernel, so that
// the solution reads as the algorithm: its -D knobs (gpu-run/mla-variants.sh times them), the
// copies into the ring (cp.async, or Hopper's bulk-copy engine), block-wide sums and scans, and
// vector accesses to shared memory. mla_given.cuh (the exercise's) comes first.
#ifndef SESSION14_MLA_RING_GIVEN_CUH
#define SESSION14_MLA_RING_GIVEN_CUH

#include <cuda_bf16.h>
#include <stdint.h>

#include "hopper_ptx.cuh"  // mbarriers and smem_addr (the bulk-copy path, sm_90 only)
#include "mla_given.cuh"

// ---- the knobs (-D, for gpu-run/mla-variants.sh) -------------------------------------------------
#ifndef MLA_RING_STAGES
#define MLA_RING_STAGES 4  // tiles in the cp.async ring (fewer where shared memory is short: launch_fitting)
#endif
#ifndef MLA_RING_TOKENS
#define MLA_RING_TOKENS 32  // cached rows a tile, 16 or 32 (a page is read as 64 / MLA_RING_TOKENS tiles)
#endif
#ifndef MLA_MIN_CTAS
#define MLA_MIN_CTAS 1  // blocks per SM the 16-row kernel's registers must leave room for
#endif
#ifndef MLA_BULK
#define MLA_BULK 0  // Hopper: tiles by the bulk-copy engine (cp.async.bulk) instead of cp.async
#endif
#ifndef MLA_L2_PREFETCH
#define MLA_L2_PREFETCH 0  // cp.async only: 0, 128 or 256, the L2 fetch size hinted with each copy
#endif
#ifndef MLA_NO_MATH
#define MLA_NO_MATH 0  // a measurement only (wrong results): the ring's loads and barriers, no maths
#endif
// The bulk-copy engine is Hopper's (sm_90): one copy a cached row (1152 bytes; the rows are padded
// in shared memory, so a tile is not one copy), completing on a barrier a stage. It is correct
// (every shape, memcheck) but was slower on the H200: 0.242 ms, 52.7% of the copy at 16 heads and
// 127 TFLOP/s at 128, against cp.async's 68.5% and 160. So it is off; a knob for experiments.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && MLA_BULK
#define MLA_USE_BULK 1
#else
#define MLA_USE_BULK 0
#endif
#define RING_WARPS 8  // a block: the copies, scans and the kernel share it
#define RING_THREADS (RING_WARPS * 32)

// ---- copies, scans, shared-memory vectors ---------------------------------------------------------
// ldmatrix_x2 .trans (lanes 0-15 address the rows): b[0], b[1] of one n-tile of P V.
__device__ __forceinline__ void ldmatrix_x2_trans(uint32_t r[2], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(addr));
}

// 16 bytes global -> shared by cp.async (mma_ptx.cuh's cp_async_16), with an L2 fetch-size hint
// when MLA_L2_PREFETCH asks for one.
__device__ __forceinline__ void cp_async_16_hint(uint32_t dst, const void *src, bool valid) {
#if MLA_L2_PREFETCH == 256
    asm volatile("cp.async.cg.shared.global.L2::256B [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0) : "memory");
#elif MLA_L2_PREFETCH == 128
    asm volatile("cp.async.cg.shared.global.L2::128B [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0) : "memory");
#else
    cp_async_16(dst, src, valid);
#endif
}

// Hopper's bulk copy: `bytes` (a multiple of 16, both addresses 16-byte aligned) global -> shared
// by the copy engine; they count toward `bar`'s transaction bytes (hopper_ptx.cuh has the rest).
__device__ __forceinline__ void bulk_load(void *dst, const void *src, uint32_t bytes, uint64_t *bar) {
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];"
                 ::"r"(smem_addr(dst)), "l"(src), "r"(bytes), "r"(smem_addr(bar)) : "memory");
}

// Rows [from, to) of a tile (stride ROW) set to zero by plain stores, all threads sharing them.
template <int D, int ROW>
__device__ __forceinline__ void zero_rows(__nv_bfloat16 *tile, int from, int to) {
    constexpr int CHUNKS = D / 8;
    for (int c = threadIdx.x; c < (to - from) * CHUNKS; c += RING_THREADS)
        *reinterpret_cast<uint4 *>(tile + (from + c / CHUNKS) * ROW + c % CHUNKS * 8) = make_uint4(0, 0, 0, 0);
}

// Rows [0, T) of a tile in shared memory (stride ROW) from T consecutive cached rows at `src`, by
// cp.async, all threads sharing the 16-byte copies. Rows from `valid` on are zero-filled, not
// read: past a sequence's end a slot may hold anything, and a zero keeps 0 * garbage out of P V.
template <int D, int ROW, int T>
__device__ __forceinline__ void stage_tile(__nv_bfloat16 *tile, const __nv_bfloat16 *src, int valid) {
    constexpr int CHUNKS = D / 8, COPIES = T * CHUNKS, ROUNDS = (COPIES + RING_THREADS - 1) / RING_THREADS;
#pragma unroll
    for (int i = 0; i < ROUNDS; i++) {
        const int c = threadIdx.x + i * RING_THREADS, r = c / CHUNKS, x = c % CHUNKS;
        if (COPIES % RING_THREADS != 0 && c >= COPIES) break;
        const bool ok = r < valid;
        cp_async_16_hint(smem_u32(tile + r * ROW + x * 8), src + (size_t)(ok ? r : 0) * D + x * 8, ok);
    }
}

// Block-wide sums and scans of one int a thread (scratch: RING_WARPS ints; every thread calls).
__device__ __forceinline__ int block_sum(int v, int *scratch) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
    __syncthreads();
    int sum = 0;
#pragma unroll
    for (int w = 0; w < RING_WARPS; w++) sum += scratch[w];
    __syncthreads();  // scratch is free again
    return sum;
}
__device__ __forceinline__ int block_exclusive_scan(int v, int *scratch, int &sum) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    int inclusive = v;
#pragma unroll
    for (int off = 1; off < 32; off <<= 1) {
        const int y = __shfl_up_sync(0xffffffffu, inclusive, off);
        if (lane >= off) inclusive += y;
    }
    if (lane == 31) scratch[warp] = inclusive;
    __syncthreads();
    int before = 0;
    sum = 0;
#pragma unroll
    for (int w = 0; w < RING_WARPS; w++) {
        before += w < warp ? scratch[w] : 0;
        sum += scratch[w];
    }
    __syncthreads();
    return before + inclusive - v;
}

// N consecutive floats from shared memory in one access (N = 1, 2 or 4: aligned to N floats), and
// N values to N consecutive BF16 (aligned to N of them).
template <int N> __device__ __forceinline__ void load_floats(float v[N], const float *src) {
    if constexpr (N == 4) {
        const float4 x = *reinterpret_cast<const float4 *>(src);
        v[0] = x.x, v[1] = x.y, v[2] = x.z, v[3] = x.w;
    } else if constexpr (N == 2) {
        const float2 x = *reinterpret_cast<const float2 *>(src);
        v[0] = x.x, v[1] = x.y;
    } else {
        static_assert(N == 1, "1, 2 or 4 floats");
        v[0] = *src;
    }
}
template <int N> __device__ __forceinline__ void store_bf16(__nv_bfloat16 *dst, const float v[N]) {
    if constexpr (N == 4) *reinterpret_cast<uint2 *>(dst) = make_uint2(pack_bf16x2(v[0], v[1]), pack_bf16x2(v[2], v[3]));
    else if constexpr (N == 2) *reinterpret_cast<uint32_t *>(dst) = pack_bf16x2(v[0], v[1]);
    else *dst = __float2bfloat16_rn(v[0]);
}

#endif
