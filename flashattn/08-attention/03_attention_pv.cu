// Session 08, exercise 3: O = P V, on the tensor cores.
//
// Another matrix product per head, P [sq][skv] times V [skv][d], with the same block shape as
// exercise 01: 4 warps, a 64 x 64 tile of O (64 query rows, 64 output columns), 2 x 2 fragments a
// warp. The keys are the reduction dimension here, staged 32 at a time. P arrives in float32 and
// the tensor cores take BF16: each probability is rounded to BF16 on its way into shared memory
// (2^-9 relative, as FlashAttention does too). V is BF16 already.
//
// For head dim 128 the two column blocks of a row tile are neighbours in the grid (blockIdx.x
// varies fastest): they run side by side and the second read of their P tile comes from the L2.
//
// With the causal mask the tile's last row sees the most keys, and every key after those has
// probability 0 in every row of the tile: the loop stops there. For sq = skv that skips half of P.
#include <cuda_bf16.h>
#include <mma.h>

#include "attention_given.cuh"
#include "exercises.h"

using namespace nvcuda;

#define BQ 64                        // query rows per block
#define BDIM 64                      // output columns (head-dim elements) per block
#define BKEY 32                      // keys staged per step
#define WQ 32                        // warp tile
#define WDIM 32
#define WARPS_DIM (BDIM / WDIM)
#define THREADS (32 * (BQ / WQ) * (BDIM / WDIM))
#define FRAG 16
#define P_LD (BKEY + 8)
#define V_LD (BDIM + 8)
#define O_LD (BDIM + 4)

__global__ void __launch_bounds__(THREADS)
attention_pv_kernel(const float *probs, const __nv_bfloat16 *v, float *out, int sq, int skv, int d, int causal) {
    __shared__ __align__(32) __nv_bfloat16 Ps[BQ][P_LD];
    __shared__ __align__(32) __nv_bfloat16 Vs[BKEY][V_LD];
    __shared__ __align__(32) float Os[BQ][O_LD];

    const long head = blockIdx.z;
    const int i0 = blockIdx.y * BQ, c0 = blockIdx.x * BDIM;
    probs += head * sq * skv;
    v += head * skv * d;
    out += head * sq * d;

    const int warp = threadIdx.x / 32;
    const int warp_q = warp / WARPS_DIM, warp_dim = warp % WARPS_DIM;
    const __nv_bfloat16 zero = __float2bfloat16(0.0f);
    // Keys past key_end have probability 0 in every row of the tile.
    // TODO 1: key_end = the keys the tile's last row (min(i0 + BQ, sq) - 1) sees: visible_keys() of it.
    //         Without the mask that is skv; with it, the loop below skips the zeros of P.
    const int key_end = skv;

    wmma::fragment<wmma::accumulator, FRAG, FRAG, FRAG, float> acc[WQ / FRAG][WDIM / FRAG];
#pragma unroll
    for (int a = 0; a < WQ / FRAG; a++)
#pragma unroll
        for (int b = 0; b < WDIM / FRAG; b++) wmma::fill_fragment(acc[a][b], 0.0f);

    for (int j0 = 0; j0 < key_end; j0 += BKEY) {
        // TODO 2: stage the slice of keys j0 .. j0 + BKEY - 1. Ps[r][c] = P of row i0 + r, key j0 + c,
        //         rounded with __float2bfloat16 (P is float32 in memory; the tensor cores take BF16);
        //         Vs[r][c] = v[(j0 + r) * d + c0 + c]. `zero` outside: rows >= sq, keys >= key_end,
        //         columns >= d. Consecutive threads, consecutive columns (coalesced), as in 01.
        __syncthreads();
        // TODO 3: for kk = 0, 16 (#pragma unroll): 2 fragments of P (matrix_a, row_major) from
        //         &Ps[warp_q * WQ + x * FRAG][kk] with P_LD, 2 of V (matrix_b, row_major) from
        //         &Vs[kk][warp_dim * WDIM + y * FRAG] with V_LD, and the 2 x 2 mma_sync.
        __syncthreads();
    }

#pragma unroll
    for (int x = 0; x < WQ / FRAG; x++)
#pragma unroll
        for (int y = 0; y < WDIM / FRAG; y++)
            wmma::store_matrix_sync(&Os[warp_q * WQ + x * FRAG][warp_dim * WDIM + y * FRAG], acc[x][y], O_LD,
                                    wmma::mem_row_major);
    __syncthreads();
    for (int e = threadIdx.x; e < BQ * BDIM; e += THREADS) {
        const int r = e / BDIM, c = e % BDIM, i = i0 + r, dc = c0 + c;
        if (i < sq && dc < d) out[(long)i * d + dc] = Os[r][c];
    }
}

void attention_pv(const float *probs, const uint16_t *v, float *out, int batch, int heads, int sq, int skv,
                  int head_dim, int causal, cudaStream_t stream) {
    if (batch <= 0 || heads <= 0 || sq <= 0 || skv <= 0 || head_dim <= 0) return;
    const dim3 grid((head_dim + BDIM - 1) / BDIM, (sq + BQ - 1) / BQ, batch * heads);
    attention_pv_kernel<<<grid, THREADS, 0, stream>>>(probs, reinterpret_cast<const __nv_bfloat16 *>(v), out, sq,
                                                      skv, head_dim, causal);
}
