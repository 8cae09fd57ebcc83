// Session 01, exercise 3: the naive GPU matrix product, C = A * B, row-major, FP32.
//
// The CPU version from exercise 1 runs the M * N dot products one after another. Here every
// element of C gets its own thread, and all of them run at once. A 2D grid of 2D blocks maps onto
// the 2D output: x across the columns of C, y down its rows. Edges: M and N need not be multiples
// of the block size, so threads outside C must do nothing.
#include "exercises.h"

#define TILE 16

__global__ void matmul_naive_kernel(const float *A, const float *B, float *C, int M, int N, int K) {
    // TODO 1: the row of C this thread computes: blockIdx.y * blockDim.y + threadIdx.y;
    //         its column: blockIdx.x * blockDim.x + threadIdx.x.
    //         Why x for the column: a warp's threads run along x first, so it reads B and writes C side by side.
    // TODO 2: if (row, col) is inside C, sum A[row * K + k] * B[k * N + col] over k in a float
    //         and store it in C[row * N + col].
}

void matmul_naive(const float *A, const float *B, float *C, int M, int N, int K, cudaStream_t stream) {
    dim3 block(TILE, TILE);
    // TODO 3: a grid that covers all N columns (x) and all M rows (y), rounding up.
    dim3 grid(1, 1);
    matmul_naive_kernel<<<grid, block, 0, stream>>>(A, B, C, M, N, K);
}
