// Session 03, exercise 3 (solution): the shared-memory transpose with one float of padding per
// tile row, so that a column of the tile spreads over all 32 banks.
//
// One change from the skeleton: 64 x 64 tiles instead of 32 x 32 (tile[64][65]; a column still
// falls in 32 different banks, since 65 % 32 == 1). Each block then moves 16 KB each way, its rows
// 256 contiguous bytes on both sides, and 512 threads each keep 8 loads in flight: on an H200 that
// took the transpose from 86% to 92% of the measured copy (handouts/bench/tuning-notes.md).
#include "exercises.h"

#define TILE 64
#define ROWS_PER_PASS 8

__global__ void transpose_padded_kernel(const float *in, float *out, int rows, int cols) {
    __shared__ float tile[TILE][TILE + 1];
    int c = blockIdx.x * TILE + threadIdx.x;
    int r = blockIdx.y * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS_PER_PASS)
        if (r + j < rows && c < cols) tile[threadIdx.y + j][threadIdx.x] = in[(long)(r + j) * cols + c];
    __syncthreads();
    c = blockIdx.y * TILE + threadIdx.x;
    r = blockIdx.x * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS_PER_PASS)
        if (r + j < cols && c < rows) out[(long)(r + j) * rows + c] = tile[threadIdx.x][threadIdx.y + j];
}

void transpose_padded(const float *in, float *out, int rows, int cols, cudaStream_t stream) {
    dim3 block(TILE, ROWS_PER_PASS);
    dim3 grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    transpose_padded_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
}
