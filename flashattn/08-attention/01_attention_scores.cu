// Session 08, exercise 1: the score matrix S = scale * Q K^T, written to memory.
//
// This is a matrix product per head, Q [sq][d] times K^T [d][skv], done as in session 06: a block
// of 4 warps computes a 64 x 64 tile of S (64 query rows, 64 keys), each warp a 32 x 32 corner as
// 2 x 2 WMMA fragments, the head dimension staged through shared memory 32 at a time (zeros past
// the ends). K is stored [skv][d], row-major: read as a column-major d x skv matrix it IS K^T, so
// the B operand needs no transpose, only wmma::col_major.
//
// The tile leaves through shared memory: the fragments land in a 64 x 64 float square, then the
// whole block writes it row by row (consecutive threads, consecutive keys: coalesced), scaling
// each score, or writing -infinity where the causal mask hides the key. A tile whose keys no row
// can see skips the products and writes only -infinity. Writing S is what this kernel costs:
// 4 bytes per score, 64 MiB per head at 4096 tokens, against 2 MiB for Q and K together.
#include <cuda_bf16.h>
#include <mma.h>

#include "attention_given.cuh"
#include "exercises.h"

using namespace nvcuda;

#define BQ 64                        // query rows per block
#define BKEY 64                      // keys per block
#define BD 32                        // slice of the head dimension staged per step
#define WQ 32                        // warp tile: rows
#define WKEY 32                      // warp tile: keys
#define WARPS_KEY (BKEY / WKEY)
#define THREADS (32 * (BQ / WQ) * (BKEY / WKEY))
#define FRAG 16                      // wmma shape 16 x 16 x 16
// Leading dimensions padded (8 BF16 = 16 bytes, 4 floats): multiples wmma accepts, and neighbouring
// rows start in different banks.
#define QK_LD (BD + 8)
#define S_LD (BKEY + 4)

__global__ void __launch_bounds__(THREADS)
attention_scores_kernel(const __nv_bfloat16 *q, const __nv_bfloat16 *k, float *scores, int sq, int skv, int d,
                        float scale, int causal) {
    // wmma loads and stores need 256-bit aligned pointers.
    __shared__ __align__(32) __nv_bfloat16 Qs[BQ][QK_LD];
    __shared__ __align__(32) __nv_bfloat16 Ks[BKEY][QK_LD];
    __shared__ __align__(32) float Ss[BQ][S_LD];

    const long head = blockIdx.z;  // batch * heads + h: the heads of all batches, one after another
    const int i0 = blockIdx.y * BQ, j0 = blockIdx.x * BKEY;
    q += head * sq * d;
    k += head * skv * d;
    scores += head * sq * skv;

    const int warp = threadIdx.x / 32;
    const int warp_q = warp / WARPS_KEY, warp_key = warp % WARPS_KEY;
    const __nv_bfloat16 zero = __float2bfloat16(0.0f);

    // The last row of the tile sees the most keys; if it sees none of this tile's, no row does.
    const int last_row = min(i0 + BQ, sq) - 1;
    const bool all_hidden = j0 >= visible_keys(last_row, sq, skv, causal);

    if (!all_hidden) {
        wmma::fragment<wmma::accumulator, FRAG, FRAG, FRAG, float> acc[WQ / FRAG][WKEY / FRAG];
#pragma unroll
        for (int a = 0; a < WQ / FRAG; a++)
#pragma unroll
            for (int b = 0; b < WKEY / FRAG; b++) wmma::fill_fragment(acc[a][b], 0.0f);

        for (int d0 = 0; d0 < d; d0 += BD) {
            // TODO 1: stage this slice of the head dimension in shared memory. Consecutive threads take
            //         consecutive elements (coalesced): for e = threadIdx.x; e < BQ * BD; e += THREADS,
            //         r = e / BD, c = e % BD: Qs[r][c] = q[(i0 + r) * d + d0 + c], or `zero` when the row
            //         i0 + r >= sq or the column d0 + c >= d. The same for Ks[r][c] from key j0 + r of k
            //         (zero when j0 + r >= skv or d0 + c >= d). Zeros add nothing to a dot product.
            __syncthreads();
            // TODO 2: for kk = 0, 16 (#pragma unroll): load the warp's 2 fragments of Q (matrix_a,
            //         row_major) from &Qs[warp_q * WQ + x * FRAG][kk], and its 2 fragments of K^T
            //         (matrix_b, col_major: element (kk + t, n) of K^T is Ks[n][kk + t]) from
            //         &Ks[warp_key * WKEY + y * FRAG][kk], both with leading dimension QK_LD; then
            //         wmma::mma_sync(acc[x][y], a[x], b[y], acc[x][y]) for the 2 x 2 pairs.
            __syncthreads();  // every warp is done with the slice before the next one overwrites it
        }
#pragma unroll
        for (int x = 0; x < WQ / FRAG; x++)
#pragma unroll
            for (int y = 0; y < WKEY / FRAG; y++)
                wmma::store_matrix_sync(&Ss[warp_q * WQ + x * FRAG][warp_key * WKEY + y * FRAG], acc[x][y], S_LD,
                                        wmma::mem_row_major);
        __syncthreads();
    }

    // The tile to memory, row by row: a warp writes 32 consecutive scores of one row.
    // TODO 3: for e = threadIdx.x; e < BQ * BKEY; e += THREADS: r = e / BKEY, c = e % BKEY, row
    //         i = i0 + r, key j = j0 + c; skip i >= sq or j >= skv. Write scores[i * skv + j] =
    //         scale * Ss[r][c] if j < visible_keys(i, sq, skv, causal), else -INFINITY. (When the tile
    //         is all_hidden, Ss was never written, and no element reads it.) Use long for i * skv.
}

void attention_scores(const uint16_t *q, const uint16_t *k, float *scores, int batch, int heads, int sq, int skv,
                      int head_dim, float scale, int causal, cudaStream_t stream) {
    if (batch <= 0 || heads <= 0 || sq <= 0 || skv <= 0 || head_dim <= 0) return;
    const dim3 grid((skv + BKEY - 1) / BKEY, (sq + BQ - 1) / BQ, batch * heads);
    attention_scores_kernel<<<grid, THREADS, 0, stream>>>(reinterpret_cast<const __nv_bfloat16 *>(q),
                                                          reinterpret_cast<const __nv_bfloat16 *>(k), scores, sq,
                                                          skv, head_dim, scale, causal);
}
