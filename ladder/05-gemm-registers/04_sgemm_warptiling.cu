// Session 05, rung 7: warp tiles and double-buffered shared memory.
//
// The block tile grows to 128 x 128 with K in steps of 16, and its 256 threads are organised in
// three levels: 8 warps in a 2 x 4 grid, each owning a 64 x 32 warp tile; inside a warp, 32 lanes
// in an 8 x 4 grid; each lane computes 8 x 8 results as four 4 x 4 quarters that sit 32 rows and
// 16 columns apart. That spacing makes the lanes of a warp read neighbouring 16-byte pieces of
// shared memory, so no load waits on a bank, and every 16-byte load feeds 16 multiply-adds.
//
// Double buffering: two shared-memory buffers. While the block computes on one, the next K-tile
// is on its way (load_tile, given in warptiling_given.cuh): B's straight into the other buffer with cp.async, A's
// into registers. After the computation, store_tile puts A, transposed, into the other buffer.
// One barrier per tile is then enough.
#include "exercises.h"

#include "warptiling_given.cuh"

// Registers -> shared memory: A transposed (As[k][m]), B (when it came through registers) as it is;
// then wait for this thread's cp.async copies, before the barrier that publishes the tile.
__device__ __forceinline__ void store_tile(const Prefetch &p, float *As, float *Bs) {
    const int t = threadIdx.x;
    const int a_row = t / (BK / 4), a_col = (t % (BK / 4)) * 4;
    const int b_row = t / (BN / 4), b_col = (t % (BN / 4)) * 4;
    // TODO 1: for h < LOADS: the four values of p.a[h] go to As[(a_col + i) * A_STRIDE + a_row + A_ROW_STEP * h]
    //         (i = 0..3); if !p.b_async, p.b[h] goes as one float4 to Bs[(b_row + B_ROW_STEP * h) * BN + b_col].
    //         Then: asm volatile("cp.async.wait_all;\n" ::);
}

__global__ void __launch_bounds__(THREADS, MIN_BLOCKS)
sgemm_warptiling_kernel(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C) {
    __shared__ __align__(16) float As[2][BK * A_STRIDE];
    __shared__ __align__(16) float Bs[2][BK * BN];
    const int bm = blockIdx.y * BM, bn = blockIdx.x * BN;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    // Warps 0-3 side by side along N, 4-7 below them; a warp's lanes as 8 rows of 4 (lane / 4 the row).
    const int wm = (warp / 4) * 64, wn = (warp % 4) * 32;  // this warp's corner in the block tile
    const int tr = (lane / 4) * 4, tc = (lane % 4) * 4;    // this lane's corner in each quarter
    const bool vector_ok = K % 4 == 0 && N % 4 == 0;

    float acc[8][8] = {};
    Prefetch p;
    const int tiles = (K + BK - 1) / BK;
    // TODO 2: load tile 0 (load_tile with k0 = 0 and Bs[0]), store it into buffer 0, barrier.
    for (int t = 0; t < tiles; t++) {
        // TODO 3: if there is a next tile, start loading it (into p and the other B buffer).
        // TODO 4: for k = 0..BK-1 on buffer t % 2: a[0..3] from As[k * A_STRIDE + wm + tr ..], a[4..7]
        //         from 32 rows further; b[0..3] from Bs[k * BN + wn + tc ..], b[4..7] from 16 columns
        //         further (float4 loads); acc[i][j] += a[i] * b[j].
        // TODO 5: store the next tile into the other buffer; one barrier.
    }
    // TODO 6: row i of acc is row wm + tr + i (i < 4) or wm + 32 + tr + (i - 4) of the block tile,
    //         column j likewise with 16 for 32; write C = alpha * acc + beta * C with guards.
    //         Why: a lane's four 4 x 4 quarters sit 32 rows and 16 columns apart, as the k loop loaded them.
}

void sgemm_warptiling(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                      cudaStream_t stream) {
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    sgemm_warptiling_kernel<<<grid, THREADS, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
