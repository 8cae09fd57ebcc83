// Session 10, exercise 1: one 64 x 64 tile per block, fetched by TMA.
//
// TMA (the Tensor Memory Accelerator) copies a whole box of a matrix from global into shared
// memory on one thread's word, and counts the bytes that land on an mbarrier. Here a block of 128
// threads fetches tile (blockIdx.y, blockIdx.x) of `src` and copies it out to `tiles`. The box
// hangs over the matrix's edge on the last row and column of tiles: TMA writes zeros there.
//
// The wrappers you need are in hopper_given.cuh: mbar_init, mbar_fence_init, mbar_arrive_expect_tx,
// tma_load, mbar_wait, and (on the host) tma_map_bf16. make check ONLY=01_tma_tile; make sass
// EX=01_tma_tile shows the UTMALDG (the TMA load) and SYNCS (the mbarrier) your kernel compiles to.
#include "exercises.h"
#include "hopper_given.cuh"

#define TILE 64
#define THREADS 128

__global__ void __launch_bounds__(THREADS) tma_tiles_kernel(const __grid_constant__ CUtensorMap src_map,
                                                             uint16_t *tiles, int tiles_across) {
    __shared__ __align__(128) uint16_t tile[TILE * TILE];
    __shared__ uint64_t loaded;   // the mbarrier the tile's bytes arrive on
    const int tr = blockIdx.y, tc = blockIdx.x;

    // TODO 1: thread 0 initialises `loaded` for one arrival (mbar_init) and fences the init
    //         (mbar_fence_init); then the whole block syncs, so no thread uses it before it exists.

    // TODO 2: thread 0 announces the tile's bytes on `loaded` (mbar_arrive_expect_tx: sizeof tile)
    //         and issues the copy of the tile whose top-left element is (tr * TILE, tc * TILE).

    // TODO 3: every thread waits for phase 0 of `loaded` to complete (mbar_wait), then the block
    //         copies `tile` (4096 elements, row-major) to its place in `tiles`:
    //         tiles + (tr * tiles_across + tc) * TILE * TILE. 16 bytes (a uint4) a thread a step keeps
    //         consecutive threads on consecutive addresses.
}

void tma_tiles(const uint16_t *src, int rows, int cols, uint16_t *tiles, cudaStream_t stream) {
    CUtensorMap map = {};
    // TODO 4: describe `src` (rows x cols) for TMA with 64 x 64 boxes and no swizzle:
    //         tma_map_bf16(&map, src, rows, cols, TILE, TILE, 0); return if it fails (it says why).
    dim3 grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    tma_tiles_kernel<<<grid, THREADS, 0, stream>>>(map, tiles, grid.x);
}
