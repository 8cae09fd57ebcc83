// Session 01, exercise 3 (solution): the naive GPU matrix product, one thread per element of C.
//
// threadIdx.x runs along a row of C, so the 16 threads of a half-warp read 16 neighbouring
// elements of B (one transaction) and all read the same A element (a broadcast). Every operand
// still comes from global memory K times over: that is what session 04 fixes.
#include "exercises.h"

#define TILE 16

__global__ void matmul_naive_kernel(const float *A, const float *B, float *C, int M, int N, int K) {
    const int row = blockIdx.y * blockDim.y + threadIdx.y;
    const int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= M || col >= N) return;
    float acc = 0.0f;
    for (int k = 0; k < K; k++) acc += A[(long)row * K + k] * B[(long)k * N + col];
    C[(long)row * N + col] = acc;
}

void matmul_naive(const float *A, const float *B, float *C, int M, int N, int K, cudaStream_t stream) {
    dim3 block(TILE, TILE);
    dim3 grid((N + TILE - 1) / TILE, (M + TILE - 1) / TILE);
    matmul_naive_kernel<<<grid, block, 0, stream>>>(A, B, C, M, N, K);
}
