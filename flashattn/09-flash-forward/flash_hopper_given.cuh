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
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
        "}, {%32, %33, %34, %35}, %36, 1, 1, 1, 1;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "l"(desc_b));
}

__device__ __forceinline__ void wgmma_m64n128k16_rs_tb(float (&d)[64], uint32_t a0, uint32_t a1, uint32_t a2,
                                                       uint32_t a3, uint64_t desc_b) {
    asm volatile(
        "{\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
        "}, {%64, %65, %66, %67}, %68, 1, 1, 1, 1;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
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
