// Session 05, rung 6: 16-byte loads and a transposed A tile.
//
// Start from rung 5. From global memory, each thread fetches one float4 of A (4 consecutive k of
// one row) and one float4 of B (4 consecutive columns). Store A transposed, As[k][m]: the 8 values
// of A a thread needs for one k are then contiguous, and all four register loads per k become
// 16-byte shared-memory loads. float4 needs 16-byte alignment: use it only when K and N are
// multiples of 4 and the tile lies wholly inside the matrices; otherwise load element by element.
#include "exercises.h"

#define BM 128
#define BN 128
#define BK 8
#define TM 8
#define TN 8
#define THREADS (BM * BN / (TM * TN))

__global__ void __launch_bounds__(THREADS)
sgemm_vectorized_kernel(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C) {
    __shared__ __align__(16) float As[BK][BM];  // transposed: As[k][m]
    __shared__ __align__(16) float Bs[BK][BN];
    const int bm = blockIdx.y * BM, bn = blockIdx.x * BN;
    const int t = threadIdx.x;
    const int row0 = (t / (BN / TN)) * TM, col0 = (t % (BN / TN)) * TN;
    // Why these: a row of the A tile is BK / 4 = 2 float4s, of the B tile BN / 4 = 32: 256 threads, one each.
    const int a_r = t / (BK / 4), a_c = (t % (BK / 4)) * 4;  // this thread's float4 of the A tile
    const int b_r = t / (BN / 4), b_c = (t % (BN / 4)) * 4;  // and of the B tile
    const bool vector_ok = K % 4 == 0 && N % 4 == 0;
    float acc[TM][TN] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
        // TODO 1: if the tile is inside and vector_ok, load A's float4 at row bm + a_r, column k0 + a_c
        //         and B's at row k0 + b_r, column bn + b_c with reinterpret_cast<const float4 *>;
        //         otherwise build the float4s element by element with zero fill.
        // TODO 2: store A's four values transposed, As[a_c + i][a_r], and B's float4 at Bs[b_r][b_c].
        //         Barrier.
        // TODO 3: for each k: two float4 loads from As[k][row0..row0+7], two from Bs[k][col0..col0+7],
        //         the 64 multiply-adds. Barrier.
    }
    // TODO 4: write C = alpha * acc + beta * C (float4 where aligned and inside, else per element).
}

void sgemm_vectorized(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                      cudaStream_t stream) {
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    sgemm_vectorized_kernel<<<grid, THREADS, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
