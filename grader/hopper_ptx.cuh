// Hopper's asynchronous machinery as small C++ functions, each one PTX instruction (or a loop
// around one) with its operands named: shared-memory addresses, mbarriers, TMA copies, wgmma's
// fence, commit and wait, setmaxnreg, and the BF16 wgmma shapes with both operands in shared
// memory. Session 10's exercises are about when to call them, in what order, on which shared memory
// (hopper/10-beat-cublas/hopper_given.cuh adds the cluster calls); session 09's Hopper rung and
// session 14's Hopper FP8 GEMM use them too, and session 13's tcgen05 GEMM its mbarriers. wgmma and
// setmaxnreg need sm_90a, the rest sm_90 or later: a kernel that calls them must be built for such a
// target (elsewhere they are never compiled unless called).
#ifndef GRADER_HOPPER_PTX_CUH
#define GRADER_HOPPER_PTX_CUH

#include <cuda.h>  // CUtensorMap
#include <stdint.h>

// ---- shared memory addresses ----------------------------------------------------------------------
// The asynchronous units take 32-bit shared-window addresses, not C++ pointers.
__device__ __forceinline__ uint32_t smem_addr(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

// ---- mbarriers: a counter of arrivals plus a count of bytes still to land -------------------------
// A phase completes when `count` threads have arrived and every byte announced with expect_tx has
// arrived; then the barrier's phase bit flips and waiters on that parity go on.
__device__ __forceinline__ void mbar_init(uint64_t *bar, int count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_addr(bar)), "r"(count));
}
// Make initialised barriers visible to the async units (and to the other CTAs of a cluster).
__device__ __forceinline__ void mbar_fence_init() { asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory"); }
// Arrive, announcing `bytes` that TMA will deliver to this barrier in the current phase.
__device__ __forceinline__ void mbar_arrive_expect_tx(uint64_t *bar, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_addr(bar)), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint64_t *bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(smem_addr(bar)) : "memory");
}
// Arrive on the barrier at the same offset in CTA `cta` of this cluster (possibly this one). No
// .release.cluster: that would fence every earlier memory access of the warp at cluster scope,
// and what the arrival announces (wgmma is done reading a stage) needs no such fence.
__device__ __forceinline__ void mbar_arrive_cluster(uint64_t *bar, uint32_t cta) {
    asm volatile("{\n.reg .b32 remote;\nmapa.shared::cluster.u32 remote, %0, %1;\n"
                 "mbarrier.arrive.shared::cluster.b64 _, [remote];\n}" ::"r"(smem_addr(bar)),
                 "r"(cta) : "memory");
}
// Wait until the phase with this parity (0 or 1) has completed.
__device__ __forceinline__ void mbar_wait(uint64_t *bar, uint32_t parity) {
    uint32_t done;
    do {
        asm volatile("{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}"
                     : "=r"(done) : "r"(smem_addr(bar)), "r"(parity) : "memory");
    } while (!done);
}

// ---- TMA: whole boxes between global and shared memory, by one thread ------------------------------
// Load the box whose top-left element is (row, col) into `dst`; its bytes count toward `bar`.
// Elements outside the matrix arrive as zeros (and still count).
__device__ __forceinline__ void tma_load(void *dst, const CUtensorMap *map, uint64_t *bar, int row, int col) {
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4}], [%2];"
                 ::"r"(smem_addr(dst)), "l"(map), "r"(smem_addr(bar)), "r"(col), "r"(row) : "memory");
}
// The same box delivered to the same offset (data and barrier bytes) in every CTA of the cluster
// whose bit is set in `cta_mask`.
__device__ __forceinline__ void tma_load_multicast(void *dst, const CUtensorMap *map, uint64_t *bar, int row, int col,
                                                   uint16_t cta_mask) {
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
                 " [%0], [%1, {%3, %4}], [%2], %5;"
                 ::"r"(smem_addr(dst)), "l"(map), "r"(smem_addr(bar)), "r"(col), "r"(row), "h"(cta_mask) : "memory");
}
// Store the box at (row, col) from `src`; parts outside the matrix are not written.
__device__ __forceinline__ void tma_store(const CUtensorMap *map, const void *src, int row, int col) {
    asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [%0, {%2, %3}], [%1];"
                 ::"l"(map), "r"(smem_addr(src)), "r"(col), "r"(row) : "memory");
}
__device__ __forceinline__ void tma_store_commit() { asm volatile("cp.async.bulk.commit_group;" ::: "memory"); }
// Wait until the committed stores have read their shared memory (it may then be written again).
__device__ __forceinline__ void tma_store_wait_read() { asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory"); }
// Wait until the committed stores are complete in global memory.
__device__ __forceinline__ void tma_store_wait_all() { asm volatile("cp.async.bulk.wait_group 0;" ::: "memory"); }
// Plain st.shared writes become visible to TMA (the "async proxy") only after this fence.
__device__ __forceinline__ void fence_async_shared() { asm volatile("fence.proxy.async.shared::cta;" ::: "memory"); }

// ---- wgmma: four warps (a warpgroup) issue one matrix multiply together ----------------------------
// Before the first wgmma, and whenever the accumulator registers were touched by other code.
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
// Close the wgmmas issued so far into one group.
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
// Wait until at most N groups are still running.
template <int N> __device__ __forceinline__ void wgmma_wait() {
    asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory");
}
// Keep the accumulators in registers across the asynchronous wgmma (the compiler must not move them).
template <int R> __device__ __forceinline__ void wgmma_hold(float (&d)[R]) {
#pragma unroll
    for (int i = 0; i < R; i++) asm volatile("" : "+f"(d[i])::"memory");
}

// ---- registers -----------------------------------------------------------------------------------
// Hand registers back (producer) or take more (consumers); every warp of the warpgroup executes it.
template <int R> __device__ __forceinline__ void regs_release() { asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(R)); }
template <int R> __device__ __forceinline__ void regs_claim() { asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(R)); }

