// Session 05, rung 4 (solution): 1D register blocktiling.
//
// A 64 x 64 block tile, K in steps of 8, 512 threads; each thread computes TM = 8 results down one
// column. For every k it reads one element of B from shared memory into a register and reuses it
// for 8 multiply-adds: 8 results per shared-memory load of B instead of 1.
#include "exercises.h"

#define BM 64
#define BN 64
#define BK 8
#define TM 8
#define THREADS (BM * BN / TM)

__global__ void sgemm_1d_blocktiling_kernel(int M, int N, int K, float alpha, const float *A, const float *B,
                                            float beta, float *C) {
    __shared__ float As[BM][BK];
    __shared__ float Bs[BK][BN];
    const int bm = blockIdx.y * BM, bn = blockIdx.x * BN;
    const int t = threadIdx.x;
    const int col = t % BN, row0 = (t / BN) * TM;  // this thread: rows row0..row0+7 of column col
    const int a_r = t / BK, a_c = t % BK;          // the element of A and of B it loads
    const int b_r = t / BN, b_c = t % BN;
    float acc[TM] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
        As[a_r][a_c] = (bm + a_r < M && k0 + a_c < K) ? A[(long)(bm + a_r) * K + k0 + a_c] : 0.0f;
        Bs[b_r][b_c] = (k0 + b_r < K && bn + b_c < N) ? B[(long)(k0 + b_r) * N + bn + b_c] : 0.0f;
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
            const float b = Bs[k][col];
#pragma unroll
            for (int i = 0; i < TM; i++) acc[i] += As[row0 + i][k] * b;
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < TM; i++) {
        const int r = bm + row0 + i, c = bn + col;
        if (r < M && c < N) {
            const long at = (long)r * N + c;
            C[at] = alpha * acc[i] + beta * C[at];
        }
    }
}

void sgemm_1d_blocktiling(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                          cudaStream_t stream) {
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    sgemm_1d_blocktiling_kernel<<<grid, THREADS, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
