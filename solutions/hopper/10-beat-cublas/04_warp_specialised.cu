// Session 10, exercise 4 (solution): producer and consumer warpgroups.
//
// Three warpgroups a block, one 128 x 256 tile of C. Warpgroup 0 is the producer: it gives most
// of its registers back (setmaxnreg) and one of its threads does nothing but issue TMA loads into
// a ring of STAGES stages. Warpgroups 1 and 2 are consumers: they take those registers, and each
// multiplies its 64 rows of A by all 256 rows of B (one m64n256k16 per k-step, 128 accumulators a
// thread). Two mbarriers a stage carry the handshake:
//   full[s]   the producer announces the stage's bytes; TMA completes it when they have landed.
//   empty[s]  each consumer warp arrives when its wgmmas have finished reading the stage; the
//             producer waits for all 8 before it loads the stage again.
// A barrier's phase flips each time it completes, so the n-th use of stage s waits on parity n % 2;
// the producer's first pass waits on parity 1, which a new barrier counts as already complete.
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

__global__ void __launch_bounds__(THREADS, 1) gemm_ws_kernel(const __grid_constant__ CUtensorMap a_map,
                                                             const __grid_constant__ CUtensorMap b_map,
                                                             uint16_t *C, int M, int N, int K) {
    extern __shared__ uint8_t smem_raw[];
    uint8_t *smem = align_1024(smem_raw);
    uint8_t *a_stage = smem, *b_stage = smem + STAGES * A_BYTES;
    __shared__ uint64_t full[STAGES], empty[STAGES];
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
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

    if (wg == 0) {   // the producer
        regs_release<40>();
        if (tid == 0)
            for (int kt = 0; kt < k_steps; kt++) {
                const int s = kt % STAGES;
                mbar_wait(&empty[s], ((kt / STAGES) & 1) ^ 1);
                mbar_arrive_expect_tx(&full[s], A_BYTES + B_BYTES);
                tma_load(a_stage + s * A_BYTES, &a_map, &full[s], m0, kt * BK);
                tma_load(b_stage + s * B_BYTES, &b_map, &full[s], n0, kt * BK);
            }
    } else {         // a consumer: rows 64 (wg - 1) .. + 63 of the tile
        regs_claim<232>();
        float d[BN / 2];
        const int a_rows = (wg - 1) * 64 * 128;   // bytes into the A stage
        for (int kt = 0; kt < k_steps; kt++) {
            const int s = kt % STAGES;
            mbar_wait(&full[s], (kt / STAGES) & 1);
            const uint64_t a_desc = sw128_desc(a_stage + s * A_BYTES + a_rows), b_desc = sw128_desc(b_stage + s * B_BYTES);
            wgmma_fence();
#pragma unroll
            for (int k = 0; k < BK / 16; k++) wgmma_m64n256k16(d, a_desc + 2 * k, b_desc + 2 * k, kt > 0 || k > 0);
            wgmma_commit();
            wgmma_wait<0>();
            if (tid % 32 == 0) mbar_arrive(&empty[s]);
        }
        store_tile_bf16<BN>(C, M, N, m0 + (wg - 1) * 64, n0, d, tid);
    }
}

void gemm_warp_specialised(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream) {
    CUtensorMap a_map, b_map;
    if (tma_map_bf16(&a_map, A, M, K, BM, BK, 1) || tma_map_bf16(&b_map, B, N, K, BN, BK, 1)) return;
    cudaFuncSetAttribute(gemm_ws_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_BYTES);
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    gemm_ws_kernel<<<grid, THREADS, SMEM_BYTES, stream>>>(a_map, b_map, C, M, N, K);
}
