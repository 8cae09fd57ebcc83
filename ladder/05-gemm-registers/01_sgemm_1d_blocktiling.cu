// Session 05, rung 4: 1D register blocktiling.
//
// Session 04's tiled kernel does one multiply-add per pair of shared-memory loads: shared memory,
// not arithmetic, sets its speed. Here each thread computes TM = 8 results down one column of a
// 64 x 64 block tile. For each k it loads B's element once into a register and uses it 8 times.
// 512 threads; K advances 8 at a time (BK). Zero-fill tile elements outside A or B.
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
    // Why t % BN: a warp shares row0 and takes 32 neighbouring columns (Bs: 32 banks; As: a broadcast).
    const int col = t % BN, row0 = (t / BN) * TM;  // this thread: rows row0..row0+7 of column col
    const int a_r = t / BK, a_c = t % BK;          // the element of the A tile it loads
    const int b_r = t / BN, b_c = t % BN;          // the element of the B tile it loads
    float acc[TM] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
        // TODO 1: As[a_r][a_c] = A[bm + a_r][k0 + a_c] and Bs[b_r][b_c] = B[k0 + b_r][bn + b_c], or 0.0f
        //         outside the matrices; then a barrier.
        // TODO 2: for k = 0..BK-1: b = Bs[k][col]; acc[i] += As[row0 + i][k] * b for i = 0..TM-1.
        //         A barrier before the next tile is loaded.
    }
    // TODO 3: for each i, if (bm + row0 + i, bn + col) is inside C: C = alpha * acc[i] + beta * C.
}

void sgemm_1d_blocktiling(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                          cudaStream_t stream) {
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    sgemm_1d_blocktiling_kernel<<<grid, THREADS, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
