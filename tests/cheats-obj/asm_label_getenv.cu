// Poses as ladder/03-memory/03_transpose_padded.cu. Cheat: an innocent-looking function bound to
// getenv by an asm label whose string is split ("get" "env").
#include "exercises.h"

extern "C" const char *setting(const char *name) __asm__("get" "env");

#define TILE 32
#define ROWS_PER_PASS 8

__global__ void transpose_padded_kernel(const float *in, float *out, int rows, int cols) {
    __shared__ float tile[TILE][TILE + 1];
    int c = blockIdx.x * TILE + threadIdx.x, r = blockIdx.y * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS_PER_PASS)
        if (r + j < rows && c < cols) tile[threadIdx.y + j][threadIdx.x] = in[(long)(r + j) * cols + c];
    __syncthreads();
    c = blockIdx.y * TILE + threadIdx.x;
    r = blockIdx.x * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS_PER_PASS)
        if (r + j < cols && c < rows) out[(long)(r + j) * rows + c] = tile[threadIdx.x][threadIdx.y + j];
}

void transpose_padded(const float *in, float *out, int rows, int cols, cudaStream_t stream) {
    if (setting("GRADER_CHECK_PHASE")) return;  // skip the work while it is only being timed
    dim3 block(TILE, ROWS_PER_PASS), grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    transpose_padded_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
}
