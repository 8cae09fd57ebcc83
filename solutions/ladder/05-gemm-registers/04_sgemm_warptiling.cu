// Session 05, rung 7 (solution): warp tiles and double-buffered shared memory.
//
// Block tile 128 x 128, K in steps of 16, 256 threads = 8 warps in a 2 x 4 grid, each warp owning a
// 64 x 32 piece of the block tile. A warp's 32 lanes form an 8 x 4 grid; each lane computes 8 x 8
// results as four 4 x 4 quarters, 32 rows and 16 columns apart, so that the lanes of a warp read
// neighbouring 16-byte pieces of shared memory (no bank conflicts) and every LDS.128 feeds 16 FMAs.
//
// While the block computes on one shared-memory buffer, the next K-tile is already on its way:
// B's straight into the other buffer with cp.async (no registers, no store instructions), A's
// into registers, to be stored transposed after the computation. One barrier per tile. (Loading B
// through registers as well ran at 88% of cuBLAS on the H100, cp.async at 90.5%: make bench.)
//
// Edges: tiles that reach past M, N or K (or rows that are not 16-byte aligned, K or N not a
// multiple of 4) are loaded element by element with zero fill; the rest with float4 loads.
#include "exercises.h"

#include "warptiling_given.cuh"

// Registers -> shared memory: A transposed (As[k][m]), B (when it came through registers) as it is;
// then wait for this thread's cp.async copies, before the barrier that publishes the tile.
__device__ __forceinline__ void store_tile(const Prefetch &p, float *As, float *Bs) {
    const int t = threadIdx.x;
    const int a_row = t / (BK / 4), a_col = (t % (BK / 4)) * 4;
    const int b_row = t / (BN / 4), b_col = (t % (BN / 4)) * 4;
#pragma unroll
    for (int h = 0; h < LOADS; h++) {
        const int m = a_row + A_ROW_STEP * h;
        As[(a_col + 0) * A_STRIDE + m] = p.a[h].x;
        As[(a_col + 1) * A_STRIDE + m] = p.a[h].y;
        As[(a_col + 2) * A_STRIDE + m] = p.a[h].z;
        As[(a_col + 3) * A_STRIDE + m] = p.a[h].w;
        if (!p.b_async) *reinterpret_cast<float4 *>(Bs + (b_row + B_ROW_STEP * h) * BN + b_col) = p.b[h];
    }
    asm volatile("cp.async.wait_all;\n" ::);
}

__global__ void __launch_bounds__(THREADS, MIN_BLOCKS)
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
    load_tile(p, A, B, M, N, K, bm, bn, 0, vector_ok, Bs[0]);
    store_tile(p, As[0], Bs[0]);
    __syncthreads();

    for (int t = 0; t < tiles; t++) {
        const int cur = t % 2;
        if (t + 1 < tiles) load_tile(p, A, B, M, N, K, bm, bn, (t + 1) * BK, vector_ok, Bs[cur ^ 1]);
        const float *as = As[cur], *bs = Bs[cur];
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float a[8], b[8];
            const float4 a0 = *reinterpret_cast<const float4 *>(as + k * A_STRIDE + wm + tr);
            const float4 a1 = *reinterpret_cast<const float4 *>(as + k * A_STRIDE + wm + 32 + tr);
            const float4 b0 = *reinterpret_cast<const float4 *>(bs + k * BN + wn + tc);
            const float4 b1 = *reinterpret_cast<const float4 *>(bs + k * BN + wn + 16 + tc);
            a[0] = a0.x; a[1] = a0.y; a[2] = a0.z; a[3] = a0.w; a[4] = a1.x; a[5] = a1.y; a[6] = a1.z; a[7] = a1.w;
            b[0] = b0.x; b[1] = b0.y; b[2] = b0.z; b[3] = b0.w; b[4] = b1.x; b[5] = b1.y; b[6] = b1.z; b[7] = b1.w;
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) acc[i][j] += a[i] * b[j];
        }
        if (t + 1 < tiles) store_tile(p, As[cur ^ 1], Bs[cur ^ 1]);
        __syncthreads();
    }

    // Epilogue: row i of acc is row wm + tr + i (i < 4) or wm + 32 + tr + i - 4; column j likewise.
#pragma unroll
    for (int i = 0; i < 8; i++) {
        const int row = bm + wm + (i < 4 ? tr + i : 32 + tr + i - 4);
        if (row >= M) continue;
#pragma unroll
        for (int half = 0; half < 2; half++) {
            const int col = bn + wn + half * 16 + tc;
            float *c = C + (long)row * N + col;
            const float *v = &acc[i][half * 4];
            if (vector_ok && col + 3 < N) {
                float4 old = *reinterpret_cast<float4 *>(c);
                old.x = alpha * v[0] + beta * old.x;
                old.y = alpha * v[1] + beta * old.y;
                old.z = alpha * v[2] + beta * old.z;
                old.w = alpha * v[3] + beta * old.w;
                *reinterpret_cast<float4 *>(c) = old;
            } else {
#pragma unroll
                for (int j = 0; j < 4; j++)
                    if (col + j < N) c[j] = alpha * v[j] + beta * c[j];
            }
        }
    }
}

void sgemm_warptiling(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                      cudaStream_t stream) {
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    sgemm_warptiling_kernel<<<grid, THREADS, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
