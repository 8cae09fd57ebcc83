// Session 04, rung 3 (solution): 32 x 32 tiles of A and B through shared memory.
#include "exercises.h"

#define TILE 32

__global__ void sgemm_smem_tiled_kernel(int M, int N, int K, float alpha, const float *A, const float *B,
                                        float beta, float *C) {
    __shared__ float As[TILE][TILE];
    __shared__ float Bs[TILE][TILE];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int row = blockIdx.y * TILE + ty, col = blockIdx.x * TILE + tx;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TILE) {
        As[ty][tx] = (row < M && k0 + tx < K) ? A[(long)row * K + k0 + tx] : 0.0f;
        Bs[ty][tx] = (k0 + ty < K && col < N) ? B[(long)(k0 + ty) * N + col] : 0.0f;
        __syncthreads();
#pragma unroll
        for (int k = 0; k < TILE; k++) acc += As[ty][k] * Bs[k][tx];
        __syncthreads();
    }
    if (row < M && col < N) {
        const long at = (long)row * N + col;
        C[at] = alpha * acc + beta * C[at];
    }
}

void sgemm_smem_tiled(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                      cudaStream_t stream) {
    dim3 block(TILE, TILE);
    dim3 grid((N + TILE - 1) / TILE, (M + TILE - 1) / TILE);
    sgemm_smem_tiled_kernel<<<grid, block, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
