// Session 10, exercise 5: a persistent kernel.
//
// Exercise 4's block (a producer warpgroup, two consumers, a 128 x 256 tile, a ring of 4 stages),
// but launched once per SM: each block walks the tiles t = blockIdx.x, t + gridDim.x, ... (tile t
// is row t / tiles_n, column t % tiles_n). Nothing is set up twice: the ring and its barriers live
// on from one tile to the next, so a stage and its parity come from `step`, a count of k-steps over
// every tile the block has done, never reset. The producer then runs ahead into the next tile
// while the consumers still store this one: the epilogue overlaps the next tile's loads.
//
// One more overlap inside the k-loop: a consumer keeps one group of wgmmas in flight. After it
// commits k-step `step`, wgmma_wait<1>() returns once the group before is done, so the stage of
// the previous k-step (not this one) is the one it can release.
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
        // TODO 1: thread tid == 0 keeps `int step = 0` and loops over this block's tiles; for each
        //         tile (m0, n0) and each k-step kt (step++ with kt): s = step % STAGES; wait on
        //         empty[s], parity ((step / STAGES) % 2) ^ 1; expect_tx; load A and B as in exercise 4.
    } else {
        regs_claim<232>();
        const int a_rows = (wg - 1) * 64 * 128;
        // TODO 2: the same tile loop with its own `step`. For each tile: float d[BN / 2]; for each
        //         k-step: wait on full[s] (parity (step / STAGES) % 2), fence, four wgmmas
        //         (accumulate = 0 only for the tile's first k16 step), commit, wgmma_wait<1>(), and
        //         lane 0 of each warp releases the PREVIOUS k-step's stage (none on the tile's first
        //         k-step). After the k-loop: wgmma_wait<0>(), release the last stage, and
        //         store_tile_bf16<BN>(C, M, N, m0 + (wg - 1) * 64, n0, d, tid).
    }
}

void gemm_persistent(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream) {
    CUtensorMap a_map, b_map;
    if (tma_map_bf16(&a_map, A, M, K, BM, BK, 1) || tma_map_bf16(&b_map, B, N, K, BN, BK, 1)) return;
    const int tiles = ((M + BM - 1) / BM) * ((N + BN - 1) / BN);
    // TODO 3: one block per SM (cudaDevAttrMultiProcessorCount of the current device), and never
    //         more blocks than tiles.
    const int blocks = tiles;
    cudaFuncSetAttribute(gemm_persistent_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_BYTES);
    gemm_persistent_kernel<<<blocks, THREADS, SMEM_BYTES, stream>>>(a_map, b_map, C, M, N, K);
}
