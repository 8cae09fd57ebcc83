// Poses as ladder/04-gemm-tiling/03_sgemm_smem_tiled.cu. No cheat: a static host helper, a static
// flag so that cudaFuncSetAttribute runs once, assert() and host libm.
#include <assert.h>
#include <math.h>
#include "exercises.h"

#define TILE 32

__global__ void sgemm_smem_tiled_kernel(int M, int N, int K, float alpha, const float *A, const float *B, float beta,
                                        float *C) {
    __shared__ float As[TILE][TILE], Bs[TILE][TILE];
    const int row = blockIdx.y * TILE + threadIdx.y, col = blockIdx.x * TILE + threadIdx.x;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TILE) {
        As[threadIdx.y][threadIdx.x] = row < M && k0 + threadIdx.x < K ? A[(long)row * K + k0 + threadIdx.x] : 0.0f;
        Bs[threadIdx.y][threadIdx.x] = col < N && k0 + threadIdx.y < K ? B[(long)(k0 + threadIdx.y) * N + col] : 0.0f;
        __syncthreads();
        for (int k = 0; k < TILE; k++) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
        __syncthreads();
    }
    if (row < M && col < N) C[(long)row * N + col] = alpha * acc + beta * C[(long)row * N + col];
}

static unsigned tiles_for(int extent) { return (unsigned)ceil((double)extent / TILE); }

void sgemm_smem_tiled(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                      cudaStream_t stream) {
    static bool configured;
    if (!configured) {
        cudaFuncSetAttribute(sgemm_smem_tiled_kernel, cudaFuncAttributePreferredSharedMemoryCarveout, 100);
        configured = true;
    }
    assert(M > 0 && N > 0 && K > 0);
    dim3 block(TILE, TILE), grid(tiles_for(N), tiles_for(M));
    sgemm_smem_tiled_kernel<<<grid, block, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
