// Session 10, exercise 6 (solution): clusters, TMA multicast, an L2-friendly tile order, TMA stores.
//
// Exercise 5's persistent kernel, with three changes:
//  1. Clusters of two blocks take the two 128-row tiles above each other that share one 256-row
//     slice of B. Each block loads its own A and half of that B slice, multicast into both blocks'
//     shared memory: each B byte leaves L2 once for two blocks. A stage may then be refilled only
//     when the consumers of BOTH blocks are done with it, so each consumer warp arrives on the
//     empty barrier of both blocks (16 arrivals a phase).
//  2. Tiles are walked in groups of GROUP cluster rows, down a group's column before moving right,
//     so the blocks that run at the same time share their A and B slices in L2.
//  3. The epilogue goes through shared memory and TMA stores (when N % 8 == 0, TMA's 16-byte rows):
//     each consumer writes 64 x 128 halves of its tile into a swizzled staging buffer, and one
//     thread stores them while the warpgroup goes on.
#include "exercises.h"
#include "gemm_given.cuh"

#define BM 128
#define BN 256
#define BK 64
#define STAGES 4
#define CONSUMERS 2
#define CLUSTER 2
#define GROUP 8
#define THREADS (128 * (CONSUMERS + 1))
#define A_BYTES (BM * BK * 2)
#define B_BYTES (BN * BK * 2)
#define B_HALF (B_BYTES / CLUSTER)
#define STAGE_C_BYTES (64 * 128 * 2)   // a consumer's 64 x 128 half tile, as two 64 x 64 boxes
#define SMEM_BYTES (STAGES * (A_BYTES + B_BYTES) + CONSUMERS * STAGE_C_BYTES + 1024)

// The tile of cluster-tile t: its cluster row (two 128-row tiles) and its column of 256.
__device__ __forceinline__ void tile_of(int t, int cluster_rows, int tiles_n, int *cluster_row, int *tile_col) {
    const int per_group = GROUP * tiles_n;
    const int first = (t / per_group) * GROUP;
    const int height = min(GROUP, cluster_rows - first);   // the last group may be shorter
    *cluster_row = first + (t % per_group) % height;
    *tile_col = (t % per_group) / height;
}

// Write a consumer's 64 x 128 half (columns 128 h .. 128 h + 127 of its 64 x 256 accumulators) into
// `stage` as two 64 x 64 boxes in the 128-byte swizzled layout TMA's store map expects.
__device__ __forceinline__ void stage_half(uint8_t *stage, const float (&d)[BN / 2], int h, int tid) {
    const int row = 16 * (tid / 32) + (tid % 32) / 4;
#pragma unroll
    for (int j = 0; j < 16; j++) {
        const int col = 8 * j + 2 * (tid % 4);              // 0 .. 127 within the half
        uint8_t *box = stage + (col / 64) * 8192;
        const int chunk = (col % 64) / 8, byte = (col % 8) * 2;
        const int jj = 16 * h + j;
        *(__nv_bfloat162 *)(box + row * 128 + ((chunk ^ (row & 7)) << 4) + byte) =
            __floats2bfloat162_rn(d[4 * jj], d[4 * jj + 1]);
        *(__nv_bfloat162 *)(box + (row + 8) * 128 + ((chunk ^ ((row + 8) & 7)) << 4) + byte) =
            __floats2bfloat162_rn(d[4 * jj + 2], d[4 * jj + 3]);
    }
}

