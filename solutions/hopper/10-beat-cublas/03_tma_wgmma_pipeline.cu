// Session 10, exercise 3 (solution): a GEMM from TMA and wgmma, with a ring of stages.
//
// A block of one warpgroup computes a 128 x 128 tile of C (two 64 x 128 wgmmas per k-step, 128
// accumulators a thread). K goes by 64 columns a stage: TMA brings A's 128 x 64 and B's 128 x 64
// slices into a ring of STAGES stages, each with a "full" mbarrier; thread 0 keeps all the ring
// loading while the warpgroup multiplies. When a stage is used up, the block syncs and thread 0
// refills it with the slice STAGES steps ahead. Edges cost nothing: TMA fills with zeros what lies
// outside A or B, and the store skips what lies outside C.
#include "exercises.h"
#include "gemm_given.cuh"

#define BM 128
#define BN 128
#define BK 64
#define STAGES 3
#define THREADS 128
#define A_BYTES (BM * BK * 2)
#define B_BYTES (BN * BK * 2)
#define SMEM_BYTES (STAGES * (A_BYTES + B_BYTES) + 1024)

__global__ void __launch_bounds__(THREADS) gemm_tma_wgmma_kernel(const __grid_constant__ CUtensorMap a_map,
                                                                  const __grid_constant__ CUtensorMap b_map,
                                                                  uint16_t *C, int M, int N, int K) {
    extern __shared__ uint8_t smem_raw[];
    uint8_t *smem = align_1024(smem_raw);
    uint8_t *a_stage = smem, *b_stage = smem + STAGES * A_BYTES;
    __shared__ uint64_t full[STAGES];
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    const int k_steps = (K + BK - 1) / BK;

    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; s++) mbar_init(&full[s], 1);
        mbar_fence_init();
    }
    __syncthreads();
    if (threadIdx.x == 0)
        for (int s = 0; s < STAGES && s < k_steps; s++) {
            mbar_arrive_expect_tx(&full[s], A_BYTES + B_BYTES);
            tma_load(a_stage + s * A_BYTES, &a_map, &full[s], m0, s * BK);
            tma_load(b_stage + s * B_BYTES, &b_map, &full[s], n0, s * BK);
        }

    float d[2][BN / 2];   // rows 0-63 and 64-127 of the tile
    for (int kt = 0; kt < k_steps; kt++) {
        const int s = kt % STAGES;
        mbar_wait(&full[s], (kt / STAGES) & 1);   // the ring's k-th pass over stage s: parity k % 2
        const uint64_t a_desc = sw128_desc(a_stage + s * A_BYTES), b_desc = sw128_desc(b_stage + s * B_BYTES);
        wgmma_fence();
#pragma unroll
        for (int k = 0; k < BK / 16; k++) {
            const int acc = kt > 0 || k > 0;
            wgmma_m64n128k16(d[0], a_desc + (2 * k), b_desc + (2 * k), acc);                        // 32 bytes = 2 units
            wgmma_m64n128k16(d[1], a_desc + ((64 * 128) >> 4) + (2 * k), b_desc + (2 * k), acc);   // A's rows 64-127
        }
        wgmma_commit();
        wgmma_wait<0>();
        __syncthreads();   // every warp is done reading stage s
        if (threadIdx.x == 0 && kt + STAGES < k_steps) {
            mbar_arrive_expect_tx(&full[s], A_BYTES + B_BYTES);
            tma_load(a_stage + s * A_BYTES, &a_map, &full[s], m0, (kt + STAGES) * BK);
            tma_load(b_stage + s * B_BYTES, &b_map, &full[s], n0, (kt + STAGES) * BK);
        }
    }
    store_tile_bf16<BN>(C, M, N, m0, n0, d[0], threadIdx.x);
    store_tile_bf16<BN>(C, M, N, m0 + 64, n0, d[1], threadIdx.x);
}

void gemm_tma_wgmma(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream) {
    CUtensorMap a_map, b_map;
    if (tma_map_bf16(&a_map, A, M, K, BM, BK, 1) || tma_map_bf16(&b_map, B, N, K, BN, BK, 1)) return;
    cudaFuncSetAttribute(gemm_tma_wgmma_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_BYTES);
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    gemm_tma_wgmma_kernel<<<grid, THREADS, SMEM_BYTES, stream>>>(a_map, b_map, C, M, N, K);
}
