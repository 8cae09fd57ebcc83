// Session 14, exercise 1: absorbed MLA decode over a paged latent cache (FlashMLA's problem).
//
// Multi-head Latent Attention caches one row per token, its latent c (d_latent) and its RoPE key
// kr (d_rope), and every query head scores against the same row: q_h . [c, kr]. The output of a
// head is sum_t p_t c_t, the same rows again. So a block takes HEAD_ROWS = 16 (query token, head)
// rows of one sequence and reads each cached row once for all of them: the rows are the M of the
// tensor-core products, 16 heads for the bytes of one. (Session 12's GQA shared a key among 8
// query heads at most; MLA shares it among all of them.)
//
// The grid is (split, group of 16 rows, sequence): a sequence's pages are cut into splits, as
// session 12's 05 does, when the batch alone would leave SMs idle. A block walks its split's pages
// in tiles of 32 cached rows (half a page), double-buffered by cp.async. For each tile:
//   1. warp w scores rows 8w .. 8w + 7 of the tile for the 16 query rows: S = Q K^T over all
//      d_latent + d_rope elements, mma.sync m16n8k16 (36 k-steps for DeepSeek-V3's 576);
//   2. the causal limit and the sequence's end mask the scores (-inf); the block's 4 warps agree
//      on each row's tile maximum through shared memory and apply the online softmax of session 08:
//      a new running max m, the factor alpha that rescales l and the output, the weights
//      p = 2^(s - m) (scores in log2 units), which go to shared memory in BF16;
//   3. warp w multiplies all 32 weights of each row by its own 128 (DeepSeek-V3) of the latent's
//      512 columns: P V with V the latent part of the same tile, already in shared memory.
// The split writes its normalised output and its log-sum-exp to `work`, and a combine kernel
// weighs the splits (05's); with one split the block writes out itself.
//
// Given: the copies (stage_rows), the double buffer, the warps' agreement on maxima and sums, the
// split and the combine (session 12's 05). Yours, TODOs 1-7: the causal limit, the online-softmax
// step, the page walk, the scores of one cached row for all 16 rows at once, and P V into the
// latent-sized output. Where each lane points ldmatrix: mla_given.cuh (a_frag_*, kb_frag_*,
// vb_frag_*). As shipped the kernel writes zeros: every row sees nothing.
#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>

#include "exercises.h"
#include "mla_given.cuh"

// ---- the per-row maths ------------------------------------------------------------------------
// Query token i of a sequence of len tokens (its s_q new ones last) sees tokens 0 .. end - 1.
__host__ __device__ __forceinline__ int visible_end(int len, int s_q, int i) {
    // TODO 1, the causal limit: a sequence's len tokens include its s_q new ones, the last s_q; query
    //   token i (0 .. s_q - 1) sees every token up to and including its own. Return one past the
    //   last token it sees (s_q = 1: len; s_q = 2: len - 1 for i = 0, len for i = 1).
    return 0;
}

// A raw score q . row in log2 units, or -inf for a token the row may not see.
__host__ __device__ __forceinline__ float score_log2(float dot, float scale_log2, int token, int end) {
    // TODO 2: the scaled score for a token below end, -INFINITY from end on.
    return -INFINITY;
}

// The online-softmax step for a tile whose largest score (of one row) is tile_max: m becomes the
// new running max, and the factor that rescales the old sum and output is returned. While a row
// has seen nothing (m still -inf) the factor is 1 and there is nothing to rescale.
__host__ __device__ __forceinline__ float softmax_rescale(float &m, float tile_max) {
    // TODO 3, the online-softmax step (session 08's): the new max is the larger of m and tile_max;
    //   the old terms were weighed against m, so they scale by 2^(m - m_new) (mla_exp2). Mind a row
    //   that has seen nothing yet, a whole tile masked (s_q = 2): m_new = -inf, and -inf - -inf is NaN.
    return 1.0f;
}

// A token's weight 2^(s - m), rounded to BF16 as the tensor cores will take it (the sum l counts
// the same rounded weights). A masked score weighs exactly 0, even when m is still -inf.
__host__ __device__ __forceinline__ float softmax_weight(float s, float m) {
    // TODO 4: 2^(s - m), rounded with __float2bfloat16_rn and widened back; exactly 0
    //   for a masked score (-inf - -inf would be NaN).
    return 0.0f;
}

// A split's log-sum-exp (log2 units): -inf when it saw no token of the row (s_q = 2 can leave a
// split with none for query token 0).
__host__ __device__ __forceinline__ float split_lse(float m, float l) { return l > 0.0f ? m + log2f(l) : -INFINITY; }

