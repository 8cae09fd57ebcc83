// Session 09, exercise 1: FlashAttention forward with scalar FP32 arithmetic.
//
// One block owns BM = 32 query rows of one (batch, head); 8 threads share each row (256 threads).
// The block walks the keys in tiles of BN = 16, each tile of K and V widened to float in shared
// memory. For every tile, the 8 threads of a row:
//   1. compute the row's 16 scores (2 each) from Q and K in shared memory;
//   2. update the row's running max m and sum l (shuffles among the 8), rescale their part of the
//      output by exp(m_old - m_new);
//   3. publish the row's 16 probabilities in shared memory and add P V to their output columns.
// The score matrix never leaves the block: one BM x BN tile at a time, in shared memory.
#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>

#include "exercises.h"
#include "flash_given.cuh"

#define BM 32                  // query rows per block
#define BN 16                  // keys per tile
#define LANES_PER_ROW 8        // threads that share one query row
#define THREADS (BM * LANES_PER_ROW)
#define KEYS_PER_LANE (BN / LANES_PER_ROW)

// Rows [row0, row0 + ROWS) of a (batch, head) slice, widened to float; rows past `valid` are zeros.
// `pitch` is the row length in shared memory (padded rows: see the kernel).
template <int HD>
__device__ void load_rows_f32(float *dst, int pitch, const __nv_bfloat16 *src, int row0, int rows, int valid) {
    for (int i = threadIdx.x; i < rows * HD; i += THREADS) {
        int r = i / HD, c = i % HD;
        dst[r * pitch + c] = row0 + r < valid ? __bfloat162float(src[(size_t)(row0 + r) * HD + c]) : 0.0f;
    }
}

template <int HD, bool CAUSAL>
__global__ void __launch_bounds__(THREADS)
flash_forward_scalar_kernel(const __nv_bfloat16 *__restrict__ q, const __nv_bfloat16 *__restrict__ k,
                            const __nv_bfloat16 *__restrict__ v, __nv_bfloat16 *__restrict__ o,
                            float *__restrict__ lse, int sq, int skv, float scale) {
    // Q, K and P rows padded by one float: a warp holds 4 rows, and their threads read 4 (Q, P) or
    // 8 (K) different rows at one column; the padding puts those in different banks.
    __shared__ float sQ[BM][HD + 1];
    __shared__ float sK[BN][HD + 1];
    __shared__ float sV[BN][HD];
    __shared__ float sP[BM][BN + 1];

    const int row = threadIdx.x / LANES_PER_ROW, lane = threadIdx.x % LANES_PER_ROW;
    const int m0 = blockIdx.x * BM, i = m0 + row;  // this thread's query row
    const int offset = skv - sq;                   // causal: row i sees keys j <= i + offset
    const size_t bh = blockIdx.y;
    const __nv_bfloat16 *qh = q + bh * sq * HD, *kh = k + bh * skv * HD, *vh = v + bh * skv * HD;

    int n_end = skv;  // keys any row of this block can see
    if (CAUSAL) n_end = min(skv, max(0, m0 + BM + offset));

    load_rows_f32<HD>(&sQ[0][0], HD + 1, qh, m0, BM, sq);

    // This thread's share of the output row: columns lane, lane + 8, ...
    float acc[HD / LANES_PER_ROW];
#pragma unroll
    for (int d = 0; d < HD / LANES_PER_ROW; d++) acc[d] = 0.0f;
    float m = -INFINITY, l = 0.0f;  // running max and sum of the row (the same in all 8 threads)

    for (int n0 = 0; n0 < n_end; n0 += BN) {
        __syncthreads();  // the previous tile is no longer read
        load_rows_f32<HD>(&sK[0][0], HD + 1, kh, n0, BN, skv);
        load_rows_f32<HD>(&sV[0][0], HD, vh, n0, BN, skv);
        __syncthreads();

        // TODO 1, the scores: for c = 0 .. KEYS_PER_LANE-1 this thread owns key n0 + kr, kr = lane + 8c.
        //   s[c] = scale * (sQ[row] . sK[kr]) over HD columns, or -INFINITY when the key is past skv or,
        //   with CAUSAL, when key > i + offset. Keep the tile's largest score.
        //   Why lane + 8c: at each c a row's 8 threads take 8 neighbouring keys, whose padded sK rows sit in
        //   8 different banks.
        // TODO 2, the online softmax: the 8 threads of a row agree on the tile max (__shfl_xor_sync with
        //   1, 2, 4: a row's 8 threads are 8 consecutive lanes, so xor with 1, 2, 4 stays among them);
        //   m_new = max(m, tile max); rescale = exp(m - m_new); p = exp(s - m_new), written to
        //   sP[row][kr]; l = l * rescale + (sum of the row's p, again over the 8 threads); m = m_new.
        //   A row that has seen only masked keys has m_new = -INFINITY: subtract 0 instead, or
        //   exp(-inf - -inf) is a NaN. __syncwarp() before reading the other threads' p.
        // TODO 3, O = O * rescale + P V on this thread's columns lane + 8d: acc[d] = acc[d] * rescale +
        //   sum over kr of sP[row][kr] * sV[kr][lane + 8d].
    }

    if (i >= sq) return;
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;  // a row that sees no key gets zeros
    __nv_bfloat16 *orow = o + (bh * sq + i) * HD;
#pragma unroll
    for (int d = 0; d < HD / LANES_PER_ROW; d++) orow[lane + LANES_PER_ROW * d] = __float2bfloat16(acc[d] * inv);
    if (lane == 0) lse[bh * sq + i] = l > 0.0f ? m + logf(l) : -INFINITY;
}

template <int HD, bool CAUSAL>
static void launch(const uint16_t *q, const uint16_t *k, const uint16_t *v, uint16_t *o, float *lse,
                   int batch, int heads, int sq, int skv, cudaStream_t stream) {
    dim3 grid((sq + BM - 1) / BM, batch * heads);
    flash_forward_scalar_kernel<HD, CAUSAL><<<grid, THREADS, 0, stream>>>(
        (const __nv_bfloat16 *)q, (const __nv_bfloat16 *)k, (const __nv_bfloat16 *)v, (__nv_bfloat16 *)o, lse,
        sq, skv, 1.0f / sqrtf((float)HD));
}

void flash_forward_scalar(const uint16_t *q, const uint16_t *k, const uint16_t *v, uint16_t *o, float *lse,
                          int batch, int heads, int sq, int skv, int head_dim, int causal, cudaStream_t stream) {
    if (!flash_shape_supported(head_dim, "flash_forward_scalar")) return;
    FLASH_DISPATCH(head_dim, causal, launch, q, k, v, o, lse, batch, heads, sq, skv, stream);
}
