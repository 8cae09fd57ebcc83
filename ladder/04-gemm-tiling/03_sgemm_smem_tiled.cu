// Session 04, rung 3: shared-memory tiling.
//
// In rung 2 every element of A and B is fetched from global memory (or L2) once per thread that
// needs it: 32 times per block for a 32 x 32 block. Here the block first copies a 32 x 32 tile of
// A and one of B into shared memory, each thread fetching one element of each, then every thread
// does 32 multiply-adds out of shared memory; repeat along K. Global traffic drops 32-fold.
//
// Edges: M, N and K need not be multiples of 32. Load 0.0f for elements outside A or B (a zero
// adds nothing to the dot product) and guard the final store.
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
        // TODO 1: As[ty][tx] = A[row][k0 + tx] and Bs[ty][tx] = B[k0 + ty][col], or 0.0f when the
        //         element is outside the matrix.
        //         Why tx along k for A and along the columns for B: a warp reads 32 neighbouring floats of each.
        // TODO 2: barrier; acc += As[ty][k] * Bs[k][tx] for k = 0..TILE-1; barrier again before the
        //         next tile overwrites shared memory.
    }
    // TODO 3: if (row, col) is inside C: C[row * N + col] = alpha * acc + beta * C[row * N + col].
}

void sgemm_smem_tiled(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                      cudaStream_t stream) {
    dim3 block(TILE, TILE);
    dim3 grid((N + TILE - 1) / TILE, (M + TILE - 1) / TILE);
    sgemm_smem_tiled_kernel<<<grid, block, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