// A split's share of the whole softmax, up to the common factor 2^-lse_max: 0 for an empty split.
__host__ __device__ __forceinline__ float combine_weight(float lse, float lse_max) {
    return lse == -INFINITY ? 0.0f : mla_exp2(lse - lse_max);
}

// ---- the split kernel ---------------------------------------------------------------------------
template <int DL, int DR>
__global__ void __launch_bounds__(MLA_THREADS)
mla_split_kernel(const __nv_bfloat16 *__restrict__ q, const __nv_bfloat16 *__restrict__ kv_cache,
                 const int *__restrict__ block_table, const int *__restrict__ seq_len, int max_blocks,
                 float scale_log2, int per_split, float *__restrict__ work, __nv_bfloat16 *__restrict__ out,
                 int batch, int s_q, int h_q) {
    using M = MlaDims<DL, DR>;
    extern __shared__ __align__(16) unsigned char smem[];
    __nv_bfloat16 *q_s = reinterpret_cast<__nv_bfloat16 *>(smem);
    __nv_bfloat16 *tiles = q_s + HEAD_ROWS * M::ROW;
    __nv_bfloat16 *p_s = tiles + MLA_STAGES * TILE_TOKENS * M::ROW;
    float *warp_max = reinterpret_cast<float *>(p_s + HEAD_ROWS * P_ROW);  // [warp][row]
    float *warp_sum = warp_max + MLA_WARPS * HEAD_ROWS;

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int split = blockIdx.x, r0 = blockIdx.y * HEAD_ROWS, b = blockIdx.z;
    const int R = s_q * h_q, len = seq_len[b];
    const int pages = (len + MLA_BLOCK - 1) / MLA_BLOCK, first = split * per_split;
    if (first >= pages) return;  // the combine counts ceil(pages / per_split) splits for this sequence
    const int last = min(first + per_split, pages);
    const int tile_begin = first * TILES_PER_BLOCK;
    const int tile_end = min(last * TILES_PER_BLOCK, (len + TILE_TOKENS - 1) / TILE_TOKENS);
    const int *table = block_table + (size_t)b * max_blocks;
    const bool direct = gridDim.x == 1;  // one split: no combine, write out here

    // This lane's two rows, r0 + g and r0 + g + 8: the tokens they see (rows past R are padding:
    // zero queries, never written).
    int end[2];
#pragma unroll
    for (int j = 0; j < 2; j++) {
        const int r = r0 + g + 8 * j;
        end[j] = r < R ? visible_end(len, s_q, r / h_q) : len;
    }

    // Tile k of the sequence: half k % 2 of its page k / 2, found through the block table.
    auto stage = [&](int k) {
        size_t row = 0;
        // TODO 5, the page walk: set `row` to the cache row (kv_cache[block][slot] counted as rows of
        //   D) where tile k starts: tile k is half k % TILES_PER_BLOCK of the sequence's page
        //   k / TILES_PER_BLOCK, and the sequence's row of the block table (`table`) says which cache
        //   block holds that page.
        stage_rows<M::D, M::ROW, TILE_TOKENS>(tiles + ((k - tile_begin) % MLA_STAGES) * TILE_TOKENS * M::ROW,
                                              kv_cache + row * M::D, len - k * TILE_TOKENS);
    };
    stage_rows<M::D, M::ROW, HEAD_ROWS>(q_s, q + ((size_t)b * R + r0) * M::D, R - r0);
    stage(tile_begin);
    cp_async_commit();

    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
    float acc[M::N_TILES][4];
#pragma unroll
    for (int n = 0; n < M::N_TILES; n++)
#pragma unroll
        for (int i = 0; i < 4; i++) acc[n][i] = 0.0f;

    for (int k = tile_begin; k < tile_end; k++) {
        cp_async_wait<0>();
        __syncthreads();  // tile k is in for every thread, and every warp is done with tile k - 1
        if (k + 1 < tile_end) stage(k + 1);  // into tile k - 1's buffer, while tile k is worked on
        cp_async_commit();
        const __nv_bfloat16 *tile = tiles + ((k - tile_begin) % MLA_STAGES) * TILE_TOKENS * M::ROW;

        // 1. S = Q K^T for this warp's 8 tokens: s[0], s[1] row g, tokens 2t, 2t + 1; s[2], s[3] row g + 8.
        float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        const int n0 = warp * 8;
        // TODO 6, the scores of the tile's tokens n0 .. n0 + 7 against all 16 query rows: one cached
        //   row serves every head, latent and RoPE key together (all M::D elements), in k-steps of
        //   16. One ldmatrix_x4 of B (row kb_frag_row(lane, n0), column kb_frag_col(lane, k0)) gives
        //   b[0], b[1] for k-step k0 and b[2], b[3] for k-step k0 + 16, so walk k0 = 0, 32, ... over
        //   M::K_PAIRS pairs, two mma_bf16_16816(s, a, b) a pair, each with its own A fragment of Q
        //   from q_s (ldmatrix_x4 at row a_frag_row(lane), column a_frag_col(lane, k) for k = k0 and
        //   k0 + 16; rows are M::ROW apart); then, if M::K_ODD, one last k-step with ldmatrix_x2.

        // 2. Mask, then the online softmax, the 4 warps agreeing on each row's tile maximum.
        const int token = k * TILE_TOKENS + n0 + 2 * t;
#pragma unroll
        for (int i = 0; i < 4; i++) s[i] = score_log2(s[i], scale_log2, token + i % 2, end[i / 2]);
        float mx[2] = {fmaxf(s[0], s[1]), fmaxf(s[2], s[3])};
#pragma unroll
        for (int j = 0; j < 2; j++) {
            mx[j] = fmaxf(mx[j], __shfl_xor_sync(0xffffffffu, mx[j], 1));
            mx[j] = fmaxf(mx[j], __shfl_xor_sync(0xffffffffu, mx[j], 2));
            if (t == 0) warp_max[warp * HEAD_ROWS + g + 8 * j] = mx[j];
        }
        __syncthreads();
        float alpha[2], sum[2];
#pragma unroll
        for (int j = 0; j < 2; j++) {
            float tile_max = -INFINITY;
#pragma unroll
            for (int w = 0; w < MLA_WARPS; w++) tile_max = fmaxf(tile_max, warp_max[w * HEAD_ROWS + g + 8 * j]);
            alpha[j] = softmax_rescale(m[j], tile_max);
            const float p0 = softmax_weight(s[2 * j], m[j]), p1 = softmax_weight(s[2 * j + 1], m[j]);
            *reinterpret_cast<uint32_t *>(p_s + (g + 8 * j) * P_ROW + n0 + 2 * t) = pack_bf16x2(p0, p1);
            sum[j] = p0 + p1;
            sum[j] += __shfl_xor_sync(0xffffffffu, sum[j], 1);
            sum[j] += __shfl_xor_sync(0xffffffffu, sum[j], 2);
            if (t == 0) warp_sum[warp * HEAD_ROWS + g + 8 * j] = sum[j];
        }
#pragma unroll
        for (int n = 0; n < M::N_TILES; n++) {
            acc[n][0] *= alpha[0];
            acc[n][1] *= alpha[0];
            acc[n][2] *= alpha[1];
            acc[n][3] *= alpha[1];
        }
        __syncthreads();  // every warp's weights and sums are in
#pragma unroll
        for (int j = 0; j < 2; j++) {
            float tile_sum = 0.0f;
#pragma unroll
            for (int w = 0; w < MLA_WARPS; w++) tile_sum += warp_sum[w * HEAD_ROWS + g + 8 * j];
            l[j] = l[j] * alpha[j] + tile_sum;
        }

        // 3. P V into this warp's output columns: V is the latent part of the tile's rows.
        const int c0 = warp * M::COLS_PER_WARP;
        // TODO 7, P V into this warp's M::COLS_PER_WARP output columns c0 ..: the 16 x 32 weights in
        //   p_s (rows P_ROW apart) times the latent part of the same tile, the values. For each
        //   k-step of 16 tokens kk = 0, 16: the A fragment of P (ldmatrix_x4, a_frag_row/col as for Q);
        //   then for each pair of n-tiles n, n + 1 (n = 0, 2, .. M::N_TILES - 2), ldmatrix_x4_trans at
        //   row vb_frag_row(lane, kk), column vb_frag_col(lane, c0 + 8 n) gives b for acc[n] (its
        //   registers 0, 1) and for acc[n + 1] (2, 3).
    }
    cp_async_wait<0>();

    // The split's result for this lane's rows: out (one split) or the normalised partial and its lse.
    const long row0 = (long)b * R + r0;
#pragma unroll
    for (int j = 0; j < 2; j++) {
        const int r = r0 + g + 8 * j;
        if (r >= R) continue;
        const float inv = l[j] > 0.0f ? 1.0f / l[j] : 0.0f;
#pragma unroll
        for (int n = 0; n < M::N_TILES; n++) {
            const int col = warp * M::COLS_PER_WARP + 8 * n + 2 * t;
            const float o0 = acc[n][2 * j] * inv, o1 = acc[n][2 * j + 1] * inv;
            if (direct) {
                *reinterpret_cast<uint32_t *>(out + (row0 + g + 8 * j) * DL + col) = pack_bf16x2(o0, o1);
            } else {
                float *part = work + partial_at(row0 + g + 8 * j, split, DL) + col;
                part[0] = o0;
                part[1] = o1;
            }
        }
        if (!direct && warp == 0 && t == 0)
            work[lse_at(row0 + g + 8 * j, split, (long)batch * R, DL)] = split_lse(m[j], l[j]);
    }
}

