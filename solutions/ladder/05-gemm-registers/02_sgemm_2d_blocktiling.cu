// Session 05, rung 5 (solution): 2D register blocktiling.
//
// A 128 x 128 block tile, K in steps of 8, 256 threads; each thread computes an 8 x 8 block of
// results. Per k it loads 8 values of A and 8 of B into registers and does their 64 products:
// 16 shared-memory loads for 64 multiply-adds.
#include "exercises.h"

#define BM 128
#define BN 128
#define BK 8
#define TM 8
#define TN 8
#define THREADS (BM * BN / (TM * TN))

__global__ void __launch_bounds__(THREADS, 2)
sgemm_2d_blocktiling_kernel(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C) {
    __shared__ float As[BM][BK];
    __shared__ float Bs[BK][BN];
    const int bm = blockIdx.y * BM, bn = blockIdx.x * BN;
    const int t = threadIdx.x;
    // Rows row0..row0+7; columns col0, col0+16, ..., col0+112: neighbouring lanes read neighbouring
    // words of Bs, so their loads fall in different banks.
    const int row0 = (t / (BN / TN)) * TM, col0 = t % (BN / TN);
    float acc[TM][TN] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
        // 1024 elements of each tile, 4 per thread.
        for (int e = t; e < BM * BK; e += THREADS) {
            const int r = e / BK, c = e % BK;
            As[r][c] = (bm + r < M && k0 + c < K) ? A[(long)(bm + r) * K + k0 + c] : 0.0f;
        }
        for (int e = t; e < BK * BN; e += THREADS) {
            const int r = e / BN, c = e % BN;
            Bs[r][c] = (k0 + r < K && bn + c < N) ? B[(long)(k0 + r) * N + bn + c] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float a[TM], b[TN];
#pragma unroll
            for (int i = 0; i < TM; i++) a[i] = As[row0 + i][k];
#pragma unroll
            for (int j = 0; j < TN; j++) b[j] = Bs[k][col0 + (BN / TN) * j];
#pragma unroll
            for (int i = 0; i < TM; i++)
#pragma unroll
                for (int j = 0; j < TN; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < TM; i++) {
        const int r = bm + row0 + i;
        if (r >= M) continue;
#pragma unroll
        for (int j = 0; j < TN; j++) {
            const int c = bn + col0 + (BN / TN) * j;
            if (c < N) {
                const long at = (long)r * N + c;
                C[at] = alpha * acc[i][j] + beta * C[at];
            }
        }
    }
}

void sgemm_2d_blocktiling(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                          cudaStream_t stream) {
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    sgemm_2d_blocktiling_kernel<<<grid, THREADS, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
