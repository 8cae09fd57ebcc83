// Session 03, exercise 3: the shared-memory transpose without bank conflicts.
//
// Start from your exercise 2. In float tile[32][32], element (i, j) sits in bank (32 i + j) % 32
// = j: a column is one bank. Give each row one extra float, tile[32][33]: element (i, j) moves to
// bank (33 i + j) % 32 = (i + j) % 32, and the 32 elements of a column fall in 32 different banks.
// One word of padding per row, and the write phase stops queueing.
#include "exercises.h"

#define TILE 32
#define ROWS_PER_PASS 8

__global__ void transpose_padded_kernel(const float *in, float *out, int rows, int cols) {
    // TODO 1: the padded tile: TILE rows of TILE + 1 floats.
    // TODO 2: the read phase, the barrier and the write phase of exercise 2.
}

void transpose_padded(const float *in, float *out, int rows, int cols, cudaStream_t stream) {
    dim3 block(TILE, ROWS_PER_PASS);
    dim3 grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    transpose_padded_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
}