// ---- the combine: a warp per output row, out = sum_i w_i o_i / sum_i w_i --------------------------
template <int DL>
__global__ void __launch_bounds__(MLA_THREADS)
mla_combine_kernel(const float *__restrict__ work, const int *__restrict__ seq_len, int per_split,
                   __nv_bfloat16 *__restrict__ out, int batch, int rows_per_seq) {
    static_assert(MLA_SPLIT_MAX <= 64, "a lane holds the log-sum-exps of two splits");
    const int lane = threadIdx.x % 32;
    const long row = (long)blockIdx.x * MLA_WARPS + threadIdx.x / 32, rows = (long)batch * rows_per_seq;
    if (row >= rows) return;
    const int pages = (seq_len[row / rows_per_seq] + MLA_BLOCK - 1) / MLA_BLOCK;
    const int splits = (pages + per_split - 1) / per_split;
    const float *lse = work + lse_at(row, 0, rows, DL);
    const float lse_lo = lane < splits ? lse[lane] : -INFINITY, lse_hi = lane + 32 < splits ? lse[lane + 32] : -INFINITY;
    float big = fmaxf(lse_lo, lse_hi);
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) big = fmaxf(big, __shfl_xor_sync(0xffffffffu, big, off));
    const float w_lo = combine_weight(lse_lo, big), w_hi = combine_weight(lse_hi, big);
    float sum = w_lo + w_hi, o[DL / 32];
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
#pragma unroll
    for (int j = 0; j < DL / 32; j++) o[j] = 0.0f;
