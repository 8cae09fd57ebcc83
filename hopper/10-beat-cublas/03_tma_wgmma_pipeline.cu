// Session 10, exercise 3: a GEMM from TMA and wgmma, with a ring of stages.
//
// C = A * B^T (exercises.h). A block of one warpgroup computes a 128 x 128 tile of C: two
// m64n128k16 wgmmas per k16 step (rows 0-63 and 64-127 of the tile), 2 x 64 accumulators a thread.
// K goes 64 columns a k-step. TMA brings A's 128 x 64 and B's 128 x 64 slices of a k-step into one
// of STAGES stages of shared memory, each stage with a `full` mbarrier; thread 0 keeps the whole
// ring loading while the warpgroup multiplies. Edges cost nothing: TMA fills what lies outside A or
// B with zeros (zeros add nothing to a dot product), and store_tile_bf16 skips what lies outside C.
//
// Given: hopper_given.cuh (the instructions), wgmma_desc.cuh (sw128_desc: your descriptor of exercise 2),
// gemm_given.cuh (store_tile_bf16, align_1024).
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
    uint8_t *a_stage = smem, *b_stage = smem + STAGES * A_BYTES;   // stage s: a_stage + s * A_BYTES, ...
    __shared__ uint64_t full[STAGES];
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    const int k_steps = (K + BK - 1) / BK;

    // TODO 1: thread 0 initialises full[0 .. STAGES-1] for one arrival each, fences the inits, and
    //         the block syncs.

    // TODO 2: thread 0 fills the ring: for each stage s < STAGES (and s < k_steps), announce
    //         A_BYTES + B_BYTES on full[s], then tma_load A's slice (row m0, column s * BK) into
    //         stage s of a_stage and B's slice (row n0, column s * BK) into stage s of b_stage.

    float d[2][BN / 2] = {};   // rows 0-63 and 64-127 of the tile
    for (int kt = 0; kt < k_steps; kt++) {
        const int s = kt % STAGES;
        // TODO 3: wait until stage s is full: this is the (kt / STAGES)-th time the stage is filled,
        //         so wait on parity (kt / STAGES) % 2. Then, with a_desc = sw128_desc(A's stage s)
        //         and b_desc = sw128_desc(B's stage s): wgmma_fence(); four k16 steps, each
        //             wgmma_m64n128k16(d[0], a_desc + 2 k, b_desc + 2 k, accumulate)
        //             wgmma_m64n128k16(d[1], a_desc + 512 + 2 k, b_desc + 2 k, accumulate)
        //         (+2: 32 bytes further along the rows; +512: 64 rows x 128 bytes further down;
        //         accumulate is 0 only for the very first step), wgmma_commit(), wgmma_wait<0>().

        // TODO 4: every warp is now done with stage s: sync the block, then thread 0 refills the
        //         stage with k-step kt + STAGES, if there is one (the same two loads as the first fill).
    }
    store_tile_bf16<BN>(C, M, N, m0, n0, d[0], threadIdx.x);
    store_tile_bf16<BN>(C, M, N, m0 + 64, n0, d[1], threadIdx.x);
}

void gemm_tma_wgmma(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream) {
    CUtensorMap a_map, b_map;
    // Boxes of BM (or BN) rows x BK columns, in the 128-byte swizzle wgmma reads.
    if (tma_map_bf16(&a_map, A, M, K, BM, BK, 1) || tma_map_bf16(&b_map, B, N, K, BN, BK, 1)) return;
    cudaFuncSetAttribute(gemm_tma_wgmma_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_BYTES);
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    gemm_tma_wgmma_kernel<<<grid, THREADS, SMEM_BYTES, stream>>>(a_map, b_map, C, M, N, K);
}
