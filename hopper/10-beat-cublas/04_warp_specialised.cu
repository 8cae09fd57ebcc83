// Session 10, exercise 4: producer and consumer warpgroups.
//
// Three warpgroups a block, one 128 x 256 tile of C, a ring of STAGES stages (48 KB each).
//   warpgroup 0, the producer: hands most of its registers back, and one of its threads does
//     nothing but issue TMA loads, as far ahead as the ring allows;
//   warpgroups 1 and 2, the consumers: take those registers; consumer c multiplies rows
//     64 c .. 64 c + 63 of the tile by all 256 rows of B's slice (one m64n256k16 per k16 step,
//     128 accumulators a thread).
// Two mbarriers a stage carry the handshake:
//   full[s]   1 arrival (the producer's expect_tx) + the stage's bytes, delivered by TMA;
//   empty[s]  CONSUMERS * 4 arrivals: lane 0 of each consumer warp, once its wgmmas are done
//             reading the stage. The producer waits on it before it loads the stage again.
// A barrier's phase flips each time it completes: the n-th fill of stage s (n = kt / STAGES) waits
// on full parity n % 2. The producer's first pass must not wait at all: it waits on empty parity
// (n % 2) ^ 1, and a new barrier counts the phase "before" phase 0 (parity 1) as complete.
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

    // TODO 1: thread 0 initialises every full[s] (1 arrival) and empty[s] (CONSUMERS * 4 arrivals),
    //         fences the inits; then the block syncs.

    if (wg == 0) {   // the producer
        // TODO 2: regs_release<40>(); then thread tid == 0, for each k-step kt: stage s = kt % STAGES;
        //         wait on empty[s] with parity ((kt / STAGES) % 2) ^ 1; announce A_BYTES + B_BYTES on
        //         full[s]; load A's slice (row m0, column kt * BK) and B's (row n0, column kt * BK).
    } else {         // consumer wg - 1
        float d[BN / 2] = {};
        const int a_rows = (wg - 1) * 64 * 128;   // bytes from the A stage to this consumer's 64 rows
        // TODO 3: regs_claim<232>(); then for each k-step kt: s = kt % STAGES; wait on full[s] with
        //         parity (kt / STAGES) % 2; a_desc = sw128_desc(A's stage s + a_rows), b_desc =
        //         sw128_desc(B's stage s); wgmma_fence(); four wgmma_m64n256k16(d, a_desc + 2 k,
        //         b_desc + 2 k, accumulate); wgmma_commit(); wgmma_wait<0>(); then lane 0 of each
        //         warp arrives on empty[s].
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
