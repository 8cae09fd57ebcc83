// Session 06, exercise 2: what the exercise is given, shared by the skeleton and its solution.
// The PTX wrappers (cp.async, ldmatrix, mma.sync: grader/mma_ptx.cuh) and a plain kernel for
// shapes the 16-byte copies can't handle. Read them; the exercise is the pipeline that uses them.
#ifndef SESSION06_MMA_GIVEN_CUH
#define SESSION06_MMA_GIVEN_CUH

#include <cuda_bf16.h>
#include <stdint.h>

#include "mma_ptx.cuh"

// ---- the fallback: any shape, any alignment ---------------------------------------------

#define FB_TILE 16

__device__ __forceinline__ float bf16_bits_to_float(uint16_t bits) { return __uint_as_float((uint32_t)bits << 16); }

// 16 x 16 tiles through shared memory, widened to float, FFMA: slow and simple.
__global__ void gemm_bf16_fallback_kernel(const uint16_t *A, const uint16_t *B, float *C, int M, int N, int K) {
    __shared__ float As[FB_TILE][FB_TILE], Bs[FB_TILE][FB_TILE + 1];
    int row = blockIdx.y * FB_TILE + threadIdx.y, col = blockIdx.x * FB_TILE + threadIdx.x;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += FB_TILE) {
        int ka = k0 + threadIdx.x, kb = k0 + threadIdx.y;
        As[threadIdx.y][threadIdx.x] = row < M && ka < K ? bf16_bits_to_float(A[(size_t)row * K + ka]) : 0.0f;
        Bs[threadIdx.y][threadIdx.x] = kb < K && col < N ? bf16_bits_to_float(B[(size_t)kb * N + col]) : 0.0f;
        __syncthreads();
#pragma unroll
        for (int k = 0; k < FB_TILE; k++) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
        __syncthreads();
    }
    if (row < M && col < N) C[(size_t)row * N + col] = acc;
}

#endif
