// Session 13: Blackwell's tensor-core instructions as small C++ functions, given to exercise 07.
//
// Each wrapper is one PTX instruction (or a wait loop around one) with its operands named. Read
// them: the exercise is about which addresses and descriptors to hand them, and in what order.
// They need sm_100a: tcgen05 and tensor memory exist only in Blackwell's architecture-specific target.
//
// Tensor memory (TMEM) in one paragraph: each SM has 256 KB of it, beside the tensor cores, seen as
// 128 lanes x 512 columns of 32 bits. An address is (lane << 16) | column. A CTA allocates columns
// (a power of two, at least 32) for all 128 lanes; the MMA writes its accumulator there instead of
// into registers, and reads the block scales from there. Warp w of a warpgroup may read lanes
// 32w .. 32w + 31 only.
#ifndef SESSION13_TCGEN05_GIVEN_CUH
#define SESSION13_TCGEN05_GIVEN_CUH

#include <stdint.h>

#include "hopper_ptx.cuh"  // mbarriers and the async-proxy fence, the same on Blackwell as on Hopper

// ---- shared memory addresses ----------------------------------------------------------------------
// The asynchronous units take 32-bit shared-window addresses, not C++ pointers.
__device__ __forceinline__ uint32_t smem_u32(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

// ---- cp.async: global -> shared without passing through registers ---------------------------------
__device__ __forceinline__ void cp_async_16(uint32_t dst, const void *src) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst), "l"(src) : "memory");
}
__device__ __forceinline__ void cp_async_4(uint32_t dst, const void *src) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;" ::"r"(dst), "l"(src) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
// Wait until at most `N` of this thread's groups are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory"); }
// Plain and cp.async writes to shared memory become visible to the tensor core (the "async proxy")
// only after fence_async_shared() (grader/hopper_ptx.cuh), by the thread that wrote them, then a barrier.

// ---- mbarriers ----------------------------------------------------------------------------------------
// mbar_init, mbar_fence_init, mbar_wait: in grader/hopper_ptx.cuh (Hopper's, the same instructions
// on Blackwell), shared with sessions 09, 10 and 14.

// ---- tensor memory: allocate, give back ----------------------------------------------------------------
// One whole warp allocates `columns` columns (a power of two from 32 to 512) and the hardware
// writes their base address to `slot` in shared memory. Then it gives up the right to allocate
// more, so that another CTA on the SM waiting for columns is not kept waiting on this one.
__device__ __forceinline__ void tmem_alloc(uint32_t *slot, uint32_t columns) {
    asm volatile("tcgen05.alloc.cta_group::1.sync.aligned.shared::cta.b32 [%0], %1;" ::"r"(smem_u32(slot)),
                 "r"(columns) : "memory");
}
__device__ __forceinline__ void tmem_relinquish_alloc_permit() {
    asm volatile("tcgen05.relinquish_alloc_permit.cta_group::1.sync.aligned;" ::: "memory");
}
// One whole warp frees what was allocated (before the CTA exits: the hardware does not).
__device__ __forceinline__ void tmem_dealloc(uint32_t taddr, uint32_t columns) {
    asm volatile("tcgen05.dealloc.cta_group::1.sync.aligned.b32 %0, %1;" ::"r"(taddr), "r"(columns) : "memory");
}

// ---- ordering tcgen05 work around thread barriers -------------------------------------------------------
// tcgen05 operations are asynchronous; these fences order them with __syncthreads and mbarrier
// waits: "before" ahead of the barrier in the thread that used TMEM, "after" behind it in the
// thread that goes on to use it.
__device__ __forceinline__ void tc_fence_before() { asm volatile("tcgen05.fence::before_thread_sync;" ::: "memory"); }
__device__ __forceinline__ void tc_fence_after() { asm volatile("tcgen05.fence::after_thread_sync;" ::: "memory"); }

// ---- the asynchronous tensor-core work, issued by one thread --------------------------------------------
// Copy a 512-byte chunk of shared memory (32 rows of 16 bytes, as the descriptor says) into 4
// columns of TMEM starting at `taddr`, the same 32 x 4 words into each of the four 32-lane
// quarters of tensor memory (".warpx4"): this is how block scales reach the tensor core.
__device__ __forceinline__ void tc_copy_scales(uint32_t taddr, uint64_t smem_desc) {
    asm volatile("tcgen05.cp.cta_group::1.32x128b.warpx4 [%0], %1;" ::"r"(taddr), "l"(smem_desc) : "memory");
}
// D (TMEM) = A * B^T with block scales (+ D when `accumulate`), one 128 x N x 64 step of NVFP4:
// A and B in shared memory as the two descriptors say, their scales in TMEM at sfa and sfb, the
// shapes and types in the 32-bit instruction descriptor.
__device__ __forceinline__ void tc_mma_nvfp4(uint32_t d_taddr, uint64_t a_desc, uint64_t b_desc, uint32_t idesc,
                                             uint32_t sfa_taddr, uint32_t sfb_taddr, bool accumulate) {
    asm volatile("{\n.reg .pred acc;\nsetp.ne.b32 acc, %6, 0;\n"
                 "tcgen05.mma.cta_group::1.kind::mxf4nvf4.block_scale.scale_vec::4X [%0], %1, %2, %3, [%4], [%5], acc;\n}"
                 ::"r"(d_taddr), "l"(a_desc), "l"(b_desc), "r"(idesc), "r"(sfa_taddr), "r"(sfb_taddr),
                 "r"((uint32_t)accumulate) : "memory");
}
// When every tcgen05 operation this thread issued so far has finished, arrive once on `bar`.
__device__ __forceinline__ void tc_commit(uint64_t *bar) {
    asm volatile("tcgen05.commit.cta_group::1.mbarrier::arrive::one.shared::cluster.b64 [%0];" ::"r"(smem_u32(bar))
                 : "memory");
}

// ---- reading the accumulator: TMEM -> registers, by a whole warp --------------------------------------
// Lane i of the warp receives 32 consecutive columns of TMEM lane (taddr >> 16) + i, starting at
// column taddr & 0xFFFF. The wait sits in the same asm statement as the load, so that the compiler
// cannot move a use of the registers above it.
__device__ __forceinline__ void tmem_load_32cols(uint32_t taddr, float (&v)[32]) {
    uint32_t r[32];
    asm volatile("tcgen05.ld.sync.aligned.32x32b.x32.b32 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, "
                 "%14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, [%32];\n"
                 "tcgen05.wait::ld.sync.aligned;"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]), "=r"(r[4]), "=r"(r[5]), "=r"(r[6]), "=r"(r[7]),
                   "=r"(r[8]), "=r"(r[9]), "=r"(r[10]), "=r"(r[11]), "=r"(r[12]), "=r"(r[13]), "=r"(r[14]),
                   "=r"(r[15]), "=r"(r[16]), "=r"(r[17]), "=r"(r[18]), "=r"(r[19]), "=r"(r[20]), "=r"(r[21]),
                   "=r"(r[22]), "=r"(r[23]), "=r"(r[24]), "=r"(r[25]), "=r"(r[26]), "=r"(r[27]), "=r"(r[28]),
                   "=r"(r[29]), "=r"(r[30]), "=r"(r[31])
                 : "r"(taddr)
                 : "memory");
#pragma unroll
    for (int j = 0; j < 32; j++) v[j] = __uint_as_float(r[j]);
}

#endif
