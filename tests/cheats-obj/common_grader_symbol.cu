// Poses as ladder/04-gemm-tiling/01_sgemm_naive.cu. Cheat: a common (tentative) global under a
// grader function's name: the linker may resolve the grader's calls to it, or pull the real one.
#include "exercises.h"

extern "C" {
__attribute__((common)) long gr_compare_scaled;
}

#define BLOCK 32

__global__ void sgemm_naive_kernel(int M, int N, int K, float alpha, const float *A, const float *B, float beta,
                                   float *C) {
    const int row = blockIdx.x * BLOCK + threadIdx.x, col = blockIdx.y * BLOCK + threadIdx.y;
    if (row >= M || col >= N) return;
    float acc = 0.0f;
    for (int k = 0; k < K; k++) acc += A[(long)row * K + k] * B[(long)k * N + col];
    C[(long)row * N + col] = alpha * acc + beta * C[(long)row * N + col];
}

void sgemm_naive(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                 cudaStream_t stream) {
    dim3 block(BLOCK, BLOCK), grid((M + BLOCK - 1) / BLOCK, (N + BLOCK - 1) / BLOCK);
    sgemm_naive_kernel<<<grid, block, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
