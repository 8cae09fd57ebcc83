// Session 10, exercise 1 (solution): one 64 x 64 tile per block, fetched by TMA.
//
// One thread sets up an mbarrier, announces the tile's 8192 bytes and issues the copy; every
// thread waits on the barrier's phase 0, then the block copies the tile out, 16 bytes a thread a
// step. The tensor map's box is 64 x 64 without swizzle, so the tile lands row-major, and TMA
// fills what lies past the matrix's last row or column with zeros.
#include "exercises.h"
#include "hopper_given.cuh"

#define TILE 64
#define THREADS 128

__global__ void __launch_bounds__(THREADS) tma_tiles_kernel(const __grid_constant__ CUtensorMap src_map,
                                                             uint16_t *tiles, int tiles_across) {
    __shared__ __align__(128) uint16_t tile[TILE * TILE];
    __shared__ uint64_t loaded;
    const int tr = blockIdx.y, tc = blockIdx.x;
    if (threadIdx.x == 0) {
        mbar_init(&loaded, 1);
        mbar_fence_init();
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        mbar_arrive_expect_tx(&loaded, sizeof tile);
        tma_load(tile, &src_map, &loaded, tr * TILE, tc * TILE);
    }
    mbar_wait(&loaded, 0);
    // 512 chunks of 16 bytes, four a thread, consecutive threads on consecutive chunks.
    uint4 *out = (uint4 *)(tiles + ((size_t)tr * tiles_across + tc) * TILE * TILE);
    const uint4 *in = (const uint4 *)tile;
    for (int i = threadIdx.x; i < TILE * TILE / 8; i += THREADS) out[i] = in[i];
}

void tma_tiles(const uint16_t *src, int rows, int cols, uint16_t *tiles, cudaStream_t stream) {
    CUtensorMap map;
    if (tma_map_bf16(&map, src, rows, cols, TILE, TILE, 0) != 0) return;
    dim3 grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    tma_tiles_kernel<<<grid, THREADS, 0, stream>>>(map, tiles, grid.x);
}
