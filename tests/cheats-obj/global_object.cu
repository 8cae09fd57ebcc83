// Poses as ladder/03-memory/02_transpose_shared.cu. Cheat: a C++ global object whose constructor
// runs before the grader's main (no attribute, nothing a scanner would flag).
#include "exercises.h"

#define TILE 32
#define ROWS_PER_PASS 8

__global__ void transpose_shared_kernel(const float *in, float *out, int rows, int cols) {
    __shared__ float tile[TILE][TILE];
    int c = blockIdx.x * TILE + threadIdx.x, r = blockIdx.y * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS_PER_PASS)
        if (r + j < rows && c < cols) tile[threadIdx.y + j][threadIdx.x] = in[(long)(r + j) * cols + c];
    __syncthreads();
    c = blockIdx.y * TILE + threadIdx.x;
    r = blockIdx.x * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS_PER_PASS)
        if (r + j < cols && c < rows) out[(long)(r + j) * rows + c] = tile[threadIdx.x][threadIdx.y + j];
}

struct Prepare {
    int device = -1;
    Prepare() { cudaGetDevice(&device); }
};
Prepare prepared;

void transpose_shared(const float *in, float *out, int rows, int cols, cudaStream_t stream) {
    dim3 block(TILE, ROWS_PER_PASS), grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    transpose_shared_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
}