#pragma unroll 4
    for (int i = 0; i < splits; i++) {
        const float w = __shfl_sync(0xffffffffu, i < 32 ? w_lo : w_hi, i % 32);
        const float *part = work + partial_at(row, i, DL);
        if (w == 0.0f) continue;  // an empty split (its partial is 0 anyway)
#pragma unroll
        for (int j = 0; j < DL / 32; j++) o[j] = fmaf(w, part[lane + 32 * j], o[j]);
    }
#pragma unroll
    for (int j = 0; j < DL / 32; j++) out[row * DL + lane + 32 * j] = __float2bfloat16(sum > 0.0f ? o[j] / sum : 0.0f);
}

template <int DL, int DR>
static void launch(const uint16_t *q, const uint16_t *kv_cache, const int *block_table, const int *seq_len,
                   int max_blocks, float scale, uint16_t *out, int batch, int s_q, int h_q, float *work,
                   cudaStream_t stream) {
    constexpr int smem = MlaDims<DL, DR>::SMEM;
    const int rows_per_seq = s_q * h_q, groups = (rows_per_seq + HEAD_ROWS - 1) / HEAD_ROWS;
    const int per_split = mla_pages_per_split((long)batch * groups, max_blocks, smem);
    const int splits = (max_blocks + per_split - 1) / per_split;
    cudaFuncSetAttribute(mla_split_kernel<DL, DR>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    mla_split_kernel<DL, DR><<<dim3(splits, groups, batch), MLA_THREADS, smem, stream>>>(
        (const __nv_bfloat16 *)q, (const __nv_bfloat16 *)kv_cache, block_table, seq_len, max_blocks, scale * LOG2E,
        per_split, work, (__nv_bfloat16 *)out, batch, s_q, h_q);
    if (splits > 1) {
        const long rows = (long)batch * rows_per_seq;
        mla_combine_kernel<DL><<<(unsigned)((rows + MLA_WARPS - 1) / MLA_WARPS), MLA_THREADS, 0, stream>>>(
            work, seq_len, per_split, (__nv_bfloat16 *)out, batch, rows_per_seq);
    }
}

void mla_decode(const uint16_t *q, const uint16_t *kv_cache, const int *block_table, const int *seq_len, int max_blocks,
                float scale, uint16_t *out, int B, int s_q, int h_q, int d_latent, int d_rope, float *work,
                cudaStream_t stream) {
    if (!mla_shape_supported(B, s_q, h_q, d_latent, d_rope, max_blocks)) return;
    MLA_DISPATCH(d_latent, launch, q, kv_cache, block_table, seq_len, max_blocks, scale, out, B, s_q, h_q, work,
                 stream);
}
