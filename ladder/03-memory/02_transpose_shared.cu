// Session 03, exercise 2: transpose through a shared-memory tile.
//
// A block of 32 x 8 threads moves one 32 x 32 tile. It reads the tile row by row from `in`
// (coalesced), keeps it in shared memory, and after a barrier writes it out row by row to `out`
// (coalesced again): the transpose happens inside shared memory, where a strided access is cheap.
// Each thread handles 4 elements, rows threadIdx.y, +8, +16, +24 of the tile.
//
// Shared memory has 32 banks of 4 bytes; float tile[32][32] puts a whole column in one bank, so
// the column reads of the write phase make 32 threads queue on one bank. Exercise 3 measures that.
#include "exercises.h"

#define TILE 32
#define ROWS_PER_PASS 8

__global__ void transpose_shared_kernel(const float *in, float *out, int rows, int cols) {
    __shared__ float tile[TILE][TILE];
    // Read phase: this block's tile starts at row blockIdx.y * TILE, column blockIdx.x * TILE of `in`.
    int c = blockIdx.x * TILE + threadIdx.x;
    int r = blockIdx.y * TILE + threadIdx.y;
    // TODO 1: for j = 0, 8, 16, 24: if (r + j, c) is inside `in`, tile[threadIdx.y + j][threadIdx.x]
    //         = in[(long)(r + j) * cols + c].
    // TODO 2: wait until the whole tile is in shared memory.
    // Write phase: the tile lands at row blockIdx.x * TILE, column blockIdx.y * TILE of `out`.
    // TODO 3: recompute c = blockIdx.y * TILE + threadIdx.x and r = blockIdx.x * TILE + threadIdx.y
    //         (coordinates in `out`, which has `rows` columns and `cols` rows); for j = 0, 8, 16, 24:
    //         if (r + j, c) is inside `out`, out[(long)(r + j) * rows + c] = tile[threadIdx.x][threadIdx.y + j].
    //         Why: tile (by, bx) of `in` is tile (bx, by) of `out`, and x stays along a row: coalesced.
}

void transpose_shared(const float *in, float *out, int rows, int cols, cudaStream_t stream) {
    dim3 block(TILE, ROWS_PER_PASS);
    dim3 grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    transpose_shared_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
}
