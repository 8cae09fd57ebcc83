// Session 05, rung 5: 2D register blocktiling.
//
// Rung 4 reused a value of B 8 times; now reuse both operands. Each of 256 threads computes an
// 8 x 8 block of a 128 x 128 block tile: per k it loads 8 values of A and 8 of B into registers
// and does all 64 products. Work out the ratio of shared-memory loads to multiply-adds for rungs
// 3, 4 and 5 before you measure.
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
        // TODO 1: fill As (128 x 8) and Bs (8 x 128), 1024 elements each: 4 per thread, e.g. a loop
        //         e = t, t + THREADS, ... with r = e / BK, c = e % BK for A; zero outside. Barrier.
        //         Why e = t + THREADS * step: neighbouring threads take neighbouring elements (coalesced).
        // TODO 2: for each k: load a[i] = As[row0 + i][k] and b[j] = Bs[k][col0 + 16 * j] into registers,
        //         then acc[i][j] += a[i] * b[j] for all 64 pairs (unrolled loops keep acc in
        //         registers). Barrier.
    }
    // TODO 3: write the 8 x 8 results, C = alpha * acc + beta * C, guarding rows and columns.
}

void sgemm_2d_blocktiling(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                          cudaStream_t stream) {
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    sgemm_2d_blocktiling_kernel<<<grid, THREADS, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
