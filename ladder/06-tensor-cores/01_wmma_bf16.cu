// Session 06, exercise 1: BF16 GEMM on the tensor cores through nvcuda::wmma.
//
// A tensor core multiplies small matrices in one instruction. The wmma API hands a warp opaque
// "fragments": a 16 x 16 piece of A, a 16 x 16 piece of B, a 16 x 16 accumulator of floats,
// spread over the 32 lanes in a layout you are not told. The whole warp loads a fragment
// together (load_matrix_sync), multiplies together (mma_sync: acc += a * b, 16 x 16 x 16 in BF16
// with FP32 sums) and stores together (store_matrix_sync).
//
// The plan: a block of 4 warps computes a 64 x 64 tile of C; each warp a 32 x 32 corner of it,
// as 2 x 2 accumulator fragments. For every 32-wide slice of K the block copies a 64 x 32 tile of
// A and a 32 x 64 tile of B into shared memory, with zeros outside the matrices, so that the
// fragments always read whole 16 x 16 squares. At the end each warp stores one accumulator at a
// time into a 16 x 16 staging square in shared memory and copies the elements that lie inside C.
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
    const int warp_m = warp / WARPS_N, warp_n = warp % WARPS_N;  // this warp's corner of the block tile
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;        // the block tile's first row and column
    const __nv_bfloat16 zero = __float2bfloat16(0.0f);

    wmma::fragment<wmma::accumulator, FRAG, FRAG, FRAG, float> acc[WM / FRAG][WN / FRAG];
#pragma unroll
    for (int i = 0; i < WM / FRAG; i++)
#pragma unroll
        for (int j = 0; j < WN / FRAG; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    for (int k0 = 0; k0 < K; k0 += BK) {
        // TODO 1: copy the tiles. All THREADS threads share the BM * BK elements of As: element i
        //         is row i / BK, column i % BK, from A[(m0 + row) * K + k0 + col] (a size_t
        //         offset), or `zero` when that row is >= M or that column is >= K. Likewise the
        //         BK * BN elements of Bs from B[(k0 + row) * N + n0 + col]. Then a barrier.
        //         Why i % BK for the column: consecutive threads read consecutive elements of a row.

        // TODO 2: for kk = 0 and 16: load the warp's 2 A fragments (row_major, from
        //         &As[warp_m * WM + i * FRAG][kk], leading dimension A_LD) and 2 B fragments
        //         (row_major, from &Bs[kk][warp_n * WN + j * FRAG], B_LD), then
        //         wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]) for the 2 x 2 pairs.
        //         Declare them as
        //           wmma::fragment<wmma::matrix_a, FRAG, FRAG, FRAG, __nv_bfloat16, wmma::row_major> a[WM / FRAG];
        //           wmma::fragment<wmma::matrix_b, FRAG, FRAG, FRAG, __nv_bfloat16, wmma::row_major> b[WN / FRAG];
        //         Finish with a barrier, so that no warp overwrites the tiles while another still reads.
    }

    // TODO 3: for each accumulator (i, j): wmma::store_matrix_sync(&Cs[warp][0][0], acc[i][j], FRAG,
    //         wmma::mem_row_major); __syncwarp(); each lane copies elements e = lane, lane + 32, ...
    //         of the 256 (row e / 16, column e % 16) to C at row m0 + warp_m * WM + i * FRAG + row,
    //         column n0 + warp_n * WN + j * FRAG + column, when both are inside C; __syncwarp()
    //         again before the next fragment reuses the square.
}

void gemm_bf16_wmma(const uint16_t *A, const uint16_t *B, float *C, int M, int N, int K, cudaStream_t stream) {
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    gemm_bf16_wmma_kernel<<<grid, THREADS, 0, stream>>>(reinterpret_cast<const __nv_bfloat16 *>(A),
                                                        reinterpret_cast<const __nv_bfloat16 *>(B), C, M, N, K);
}
