// Session 10: the Hopper instructions as small C++ functions, given to every exercise.
//
// Each wrapper is one PTX instruction (or a loop around one) with its operands named. Read them:
// the exercises are about when to call them, in what order, and on which shared memory. They need
// sm_90a (wgmma and setmaxnreg exist only in Hopper's architecture-specific target).
#ifndef SESSION10_HOPPER_GIVEN_CUH
#define SESSION10_HOPPER_GIVEN_CUH

#include <cuda.h>          // CUtensorMap: the 128-byte description of a global tensor TMA reads
#include <cuda_bf16.h>
#include <stdint.h>

// ---- given on the host (given/tensor_map.cu) ----------------------------------------------------
// Describe a rows x cols BF16 row-major matrix at `base` for TMA, moved in boxes of box_rows x
// box_cols elements. swizzle_128b: boxes land in shared memory in the 128-byte swizzled layout
// wgmma reads (then box_cols must be 64: one 128-byte row). Returns 0, or prints one line saying
// what TMA does not allow (a row stride that is not a multiple of 16 bytes, a misaligned base, a
// box over 256) and returns -1.
extern "C" int tma_map_bf16(CUtensorMap *map, const void *base, int rows, int cols, int box_rows, int box_cols,
                            int swizzle_128b);

// ---- mbarriers, TMA loads and stores, wgmma and its fence, commit and wait, setmaxnreg ---------
// In grader/hopper_ptx.cuh, shared with sessions 09 and 14's Hopper kernels: read them there.
#include "hopper_ptx.cuh"

// wgmma_m64n64k16, wgmma_m64n128k16, wgmma_m64n256k16 (BF16, both operands from shared memory)
// and the accumulator layout they fill: in grader/hopper_ptx.cuh too.

// ---- registers, warpgroups, clusters -----------------------------------------------------------------
// A barrier for `threads` threads only (id 1..15; 0 is __syncthreads'), e.g. one warpgroup.
__device__ __forceinline__ void named_barrier(int id, int threads) {
    asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(threads) : "memory");
}
__device__ __forceinline__ uint32_t cluster_rank() {
    uint32_t r;
    asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(r));
    return r;
}
// Every thread of every CTA of the cluster meets here.
__device__ __forceinline__ void cluster_sync() {
    asm volatile("barrier.cluster.arrive.release.aligned;\nbarrier.cluster.wait.acquire.aligned;" ::: "memory");
}

#endif
