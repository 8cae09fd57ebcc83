// Session 05, rung 7: warp tiles and double-buffered shared memory.
//
// The block tile grows to 128 x 128 with K in steps of 16, and its 256 threads are organised in
// three levels: 8 warps in a 2 x 4 grid, each owning a 64 x 32 warp tile; inside a warp, 32 lanes
// in an 8 x 4 grid; each lane computes 8 x 8 results as four 4 x 4 quarters that sit 32 rows and
// 16 columns apart. That spacing makes the lanes of a warp read neighbouring 16-byte pieces of
// shared memory, so no load waits on a bank, and every 16-byte load feeds 16 multiply-adds.
//
// Double buffering: two shared-memory buffers. While the block computes on one, the next K-tile
// travels from global memory into registers (load_tile, given below); after the computation it is
// stored into the other buffer (store_tile). One barrier per tile is then enough.
#include "exercises.h"

#define BM 128
#define BN 128
#define BK 16
#define THREADS 256
#define A_STRIDE (BM + 4)  // padded rows of the transposed A tile: the transposing stores spread over banks

struct Prefetch {
    float4 a[2], b[2];
};

// Global -> registers. A: this thread's two float4s are rows a_row and a_row + 64, columns a_col..+3
// of the K-tile; B: rows b_row and b_row + 8, columns b_col..+3 of the N-range.
__device__ __forceinline__ void load_tile(Prefetch &p, const float *A, const float *B, int M, int N, int K, int bm,
                                          int bn, int k0, bool vector_ok) {
    const int t = threadIdx.x;
    const int a_row = t / 4, a_col = (t % 4) * 4;
    const int b_row = t / 32, b_col = (t % 32) * 4;
    const bool inside = vector_ok && bm + BM <= M && bn + BN <= N && k0 + BK <= K;
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const int r = bm + a_row + 64 * h, k = k0 + a_col;
        const int kb = k0 + b_row + 8 * h, c = bn + b_col;
        if (inside) {
            p.a[h] = *reinterpret_cast<const float4 *>(A + (long)r * K + k);
            p.b[h] = *reinterpret_cast<const float4 *>(B + (long)kb * N + c);
        } else {
            float va[4], vb[4];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                va[i] = (r < M && k + i < K) ? A[(long)r * K + k + i] : 0.0f;
                vb[i] = (kb < K && c + i < N) ? B[(long)kb * N + c + i] : 0.0f;
            }
            p.a[h] = make_float4(va[0], va[1], va[2], va[3]);
            p.b[h] = make_float4(vb[0], vb[1], vb[2], vb[3]);
        }
    }
}

// Registers -> shared memory: A transposed (As[k][m]), B as it is (Bs[k][n]).
__device__ __forceinline__ void store_tile(const Prefetch &p, float *As, float *Bs) {
    const int t = threadIdx.x;
    const int a_row = t / 4, a_col = (t % 4) * 4;
    const int b_row = t / 32, b_col = (t % 32) * 4;
    // TODO 1: for h = 0, 1: the four values of p.a[h] go to As[(a_col + i) * A_STRIDE + a_row + 64 * h]
    //         (i = 0..3); p.b[h] goes as one float4 to Bs[(b_row + 8 * h) * BN + b_col].
    (void)p; (void)As; (void)Bs; (void)a_row; (void)a_col; (void)b_row; (void)b_col;
}

__global__ void __launch_bounds__(THREADS, 2)
sgemm_warptiling_kernel(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C) {
    __shared__ __align__(16) float As[2][BK * A_STRIDE];
    __shared__ __align__(16) float Bs[2][BK * BN];
    const int bm = blockIdx.y * BM, bn = blockIdx.x * BN;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int wm = (warp / 4) * 64, wn = (warp % 4) * 32;  // this warp's corner in the block tile
    const int tr = (lane / 4) * 4, tc = (lane % 4) * 4;    // this lane's corner in each quarter
    const bool vector_ok = K % 4 == 0 && N % 4 == 0;

    float acc[8][8] = {};
    Prefetch p;
    const int tiles = (K + BK - 1) / BK;
    // TODO 2: load tile 0 (load_tile with k0 = 0), store it into buffer 0, barrier.
    for (int t = 0; t < tiles; t++) {
        // TODO 3: if there is a next tile, start loading it into p (it arrives while we compute).
        // TODO 4: for k = 0..BK-1 on buffer t % 2: a[0..3] from As[k * A_STRIDE + wm + tr ..], a[4..7]
        //         from 32 rows further; b[0..3] from Bs[k * BN + wn + tc ..], b[4..7] from 16 columns
        //         further (float4 loads); acc[i][j] += a[i] * b[j].
        // TODO 5: store the next tile into the other buffer; one barrier.
    }
    // TODO 6: row i of acc is row wm + tr + i (i < 4) or wm + 32 + tr + (i - 4) of the block tile,
    //         column j likewise with 16 for 32; write C = alpha * acc + beta * C with guards.
    (void)bm; (void)bn; (void)wm; (void)wn; (void)tr; (void)tc; (void)vector_ok; (void)acc; (void)p; (void)tiles;
    (void)As; (void)Bs; (void)M; (void)N; (void)alpha; (void)A; (void)B; (void)beta; (void)C;
}

void sgemm_warptiling(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                      cudaStream_t stream) {
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    sgemm_warptiling_kernel<<<grid, THREADS, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