// ---- wgmma, BF16, A and B from shared memory ------------------------------------------------------
// ---- a wgmma's accumulator, as asm operands -------------------------------------------------------
// The registers d[0] .. d[N-1], read and written (operands %0 .. %N-1), and their names in the
// instruction's text. Each wrapper below (and those of sessions 09 and 14) then spells only its
// instruction and its other operands.
#define GR_D8(d, i) "+f"(d[(i) + 0]), "+f"(d[(i) + 1]), "+f"(d[(i) + 2]), "+f"(d[(i) + 3]), "+f"(d[(i) + 4]), \
    "+f"(d[(i) + 5]), "+f"(d[(i) + 6]), "+f"(d[(i) + 7])
#define GR_D32(d, i) GR_D8(d, i), GR_D8(d, (i) + 8), GR_D8(d, (i) + 16), GR_D8(d, (i) + 24)
#define GR_WGMMA_D32(d) GR_D32(d, 0)
#define GR_WGMMA_D64(d) GR_D32(d, 0), GR_D32(d, 32)
#define GR_WGMMA_D96(d) GR_WGMMA_D64(d), GR_D32(d, 64)
#define GR_WGMMA_D128(d) GR_WGMMA_D96(d), GR_D32(d, 96)
#define GR_WGMMA_R32 "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15," \
    "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
#define GR_WGMMA_R64 GR_WGMMA_R32 "," \
    "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47," \
    "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
#define GR_WGMMA_R96 GR_WGMMA_R64 "," \
    "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79," \
    "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95"
#define GR_WGMMA_R128 GR_WGMMA_R96 "," \
    "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111," \
    "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"

// The accumulator layout of a 64 x N wgmma: thread t of the warpgroup (warp w = t / 32, lane l)
// holds, for j = 0 .. N/8 - 1, d[4j], d[4j+1] at row 16w + l/4, columns 8j + 2(l%4) and +1, and
// d[4j+2], d[4j+3] eight rows below. (The same as mma.sync's m16n8 tiles, stacked four warps high.)
// A and B come from shared memory through 64-bit descriptors (session 10, exercise 02; grader/wgmma_sw128.cuh).
// D (64 x 64, FP32, 32 registers a thread) = A * B^T (+ D when accumulate): one k16 step.
__device__ __forceinline__ void wgmma_m64n64k16(float (&d)[32], uint64_t desc_a, uint64_t desc_b, int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {"
        GR_WGMMA_R32
        "}, %32, %33, p, 1, 1, 0, 0;\n}\n"
        : GR_WGMMA_D32(d)
        : "l"(desc_a), "l"(desc_b), "r"(accumulate));
}

// D (64 x 128, FP32, 64 registers a thread) = A * B^T (+ D when accumulate): one k16 step.
__device__ __forceinline__ void wgmma_m64n128k16(float (&d)[64], uint64_t desc_a, uint64_t desc_b, int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"
        GR_WGMMA_R64
        "}, %64, %65, p, 1, 1, 0, 0;\n}\n"
        : GR_WGMMA_D64(d)
        : "l"(desc_a), "l"(desc_b), "r"(accumulate));
}

// D (64 x 256, FP32, 128 registers a thread) = A * B^T (+ D when accumulate): one k16 step.
__device__ __forceinline__ void wgmma_m64n256k16(float (&d)[128], uint64_t desc_a, uint64_t desc_b, int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {"
        GR_WGMMA_R128
        "}, %128, %129, p, 1, 1, 0, 0;\n}\n"
        : GR_WGMMA_D128(d)
        : "l"(desc_a), "l"(desc_b), "r"(accumulate));
}

#endif
