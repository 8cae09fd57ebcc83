// Session 05, rung 6 (solution): 16-byte loads and a transposed A tile.
//
// Rung 5's arithmetic, with the memory instructions widened. From global memory each thread
// fetches one float4 of A (4 consecutive k of one row) and one of B (4 consecutive columns). A is
// stored transposed, As[k][m], so that the 8 values a thread needs for one k are contiguous and
// come in as two 16-byte shared-memory loads, like B's. Tiles that reach past an edge, or rows
// that are not 16-byte aligned (K or N not a multiple of 4), are loaded element by element.
#include "exercises.h"

#define BM 128
#define BN 128
#define BK 8
#define TM 8
#define TN 8
#define THREADS (BM * BN / (TM * TN))

__global__ void __launch_bounds__(THREADS)
sgemm_vectorized_kernel(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C) {
    __shared__ __align__(16) float As[BK][BM];
    __shared__ __align__(16) float Bs[BK][BN];
    const int bm = blockIdx.y * BM, bn = blockIdx.x * BN;
    const int t = threadIdx.x;
    const int row0 = (t / (BN / TN)) * TM, col0 = (t % (BN / TN)) * TN;
    const int a_r = t / (BK / 4), a_c = (t % (BK / 4)) * 4;  // one float4 of the 128 x 8 A tile
    const int b_r = t / (BN / 4), b_c = (t % (BN / 4)) * 4;  // one float4 of the 8 x 128 B tile
    const bool vector_ok = K % 4 == 0 && N % 4 == 0;
    float acc[TM][TN] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
        const bool inside = vector_ok && bm + BM <= M && bn + BN <= N && k0 + BK <= K;
        float4 a, b;
        if (inside) {
            a = *reinterpret_cast<const float4 *>(A + (long)(bm + a_r) * K + k0 + a_c);
            b = *reinterpret_cast<const float4 *>(B + (long)(k0 + b_r) * N + bn + b_c);
        } else {
            float va[4], vb[4];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                va[i] = (bm + a_r < M && k0 + a_c + i < K) ? A[(long)(bm + a_r) * K + k0 + a_c + i] : 0.0f;
                vb[i] = (k0 + b_r < K && bn + b_c + i < N) ? B[(long)(k0 + b_r) * N + bn + b_c + i] : 0.0f;
            }
            a = make_float4(va[0], va[1], va[2], va[3]);
            b = make_float4(vb[0], vb[1], vb[2], vb[3]);
        }
        As[a_c + 0][a_r] = a.x;
        As[a_c + 1][a_r] = a.y;
        As[a_c + 2][a_r] = a.z;
        As[a_c + 3][a_r] = a.w;
        *reinterpret_cast<float4 *>(&Bs[b_r][b_c]) = b;
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
            const float4 a0 = *reinterpret_cast<const float4 *>(&As[k][row0]);
            const float4 a1 = *reinterpret_cast<const float4 *>(&As[k][row0 + 4]);
            const float4 b0 = *reinterpret_cast<const float4 *>(&Bs[k][col0]);
            const float4 b1 = *reinterpret_cast<const float4 *>(&Bs[k][col0 + 4]);
            const float av[TM] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
            const float bv[TN] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
            for (int i = 0; i < TM; i++)
#pragma unroll
                for (int j = 0; j < TN; j++) acc[i][j] += av[i] * bv[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < TM; i++) {
        const int r = bm + row0 + i;
        if (r >= M) continue;
#pragma unroll
        for (int j = 0; j < TN; j += 4) {
            const int c = bn + col0 + j;
            float *p = C + (long)r * N + c;
            if (vector_ok && c + 3 < N) {
                float4 old = *reinterpret_cast<float4 *>(p);
                old.x = alpha * acc[i][j] + beta * old.x;
                old.y = alpha * acc[i][j + 1] + beta * old.y;
                old.z = alpha * acc[i][j + 2] + beta * old.z;
                old.w = alpha * acc[i][j + 3] + beta * old.w;
                *reinterpret_cast<float4 *>(p) = old;
            } else {
#pragma unroll
                for (int q = 0; q < 4; q++)
                    if (c + q < N) p[q] = alpha * acc[i][j + q] + beta * p[q];
            }
        }
    }
}

void sgemm_vectorized(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                      cudaStream_t stream) {
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    sgemm_vectorized_kernel<<<grid, THREADS, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
