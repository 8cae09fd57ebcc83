// Session 03, exercise 1 (solution): the naive transpose. Reads coalesced, writes strided.
#include "exercises.h"

#define TILE 32

__global__ void transpose_naive_kernel(const float *in, float *out, int rows, int cols) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    const int r = blockIdx.y * blockDim.y + threadIdx.y;
    if (r < rows && c < cols) out[(long)c * rows + r] = in[(long)r * cols + c];
}

void transpose_naive(const float *in, float *out, int rows, int cols, cudaStream_t stream) {
    dim3 block(TILE, 8);
    dim3 grid((cols + TILE - 1) / TILE, (rows + 8 - 1) / 8);
    transpose_naive_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
}
