// Session 08, exercise 5: attention with the online softmax, no score matrix in memory.
//
// One warp per query row. The query, scaled, sits in shared memory; the warp walks the row's
// visible keys in tiles of 32, lane l scoring key t + l by itself (dot_query_key). Then the online
// rule, once per tile, with three running values:
//     m    the largest score so far                      (the same in every lane)
//     l    the sum of exp(score - m) so far              (each lane its share; added up at the end)
//     acc  the sum of exp(score - m) * v so far          (lane l holds columns l, l + 32, ...)
// A tile whose largest score beats m moves m up; everything summed so far was counted against the
// old m, so l and acc are multiplied by rescale = exp(m_old - m_new) before the tile's terms join.
// At the end O = acc / l and lse = m + log(l). The scores live in one register per lane for one
// tile and are gone: no S, no P, only Q, K, V in and O, lse out.
//
// What it does not do yet: reuse. Each warp reads all of K and V for its one row (the four warps
// of a block, four neighbouring rows, share them through the L1), and the products run on the
// CUDA cores. Session 09 takes tiles of query rows that share each K and V tile in shared memory,
// and moves both products to the tensor cores: that is FlashAttention.
#include <cuda_bf16.h>

#include "attention_given.cuh"
#include "exercises.h"

#define ROWS_PER_BLOCK 4
#define THREADS (32 * ROWS_PER_BLOCK)
#define MAX_HEAD_DIM 256

// COLS: output columns per lane, head_dim <= 32 * COLS. vec: 16-byte loads of K rows.
template <int COLS>
__global__ void __launch_bounds__(THREADS)
attention_online_kernel(const __nv_bfloat16 *q, const __nv_bfloat16 *k, const __nv_bfloat16 *v, float *out,
                        float *lse, long rows, int sq, int skv, int d, float scale, int causal, bool vec) {
    __shared__ __align__(16) float q_s[ROWS_PER_BLOCK][MAX_HEAD_DIM];
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const long row = (long)blockIdx.x * ROWS_PER_BLOCK + w;  // batch, head and query index together
    if (row >= rows) return;  // a whole warp leaves; nothing below waits for the block
    const long head = row / sq;
    const int i = (int)(row % sq);
    const __nv_bfloat16 *k_head = k + head * skv * d, *v_head = v + head * skv * d;
    float *q_row = q_s[w];

    // The query, times the scale, once: then every score is a plain dot product.
    for (int c = lane; c < d; c += 32) q_row[c] = scale * __bfloat162float(q[row * d + c]);
    __syncwarp();

    const int visible = visible_keys(i, sq, skv, causal);
    float m = -INFINITY, l = 0.0f, acc[COLS];
#pragma unroll
    for (int x = 0; x < COLS; x++) acc[x] = 0.0f;

    for (int t = 0; t < visible; t += 32) {
        const int j = t + lane;
        const float s = j < visible ? dot_query_key(q_row, k_head + (long)j * d, d, vec) : -INFINITY;
        // TODO 1: the tile's largest score, in every lane: warp_max(s). m_new = the larger of m and it
        //         (finite: key t is visible). rescale = __expf(m - m_new): 1 if the max held, 0 on the
        //         first tile, where m is still -inf. p = __expf(s - m_new): 0 for keys past the mask.
        // TODO 2: what was summed so far was counted against the old m: l = l * rescale + p, and
        //         every acc[x] *= rescale (#pragma unroll: acc must stay in registers).
        // TODO 3: the tile's keys into acc: for jj < n = min(32, visible - t): pj = p of lane jj
        //         (__shfl_sync(FULL_MASK, p, jj)); then acc[x] += pj * v[t + jj][lane + 32 x] for
        //         every x with lane + 32 x < d (__bfloat162float; row t + jj of V is v_head + (t + jj) * d).
        //         Why the shuffle: lane jj scored key t + jj, and every lane needs its p for its own columns.
        const float m_new = m;  // a placeholder: the m_new of the first step above replaces it
        m = m_new;
    }

    // TODO 4: l = warp_sum(l): the lanes' shares of the sum. Lane l writes out[row * d + c] =
    //         acc[x] / l for c = lane + 32 x < d, or 0 when visible == 0 (the row sees no key, l = 0).
    //         Lane 0 writes lse[row] = m + logf(l), or -INFINITY when visible == 0.
}

template <int COLS>
static void launch(const uint16_t *q, const uint16_t *k, const uint16_t *v, float *out, float *lse, long rows,
                   int sq, int skv, int d, float scale, int causal, cudaStream_t stream) {
    const bool vec = d % 8 == 0 && (uintptr_t)k % 16 == 0;
    const long blocks = (rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    attention_online_kernel<COLS><<<(unsigned)blocks, THREADS, 0, stream>>>(
        reinterpret_cast<const __nv_bfloat16 *>(q), reinterpret_cast<const __nv_bfloat16 *>(k),
        reinterpret_cast<const __nv_bfloat16 *>(v), out, lse, rows, sq, skv, d, scale, causal, vec);
}

void attention_online(const uint16_t *q, const uint16_t *k, const uint16_t *v, float *out, float *lse, int batch,
                      int heads, int sq, int skv, int head_dim, float scale, int causal, cudaStream_t stream) {
    if (batch <= 0 || heads <= 0 || sq <= 0 || skv <= 0 || head_dim <= 0 || head_dim > MAX_HEAD_DIM) return;
    const long rows = (long)batch * heads * sq;
    // As few output registers per lane as the head dim needs.
    if (head_dim <= 32) launch<1>(q, k, v, out, lse, rows, sq, skv, head_dim, scale, causal, stream);
    else if (head_dim <= 64) launch<2>(q, k, v, out, lse, rows, sq, skv, head_dim, scale, causal, stream);
    else if (head_dim <= 128) launch<4>(q, k, v, out, lse, rows, sq, skv, head_dim, scale, causal, stream);
    else launch<8>(q, k, v, out, lse, rows, sq, skv, head_dim, scale, causal, stream);
}