template <bool TMA_STORE>
__global__ void __launch_bounds__(THREADS, 1) gemm_cluster_kernel(const __grid_constant__ CUtensorMap a_map,
                                                                  const __grid_constant__ CUtensorMap b_map,
                                                                  const __grid_constant__ CUtensorMap c_map,
                                                                  uint16_t *C, int M, int N, int K) {
    extern __shared__ uint8_t smem_raw[];
    uint8_t *smem = align_1024(smem_raw);
    uint8_t *a_stage = smem, *b_stage = smem + STAGES * A_BYTES;
    uint8_t *c_stage = b_stage + STAGES * B_BYTES;
    __shared__ uint64_t full[STAGES], empty[STAGES];
    const int tiles_n = (N + BN - 1) / BN, cluster_rows = ((M + BM - 1) / BM + 1) / 2;
    const int tiles = cluster_rows * tiles_n, clusters = gridDim.x / CLUSTER;
    const int k_steps = (K + BK - 1) / BK;
    const int wg = threadIdx.x / 128, tid = threadIdx.x % 128;
    const uint32_t rank = cluster_rank();

    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; s++) {
            mbar_init(&full[s], 1);
            mbar_init(&empty[s], CONSUMERS * 4 * CLUSTER);
        }
        mbar_fence_init();
    }
    cluster_sync();   // both blocks' barriers exist before either block's TMA or arrivals reach them

    if (wg == 0) {
        regs_release<40>();
        if (tid == 0) {
            int step = 0;
            for (int t = blockIdx.x / CLUSTER; t < tiles; t += clusters) {
                int cr, tc;
                tile_of(t, cluster_rows, tiles_n, &cr, &tc);
                const int m0 = (2 * cr + rank) * BM, n0 = tc * BN;
                for (int kt = 0; kt < k_steps; kt++, step++) {
                    const int s = step % STAGES;
                    mbar_wait(&empty[s], ((step / STAGES) & 1) ^ 1);
                    mbar_arrive_expect_tx(&full[s], A_BYTES + B_BYTES);   // A, and both halves of B
                    tma_load(a_stage + s * A_BYTES, &a_map, &full[s], m0, kt * BK);
                    tma_load_multicast(b_stage + s * B_BYTES + rank * B_HALF, &b_map, &full[s], n0 + rank * (BN / 2),
                                       kt * BK, (1 << CLUSTER) - 1);
                }
            }
        }
    } else {
        regs_claim<232>();
        const int c = wg - 1, a_rows = c * 64 * 128;
        uint8_t *my_stage = c_stage + c * STAGE_C_BYTES;
        int step = 0;
        for (int t = blockIdx.x / CLUSTER; t < tiles; t += clusters) {
            int cr, tc;
            tile_of(t, cluster_rows, tiles_n, &cr, &tc);
            const int m0 = (2 * cr + rank) * BM + c * 64, n0 = tc * BN;
            float d[BN / 2];
            int previous = -1;
            for (int kt = 0; kt < k_steps; kt++, step++) {
                const int s = step % STAGES;
                mbar_wait(&full[s], (step / STAGES) & 1);
                const uint64_t a_desc = sw128_desc(a_stage + s * A_BYTES + a_rows),
                               b_desc = sw128_desc(b_stage + s * B_BYTES);
                wgmma_fence();
#pragma unroll
                for (int k = 0; k < BK / 16; k++) wgmma_m64n256k16(d, a_desc + 2 * k, b_desc + 2 * k, kt > 0 || k > 0);
                wgmma_commit();
                wgmma_wait<1>();
                if (previous >= 0 && tid % 32 == 0)
                    for (int r = 0; r < CLUSTER; r++) mbar_arrive_cluster(&empty[previous], r);
                previous = s;
            }
            wgmma_wait<0>();
            if (tid % 32 == 0)
                for (int r = 0; r < CLUSTER; r++) mbar_arrive_cluster(&empty[previous], r);
            if constexpr (!TMA_STORE) {
                store_tile_bf16<BN>(C, M, N, m0, n0, d, tid);
            } else {
                for (int h = 0; h < 2; h++) {
                    if (tid == 0) tma_store_wait_read();   // the previous stores are done with the buffer
                    named_barrier(wg, 128);
                    stage_half(my_stage, d, h, tid);
                    fence_async_shared();                   // make the writes visible to TMA
                    named_barrier(wg, 128);
                    if (tid == 0) {
                        tma_store(&c_map, my_stage, m0, n0 + 128 * h);
                        tma_store(&c_map, my_stage + 8192, m0, n0 + 128 * h + 64);
                        tma_store_commit();
                    }
                }
            }
        }
        if (TMA_STORE && tid == 0) tma_store_wait_all();
    }
    cluster_sync();   // neither block leaves while the other may still write into it
}

void gemm_cluster(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream) {
    CUtensorMap a_map, b_map, c_map;
    const bool tma_store = N % 8 == 0;
    if (tma_map_bf16(&a_map, A, M, K, BM, BK, 1) || tma_map_bf16(&b_map, B, N, K, BN / CLUSTER, BK, 1)) return;
    if (tma_store && tma_map_bf16(&c_map, C, M, N, 64, 64, 1)) return;
    void (*kernel)(const CUtensorMap, const CUtensorMap, const CUtensorMap, uint16_t *, int, int, int) =
        tma_store ? gemm_cluster_kernel<true> : gemm_cluster_kernel<false>;
    cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_BYTES);
    cudaLaunchConfig_t config = {};
    config.blockDim = dim3(THREADS);
    config.dynamicSmemBytes = SMEM_BYTES;
    config.stream = stream;
    cudaLaunchAttribute cluster;
    cluster.id = cudaLaunchAttributeClusterDimension;
    cluster.val.clusterDim.x = CLUSTER;
    cluster.val.clusterDim.y = 1;
    cluster.val.clusterDim.z = 1;
    config.attrs = &cluster;
    config.numAttrs = 1;
    // A cluster needs CLUSTER free SMs of one GPC at once, and a GPC with an odd count of SMs leaves
    // one idle: fewer than SMs / CLUSTER clusters fit. Launching more would run the rest as a second,
    // nearly empty wave, so ask how many fit.
    config.gridDim = dim3(CLUSTER);
    int fit = 1;
    cudaOccupancyMaxActiveClusters(&fit, kernel, &config);
    const int tiles = (((M + BM - 1) / BM + 1) / 2) * ((N + BN - 1) / BN);
    const int clusters = tiles < fit ? tiles : (fit > 0 ? fit : 1);
    config.gridDim = dim3(clusters * CLUSTER);
    cudaLaunchKernelEx(&config, kernel, a_map, b_map, c_map, C, M, N, K);
}
