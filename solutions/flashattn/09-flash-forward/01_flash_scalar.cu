// Session 09, exercise 1 (solution): FlashAttention forward with scalar FP32 arithmetic.
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

        // 1. scores of keys n0 + lane + 8c
        float s[KEYS_PER_LANE], tile_max = -INFINITY;
#pragma unroll
        for (int c = 0; c < KEYS_PER_LANE; c++) {
            int kr = lane + LANES_PER_ROW * c, key = n0 + kr;
            float dot = 0.0f;
#pragma unroll 8
            for (int d = 0; d < HD; d++) dot = fmaf(sQ[row][d], sK[kr][d], dot);
            bool visible = key < skv && (!CAUSAL || key <= i + offset);
            s[c] = visible ? dot * scale : -INFINITY;
            tile_max = fmaxf(tile_max, s[c]);
        }
        // 2. the online softmax update, agreed on by the 8 threads of the row
#pragma unroll
        for (int w = 1; w < LANES_PER_ROW; w *= 2) tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, w));
        const float m_new = fmaxf(m, tile_max);
        const float base = m_new == -INFINITY ? 0.0f : m_new;  // no NaN from (-inf) - (-inf)
        const float rescale = expf(m - base);
        float tile_sum = 0.0f;
#pragma unroll
        for (int c = 0; c < KEYS_PER_LANE; c++) {
            float p = expf(s[c] - base);
            sP[row][lane + LANES_PER_ROW * c] = p;
            tile_sum += p;
        }
#pragma unroll
        for (int w = 1; w < LANES_PER_ROW; w *= 2) tile_sum += __shfl_xor_sync(0xffffffffu, tile_sum, w);
        l = l * rescale + tile_sum;
        m = m_new;
        __syncwarp();  // the row's 8 threads (one warp holds 4 rows) see each other's probabilities

        // 3. O = O * rescale + P V, on this thread's columns
#pragma unroll
        for (int d = 0; d < HD / LANES_PER_ROW; d++) {
            int col = lane + LANES_PER_ROW * d;
            float sum = acc[d] * rescale;
#pragma unroll 8
            for (int kr = 0; kr < BN; kr++) sum = fmaf(sP[row][kr], sV[kr][col], sum);
            acc[d] = sum;
        }
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
