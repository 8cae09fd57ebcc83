// Session 06, exercise 1 (solution): BF16 GEMM on the tensor cores through nvcuda::wmma.
//
// A block of 4 warps computes a 64 x 64 tile of C; each warp a 32 x 32 corner of it, as 2 x 2
// accumulator fragments of 16 x 16 floats. For every 32-wide slice of K the block copies a 64 x 32
// tile of A and a 32 x 64 tile of B into shared memory (zeros outside the matrices), then each
// warp runs 2 k-steps of 2 x 2 fragment products. The result leaves through a per-warp 16 x 16
// staging square in shared memory, so that only the elements inside C are written.
#include <cuda_bf16.h>
#include <mma.h>

#include "exercises.h"

using namespace nvcuda;

#define BM 64                        // block tile: rows of C
#define BN 64                        // block tile: columns of C
#define BK 32                        // block tile: the slice of K staged per step
#define WM 32                        // warp tile
#define WN 32
#define WARPS_N (BN / WN)
#define THREADS (32 * (BM / WM) * (BN / WN))
#define FRAG 16                      // wmma shape 16 x 16 x 16
// Leading dimensions, padded by 8 elements (16 bytes): wmma wants multiples of 8 for 16-bit types,
// and the padding moves consecutive rows to different banks.
#define A_LD (BK + 8)
#define B_LD (BN + 8)

__global__ void __launch_bounds__(THREADS)
gemm_bf16_wmma_kernel(const __nv_bfloat16 *A, const __nv_bfloat16 *B, float *C, int M, int N, int K) {
    // wmma loads and stores need 256-bit aligned pointers.
    __shared__ __align__(32) __nv_bfloat16 As[BM][A_LD];
    __shared__ __align__(32) __nv_bfloat16 Bs[BK][B_LD];
    __shared__ __align__(32) float Cs[THREADS / 32][FRAG][FRAG];

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int warp_m = warp / WARPS_N, warp_n = warp % WARPS_N;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    const __nv_bfloat16 zero = __float2bfloat16(0.0f);

    wmma::fragment<wmma::accumulator, FRAG, FRAG, FRAG, float> acc[WM / FRAG][WN / FRAG];
#pragma unroll
    for (int i = 0; i < WM / FRAG; i++)
#pragma unroll
        for (int j = 0; j < WN / FRAG; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    for (int k0 = 0; k0 < K; k0 += BK) {
        // Consecutive threads take consecutive columns: coalesced reads of a row of A and of B.
        for (int i = threadIdx.x; i < BM * BK; i += THREADS) {
            int r = i / BK, c = i % BK, gr = m0 + r, gc = k0 + c;
            As[r][c] = (gr < M && gc < K) ? A[(size_t)gr * K + gc] : zero;
        }
        for (int i = threadIdx.x; i < BK * BN; i += THREADS) {
            int r = i / BN, c = i % BN, gr = k0 + r, gc = n0 + c;
            Bs[r][c] = (gr < K && gc < N) ? B[(size_t)gr * N + gc] : zero;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < BK; kk += FRAG) {
            wmma::fragment<wmma::matrix_a, FRAG, FRAG, FRAG, __nv_bfloat16, wmma::row_major> a[WM / FRAG];
            wmma::fragment<wmma::matrix_b, FRAG, FRAG, FRAG, __nv_bfloat16, wmma::row_major> b[WN / FRAG];
#pragma unroll
            for (int i = 0; i < WM / FRAG; i++) wmma::load_matrix_sync(a[i], &As[warp_m * WM + i * FRAG][kk], A_LD);
#pragma unroll
            for (int j = 0; j < WN / FRAG; j++) wmma::load_matrix_sync(b[j], &Bs[kk][warp_n * WN + j * FRAG], B_LD);
#pragma unroll
            for (int i = 0; i < WM / FRAG; i++)
#pragma unroll
                for (int j = 0; j < WN / FRAG; j++) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
        }
        __syncthreads();  // everyone is done with the tiles before the next slice overwrites them
    }

    // A fragment's element-to-lane mapping is unspecified, so go through shared memory: store the
    // whole 16 x 16 square, then let each lane copy the elements that fall inside C.
#pragma unroll
    for (int i = 0; i < WM / FRAG; i++)
#pragma unroll
        for (int j = 0; j < WN / FRAG; j++) {
            wmma::store_matrix_sync(&Cs[warp][0][0], acc[i][j], FRAG, wmma::mem_row_major);
            __syncwarp();
            for (int e = lane; e < FRAG * FRAG; e += 32) {
                int r = e / FRAG, c = e % FRAG;
                int gr = m0 + warp_m * WM + i * FRAG + r, gc = n0 + warp_n * WN + j * FRAG + c;
                if (gr < M && gc < N) C[(size_t)gr * N + gc] = Cs[warp][r][c];
            }
            __syncwarp();  // the copy is done before the next fragment overwrites the square
        }
}

void gemm_bf16_wmma(const uint16_t *A, const uint16_t *B, float *C, int M, int N, int K, cudaStream_t stream) {
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    gemm_bf16_wmma_kernel<<<grid, THREADS, 0, stream>>>(reinterpret_cast<const __nv_bfloat16 *>(A),
                                                        reinterpret_cast<const __nv_bfloat16 *>(B), C, M, N, K);
}
