// Session 09: what the Hopper rung (04_flash_wgmma) is given, beside flash_given.cuh.
//
// The instructions are Hopper's (sm_90a): TMA copies that land on an mbarrier, wgmma, setmaxnreg.
// mbarriers, wgmma's fence/commit/wait and setmaxnreg come from grader/hopper_ptx.cuh (session 10
// teaches them); this file adds what attention needs beyond session 10's GEMM: a tensor map of
// [slices][rows][head_dim] (one slice a (batch, head)), its 3-D copy, and the two wgmma forms of
// the two products. Device functions here are compiled only where a kernel calls them, so the file
// is safe to include in a build for sm_80 (whose kernel body is left out; see 04_flash_wgmma.cu).
#ifndef SESSION09_FLASH_HOPPER_GIVEN_CUH
#define SESSION09_FLASH_HOPPER_GIVEN_CUH

#include <cuda.h>  // CUtensorMap: the 128-byte description of a global tensor TMA reads
#include <stdint.h>

#include "flash_given.cuh"  // fast_exp2, flash_shape_supported, FLASH_DISPATCH, pack_bf16x2
#include "hopper_ptx.cuh"   // smem_addr, mbarriers, wgmma_m64n128k16, wgmma_fence/commit/wait/hold, setmaxnreg
#include "wgmma_sw128.cuh"  // sw128_desc

// ---- given on the host (given/tensor_map.cu) ----------------------------------------------------
// Describe a BF16 tensor [slices][rows][head_dim] at `base` for TMA, moved in boxes of box_rows rows
// x 64 columns (128 bytes a row) of one slice, which land in shared memory 128-byte swizzled: within
// each 1024-byte group of 8 rows, 16-byte chunk c of row r sits at chunk slot c ^ (r % 8). Rows past
// `rows` arrive as zeros (the next slice is never read), and still count as bytes delivered.
// head_dim: 64 or 128 (a box covers 64 columns: two boxes a row of 128). Returns 0, or prints one
// line and returns -1.
extern "C" int tma_map_heads(CUtensorMap *map, const void *base, int slices, int rows, int head_dim, int box_rows);

// ---- TMA: one box, by one thread ------------------------------------------------------------------
// The box whose first element is (slice, row, col) into `dst` (1024-byte aligned); its bytes count
// toward `bar`.
__device__ __forceinline__ void tma_load_3d(void *dst, const CUtensorMap *map, uint64_t *bar, int slice, int row,
                                            int col) {
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5}], [%2];"
        ::"r"(smem_addr(dst)), "l"(map), "r"(smem_addr(bar)), "r"(col), "r"(row), "r"(slice) : "memory");
}

// ---- wgmma descriptors ----------------------------------------------------------------------------
// K-major: sw128_desc (grader/wgmma_sw128.cuh, session 10's): R rows of 64 BF16 (128 bytes),
// 128-byte swizzled, starting on a 1024-byte boundary; add 2k for the k-th 16-column step.

// ---- wgmma: S = Q K^T, both operands in shared memory ---------------------------------------------
// wgmma_m64n128k16(d, desc_q, desc_k, accumulate) of grader/hopper_ptx.cuh: D (64 x 128, FP32) =
// A * B^T, A 64 rows of Q, B 128 rows of K, both K-major; its accumulator layout is written there.

// ---- wgmma: O += P V, A from registers, B transposed --------------------------------------------
// D (64 x N, FP32) += A * B: one k16 step, always accumulating. A (64 x 16, BF16) comes from four
// registers a thread, laid out as mma.sync's m16n8k16 A fragment, one 16-row slice a warp: a0 holds
// row 16w + l/4, columns 2(l%4) and +1 (low half first); a1 the same columns eight rows below; a2 and
// a3 the same rows, columns + 8. B (16 x N) is read from shared memory through an MN-major
// descriptor ("transposed": the last operand, imm-trans-b, is 1): element (k, n) sits in row k of a
// tile whose rows run along N, as V's rows [key][dim] do. D's layout is the accumulator layout above.
__device__ __forceinline__ void wgmma_m64n64k16_rs_tb(float (&d)[32], uint32_t a0, uint32_t a1, uint32_t a2,
                                                      uint32_t a3, uint64_t desc_b) {
    asm volatile(
        "{\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {"
        GR_WGMMA_R32
        "}, {%32, %33, %34, %35}, %36, 1, 1, 1, 1;\n}\n"
        : GR_WGMMA_D32(d)
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "l"(desc_b));
}

__device__ __forceinline__ void wgmma_m64n128k16_rs_tb(float (&d)[64], uint32_t a0, uint32_t a1, uint32_t a2,
                                                       uint32_t a3, uint64_t desc_b) {
    asm volatile(
        "{\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"
        GR_WGMMA_R64
        "}, {%64, %65, %66, %67}, %68, 1, 1, 1, 1;\n}\n"
        : GR_WGMMA_D64(d)
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "l"(desc_b));
}

// One k16 step of O (64 x HD) += P (64 x 16) V (16 x HD), for the head dim: a[0..3] as above.
template <int HD>
__device__ __forceinline__ void wgmma_pv(float (&d)[HD / 2], const uint32_t *a, uint64_t desc_b);
template <> __device__ __forceinline__ void wgmma_pv<64>(float (&d)[32], const uint32_t *a, uint64_t desc_b) {
    wgmma_m64n64k16_rs_tb(d, a[0], a[1], a[2], a[3], desc_b);
}
template <> __device__ __forceinline__ void wgmma_pv<128>(float (&d)[64], const uint32_t *a, uint64_t desc_b) {
    wgmma_m64n128k16_rs_tb(d, a[0], a[1], a[2], a[3], desc_b);
}

#endif
