// Session 10, exercise 5 (solution): a persistent kernel.
//
// As exercise 4 (a producer warpgroup, two consumers, a 128 x 256 tile, a ring of 4 stages), but
// the grid has one block per SM and each block walks the tiles t = blockIdx.x, + gridDim.x, ...
// The ring and its barriers live on from one tile to the next, so the stage and the parity come
// from a count of k-steps that never restarts. The producer runs ahead into the next tile while
// the consumers are still storing this one: the epilogue overlaps the next tile's loads. Each
// consumer also keeps one wgmma group in flight: it releases a stage only when the next stage's
// wgmmas are issued (wgmma_wait<1>).
#include "exercises.h"
#include "gemm_given.cuh"

#define BM 128
#define BN 256
#define BK 64
#define STAGES 4
#define CONSUMERS 2
#define THREADS (128 * (CONSUMERS + 1))
#define A_BYTES (BM * BK * 2)
#define B_BYTES (BN * BK * 2)
#define SMEM_BYTES (STAGES * (A_BYTES + B_BYTES) + 1024)

__global__ void __launch_bounds__(THREADS, 1) gemm_persistent_kernel(const __grid_constant__ CUtensorMap a_map,
                                                                     const __grid_constant__ CUtensorMap b_map,
                                                                     uint16_t *C, int M, int N, int K) {
    extern __shared__ uint8_t smem_raw[];
    uint8_t *smem = align_1024(smem_raw);
    uint8_t *a_stage = smem, *b_stage = smem + STAGES * A_BYTES;
    __shared__ uint64_t full[STAGES], empty[STAGES];
    const int tiles_n = (N + BN - 1) / BN, tiles = ((M + BM - 1) / BM) * tiles_n;
    const int k_steps = (K + BK - 1) / BK;
    const int wg = threadIdx.x / 128, tid = threadIdx.x % 128;

    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; s++) {
            mbar_init(&full[s], 1);
            mbar_init(&empty[s], CONSUMERS * 4);
        }
        mbar_fence_init();
    }
    __syncthreads();

    if (wg == 0) {
        regs_release<40>();
        if (tid == 0) {
            int step = 0;   // k-steps loaded so far, over every tile of this block
            for (int t = blockIdx.x; t < tiles; t += gridDim.x) {
                const int m0 = (t / tiles_n) * BM, n0 = (t % tiles_n) * BN;
                for (int kt = 0; kt < k_steps; kt++, step++) {
                    const int s = step % STAGES;
                    mbar_wait(&empty[s], ((step / STAGES) & 1) ^ 1);
                    mbar_arrive_expect_tx(&full[s], A_BYTES + B_BYTES);
                    tma_load(a_stage + s * A_BYTES, &a_map, &full[s], m0, kt * BK);
                    tma_load(b_stage + s * B_BYTES, &b_map, &full[s], n0, kt * BK);
                }
            }
        }
    } else {
        regs_claim<232>();
        const int a_rows = (wg - 1) * 64 * 128;
        int step = 0;   // k-steps consumed so far, counted the same way as the producer's
        for (int t = blockIdx.x; t < tiles; t += gridDim.x) {
            const int m0 = (t / tiles_n) * BM, n0 = (t % tiles_n) * BN;
            float d[BN / 2];
            int previous = -1;   // the stage whose wgmmas may still be reading it
            for (int kt = 0; kt < k_steps; kt++, step++) {
                const int s = step % STAGES;
                mbar_wait(&full[s], (step / STAGES) & 1);
                const uint64_t a_desc = sw128_desc(a_stage + s * A_BYTES + a_rows),
                               b_desc = sw128_desc(b_stage + s * B_BYTES);
                wgmma_fence();
#pragma unroll
                for (int k = 0; k < BK / 16; k++) wgmma_m64n256k16(d, a_desc + 2 * k, b_desc + 2 * k, kt > 0 || k > 0);
                wgmma_commit();
                wgmma_wait<1>();   // the group before this one is done: its stage can be refilled
                if (previous >= 0 && tid % 32 == 0) mbar_arrive(&empty[previous]);
                previous = s;
            }
            wgmma_wait<0>();
            if (tid % 32 == 0) mbar_arrive(&empty[previous]);
            store_tile_bf16<BN>(C, M, N, m0 + (wg - 1) * 64, n0, d, tid);
        }
    }
}

void gemm_persistent(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream) {
    CUtensorMap a_map, b_map;
    if (tma_map_bf16(&a_map, A, M, K, BM, BK, 1) || tma_map_bf16(&b_map, B, N, K, BN, BK, 1)) return;
    int device = 0, sms = 1;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    const int tiles = ((M + BM - 1) / BM) * ((N + BN - 1) / BN);
    cudaFuncSetAttribute(gemm_persistent_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_BYTES);
    gemm_persistent_kernel<<<tiles < sms ? tiles : sms, THREADS, SMEM_BYTES, stream>>>(a_map, b_map, C, M, N, K);
}
