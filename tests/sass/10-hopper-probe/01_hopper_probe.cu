// make sass on Hopper's instructions (tests/sass-test.sh): one small kernel per idea of session 10,
// written in inline PTX so that each PTX instruction below meets its SASS family in the listing.
// Never run: it only has to compile for sm_90a.
//   cp.async.bulk.tensor (load, multicast, store)  UTMALDG, UTMALDG...MULTICAST, UTMASTG
//   prefetch.tensormap, cp.async.bulk.commit_group UTMACCTL, UTMACMDFLUSH
//   cp.async.bulk, cp.async.bulk.prefetch          UBLKCP, UBLKPF
//   mbarrier.init / arrive(.expect_tx) / try_wait   SYNCS.EXCH / SYNCS.ARRIVE / SYNCS.PHASECHK
//   wgmma.fence / mma_async / commit / wait_group   WARPGROUP.ARRIVE / HGMMA, QGMMA / gsb0 / WARPGROUP.DEPBAR
//   setmaxnreg.dec / .inc                           USETMAXREG.DEALLOC / USETMAXREG.TRY_ALLOC
//   barrier.cluster.arrive / wait                   UCGABAR_ARV / UCGABAR_WAIT
//   fence.proxy.async, elect.sync                   FENCE.VIEW.ASYNC, ELECT
#include <cuda.h>
#include <stdint.h>

static __device__ __forceinline__ uint32_t smem(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

static __device__ __forceinline__ void wait_parity(uint64_t *bar, uint32_t parity) {
    asm volatile("{\n .reg .pred p;\n WAIT:\n mbarrier.try_wait.parity.shared::cta.b64 p, [%0], %1;\n @!p bra WAIT;\n}"
                 :: "r"(smem(bar)), "r"(parity) : "memory");
}

__global__ void probe_tma_load(const __grid_constant__ CUtensorMap map, float *out) {
    __shared__ alignas(128) float tile[64 * 64];
    __shared__ alignas(8) uint64_t bar;
    if (threadIdx.x == 0) {
        asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"(smem(&bar)), "r"(1));
        asm volatile("fence.proxy.async.shared::cta;");
        asm volatile("prefetch.tensormap [%0];" :: "l"(&map));
        asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"(smem(&bar)), "r"(16384));
        asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];"
                     :: "r"(smem(tile)), "l"(&map), "r"(0), "r"(0), "r"(smem(&bar)) : "memory");
    }
    __syncthreads();
    wait_parity(&bar, 0);
    out[threadIdx.x] = tile[threadIdx.x];
}

__global__ void probe_tma_store(const __grid_constant__ CUtensorMap map, const float *in) {
    __shared__ alignas(128) float tile[64 * 64];
    tile[threadIdx.x] = in[threadIdx.x];
    asm volatile("fence.proxy.async.shared::cta;");
    __syncthreads();
    if (threadIdx.x == 0) {
        asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [%0, {%1, %2}], [%3];"
                     :: "l"(&map), "r"(0), "r"(0), "r"(smem(tile)) : "memory");
        asm volatile("cp.async.bulk.commit_group;");
        asm volatile("cp.async.bulk.wait_group.read 0;");
    }
}

__global__ void __cluster_dims__(2, 1, 1) probe_multicast(const __grid_constant__ CUtensorMap map, float *out) {
    __shared__ alignas(128) float tile[64 * 64];
    __shared__ alignas(8) uint64_t bar;
    if (threadIdx.x == 0) {
        asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"(smem(&bar)), "r"(1));
        asm volatile("fence.mbarrier_init.release.cluster;");
    }
    asm volatile("barrier.cluster.arrive.release.aligned;");
    asm volatile("barrier.cluster.wait.acquire.aligned;");
    if (threadIdx.x == 0) {
        asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"(smem(&bar)), "r"(16384));
        asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
                     " [%0], [%1, {%2, %3}], [%4], %5;"
                     :: "r"(smem(tile)), "l"(&map), "r"(0), "r"(0), "r"(smem(&bar)), "h"((uint16_t)3) : "memory");
    }
    wait_parity(&bar, 0);
    out[threadIdx.x] = tile[threadIdx.x];
}

__global__ void probe_bulk_copy(float *out, const float *in) {
    __shared__ alignas(128) float buf[1024];
    __shared__ alignas(8) uint64_t bar;
    if (threadIdx.x == 0) {
        asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"(smem(&bar)), "r"(1));
        asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"(smem(&bar)), "r"(4096));
        asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];"
                     :: "r"(smem(buf)), "l"(in), "r"(4096), "r"(smem(&bar)) : "memory");
        asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" :: "l"(in + 1024), "r"(4096));
    }
    wait_parity(&bar, 0);
    if (threadIdx.x == 0) {
        asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;" :: "l"(out), "r"(smem(buf)), "r"(4096) : "memory");
        asm volatile("cp.async.bulk.commit_group;");
        asm volatile("cp.async.bulk.wait_group 0;");
    }
}

#define ACC8(d) "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7])

// A warpgroup's 64x16 accumulator from one BF16 and one FP8 wgmma (descriptors as arguments).
__global__ void probe_wgmma(float *out, uint64_t desc_a, uint64_t desc_b) {
    float d[8] = {0};
    asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
    asm volatile("wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7}, %8, %9, 1, 1, 1, 0, 0;"
                 : ACC8(d) : "l"(desc_a), "l"(desc_b));
    asm volatile("wgmma.mma_async.sync.aligned.m64n16k32.f32.e4m3.e4m3 {%0, %1, %2, %3, %4, %5, %6, %7}, %8, %9, 1, 1, 1;"
                 : ACC8(d) : "l"(desc_a), "l"(desc_b));
    asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
    for (int i = 0; i < 8; i++) out[threadIdx.x * 8 + i] = d[i];
}

// Warp specialisation: a producer warpgroup gives registers back, two consumers take them.
__global__ void __launch_bounds__(384, 1) probe_setmaxnreg(float *out) {
    if (threadIdx.x < 128) { asm volatile("setmaxnreg.dec.sync.aligned.u32 40;"); out[threadIdx.x] = 1; }
    else { asm volatile("setmaxnreg.inc.sync.aligned.u32 232;"); out[threadIdx.x] = 2; }
}

// A launcher, so that the file looks like an exercise; never called.
extern "C" void hopper_probe(float *out, cudaStream_t stream) { probe_setmaxnreg<<<1, 384, 0, stream>>>(out); }
