// Session 04, rung 1: the naive SGEMM, C = alpha * A * B + beta * C.
//
// One thread per element of C, as in session 01, but mapped the way a first attempt often is:
// threadIdx.x runs DOWN a column of C (consecutive threads, consecutive rows). Write it, measure
// it, and work out from the addresses why it is so slow: which of A, B and C does a warp read as
// one contiguous piece, and which as 32 scattered ones? Rung 2 swaps one index and fixes it.
#include "exercises.h"

#define BLOCK 32

__global__ void sgemm_naive_kernel(int M, int N, int K, float alpha, const float *A, const float *B, float beta,
                                   float *C) {
    // TODO 1: row = blockIdx.x * BLOCK + threadIdx.x; col = blockIdx.y * BLOCK + threadIdx.y.
    //         On purpose: x runs down the rows, so a warp reads A and writes C K and N floats apart.
    // TODO 2: if (row, col) is inside C: acc = sum over k of A[row * K + k] * B[k * N + col] (long
    //         offsets), then C[row * N + col] = alpha * acc + beta * C[row * N + col].
}

void sgemm_naive(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                 cudaStream_t stream) {
    dim3 block(BLOCK, BLOCK);
    // TODO 3: x covers the M rows, y the N columns, rounding up.
    dim3 grid(1, 1);
    sgemm_naive_kernel<<<grid, block, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
