// Session 14, exercise 1 (solution): absorbed MLA decode over a paged latent cache (FlashMLA's problem).
//
// Multi-head Latent Attention caches one row per token, its latent c (d_latent) and its RoPE key
// kr (d_rope), and every query head scores against the same row: q_h . [c, kr]. The output of a
// head is sum_t p_t c_t, the same rows again. So a block takes ROWS = 16 or 32 (query token, head)
// rows of one sequence and reads each cached row once for all of them: the rows are the M of the
// tensor-core products, 16 or 32 heads for the bytes of one. (Session 12's GQA shared a key among 8
// query heads at most; MLA shares it among all of them.)
//
// With 16 heads the kernel does about 30 FLOP per byte it reads: it is a copy with some maths on
// the side, and it runs at the copy's speed only if every SM keeps ~100 KB of loads in flight all
// the time and no SM idles at the end. Hence:
//   - a persistent grid, one block per SM slot (by occupancy) and row group: the tiles of all
//     sequences, laid end to end, are cut into equal chunks, one a block (FlashMLA's scheduler).
//     A block may end a sequence and start the next; a sequence cut between blocks is a split of
//     flash-decoding (session 12's 05), merged by the combine kernel afterwards. Every SM gets the
//     same number of tiles whatever the lengths, and there is no second, half-empty wave;
//   - a ring of MLA_RING_STAGES tiles of 32 cached rows (36 KB each with DeepSeek-V3's 576
//     values) filled by cp.async: MLA_RING_STAGES - 1 tiles are in flight while one is worked on
//     (110 KB a SM). The block table is read one tile ahead, so no load waits for its page's number;
//   - 8 warps, and no warp re-reads what another has read: for the scores each warp takes a
//     quarter of the 576 columns (its slice of Q stays in registers for the whole sequence) and
//     half of the tile's tokens; the 4 partial sums meet in shared memory. For P V each warp owns
//     an eighth of the output columns.
// Per tile:
//   1. S = Q K^T, partial over the warp's column slice, mma.sync m16n8k16, into shared memory;
//   2. each warp takes ROWS / 8 whole rows: it adds the 4 partials, masks (the causal limit, the
//      sequence's end: -inf), and applies the online softmax of session 08: the new running max m,
//      the factor alpha that rescales l and the output, the weights p = 2^(s - m) (scores in log2
//      units), which go to shared memory in BF16;
//   3. P V into the warp's columns, V the latent part of the same tile.
// At a sequence's end (or the chunk's) the block writes its normalised output and log-sum-exp to
// `work`, or, when no other block has tiles of that sequence, the output itself.
//
// Measured on an H200 (2026-11-30, B 128, context 4096): 16 heads 0.186 ms, 68.5% of the measured
// copy (the mma.sync kernel before this one, double-buffered, a grid of (split, sequence): 0.240 ms,
// 52.5%); 128 heads 160 TFLOP/s (before: 111). A ring of 3, 4 or 5 tiles, or 16-token tiles at two
// blocks a SM, all land within 1% of one another: the loads in flight are no longer what limits.
// 128 heads is compute-bound (~240 FLOP a byte), past what mma.sync gives: 64 (token, head) rows and
// more at 512/64 take the Hopper rung in mla_wgmma_given.cuh (wgmma, TMA, a producer warpgroup):
// 0.286 ms, 447 TFLOP/s on the same H200 (2026-11-30, B 128, context 4096, 128 heads), against 162
// for this file's ring kernel in the same run. Fewer rows, the mini-model's widths or another GPU
// keep the ring kernel.
//
// The per-row maths (the causal limit, the masked score, the online-softmax step, the weights of
// the combine) is __host__ __device__: tests/finale/mla_emulate_test.cu runs it on the CPU.
#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "exercises.h"
#include "mla_given.cuh"
#include "mla_ring_given.cuh"  // this kernel's knobs, copies and block-wide scans, beside this file (solutions only)

// ---- the per-row maths ------------------------------------------------------------------------
// Query token i of a sequence of len tokens (its s_q new ones last) sees tokens 0 .. end - 1.
__host__ __device__ __forceinline__ int visible_end(int len, int s_q, int i) { return len - s_q + 1 + i; }

// A raw score q . row in log2 units, or -inf for a token the row may not see.
__host__ __device__ __forceinline__ float score_log2(float dot, float scale_log2, int token, int end) {
    return token < end ? dot * scale_log2 : -INFINITY;
}

// The online-softmax step for a tile whose largest score (of one row) is tile_max: m becomes the
// new running max, and the factor that rescales the old sum and output is returned. While a row
// has seen nothing (m still -inf) the factor is 1 and there is nothing to rescale.
__host__ __device__ __forceinline__ float softmax_rescale(float &m, float tile_max) {
    const float m_new = fmaxf(m, tile_max);
    const float alpha = m_new == -INFINITY ? 1.0f : mla_exp2(m - m_new);
    m = m_new;
    return alpha;
}

// A token's weight 2^(s - m), rounded to BF16 as the tensor cores will take it (the sum l counts
// the same rounded weights). A masked score weighs exactly 0, even when m is still -inf.
__host__ __device__ __forceinline__ float softmax_weight(float s, float m) {
    return s == -INFINITY ? 0.0f : __bfloat162float(__float2bfloat16_rn(mla_exp2(s - m)));
}

// A split's log-sum-exp (log2 units): -inf when it saw no token of the row (s_q = 2 can leave a
// split with none for query token 0).
__host__ __device__ __forceinline__ float split_lse(float m, float l) { return l > 0.0f ? m + log2f(l) : -INFINITY; }

// A split's share of the whole softmax, up to the common factor 2^-lse_max: 0 for an empty split.
__host__ __device__ __forceinline__ float combine_weight(float lse, float lse_max) {
    return lse == -INFINITY ? 0.0f : mla_exp2(lse - lse_max);
}

// ---- the kernel's shape ---------------------------------------------------------------------------
#define K_SLICES 4                            // the score's columns are cut in 4 slices, one a warp
#define TOKEN_GROUPS (RING_WARPS / K_SLICES)  // and a tile's tokens in 2 halves
#define SPLIT_LIMIT (MLA_SPLIT_MAX - 1)       // splits a sequence may have: work's last lse slot of a
                                              // row holds the row's split count instead

// Sizes for a latent width DL, a RoPE width DR, and RG groups of 16 (query token, head) rows a block.
template <int DL, int DR, int RG, int STAGES> struct Ring {
    static constexpr int D = DL + DR, ROW = D + 8;  // a cached row; in shared memory 16 bytes more,
                                                   // so that ldmatrix's 8 rows hit 8 bank groups
    static constexpr int T = MLA_RING_TOKENS, ROWS = 16 * RG;
    static constexpr int K_STEPS = D / 16, KS_PER_SLICE = (K_STEPS + K_SLICES - 1) / K_SLICES;
    static constexpr int S_NTILES = T / 8 / TOKEN_GROUPS;  // score n-tiles (8 tokens) a warp
    static constexpr int ROWS_PER_WARP = ROWS / RING_WARPS, LANES_PER_ROW = 32 / ROWS_PER_WARP;
    static constexpr int PER_LANE = T / LANES_PER_ROW;     // a row's scores a lane takes in the softmax
    static constexpr int COLS = DL / RING_WARPS, PV_NTILES = COLS / 8;  // output columns a warp
    static constexpr int S_ROW = T + 8;  // floats: the partial scores' row, padded against conflicts
    static constexpr int PW_ROW = T + 8;  // BF16: the weights' row, likewise (an odd number of 16 bytes)
    static constexpr int TILE_BYTES = T * ROW * 2, TILES_BYTES = STAGES * TILE_BYTES;
    static constexpr int SPART_BYTES = K_SLICES * ROWS * S_ROW * 4, P_BYTES = ROWS * PW_ROW * 2;
    static constexpr int BAR_BYTES = 128;  // the bulk path's mbarriers, one a stage (host and device agree on it)
    static constexpr int SMEM = BAR_BYTES + TILES_BYTES + SPART_BYTES + P_BYTES + 3 * ROWS * 4;  // + alpha, l, m
    static_assert(D % 16 == 0 && MLA_BLOCK % T == 0 && T % 16 == 0, "k-steps of 16; whole tiles a page");
    static_assert(S_NTILES >= 1 && PER_LANE >= 1 && PV_NTILES >= 1, "every warp has scores, weights, columns");
    static_assert(STAGES >= 2 && STAGES * 8 <= BAR_BYTES, "one tile landing while one is read; a barrier each");
};

// ---- the schedule (__host__ too: the index maths can be followed on the CPU) ----------------------
// A sequence of len tokens is ceil(len / T) tiles. The tiles of all sequences laid end to end, a
// block takes `per_block` of them: block c tiles [c per_block, (c + 1) per_block). A sequence
// whose tiles start at `first` (the tiles of the sequences before it) is then split among blocks
// first / per_block .. (first + tiles - 1) / per_block; a block's split index counts from there.
__host__ __device__ __forceinline__ int tiles_of(int len, int T) { return (len + T - 1) / T; }
__host__ __device__ __forceinline__ int split_index(int block, int first, int per_block) { return block - first / per_block; }
__host__ __device__ __forceinline__ int split_count(int first, int tiles, int per_block) {
    return (first + tiles - 1) / per_block - first / per_block + 1;
}
// Tiles a block: an equal share of all, but never so few that a sequence of max_tiles tiles would
// be cut into more than SPLIT_LIMIT splits: it gets (max_tiles - 1) / per_block + 2 at most, and
// per_block >= ceil(max_tiles / (SPLIT_LIMIT - 1)) keeps the quotient below SPLIT_LIMIT - 1.
__host__ __device__ __forceinline__ int tiles_per_block(int total, int blocks, int max_tiles) {
    const int share = (total + blocks - 1) / blocks, least = (max_tiles + SPLIT_LIMIT - 2) / (SPLIT_LIMIT - 1);
    return share > least ? share : least;
}
// Where a row keeps its split count: the lse slot the splits never reach (float: small integers are exact).
__host__ __device__ __forceinline__ size_t split_count_at(long row, long rows, int dl) {
    return lse_at(row, SPLIT_LIMIT, rows, dl);
}

// The ldmatrix_x4 address of lane `lane` for the score's B fragments of two n-tiles at one k-step:
// matrices 0, 1: tokens n0 .. n0 + 7 at elements k0, k0 + 8 (b[0], b[1] of n-tile n0); matrices
// 2, 3: the same for tokens n0 + 8 .. n0 + 15. (x2: lanes 0-15, the first n-tile.)
__host__ __device__ __forceinline__ int kb2_row(int lane, int n0) { return n0 + lane % 8 + 8 * (lane / 16); }
__host__ __device__ __forceinline__ int kb2_col(int lane, int k0) { return k0 + 8 * (lane / 8 % 2); }

struct MlaArgs {
    const __nv_bfloat16 *q, *kv_cache;
    const int *block_table, *seq_len;
    int max_blocks, max_tiles;
    float scale_log2;
    float *work;
    __nv_bfloat16 *out;
    int batch, s_q, h_q;
};

// ---- the split kernel: grid (chunk of tiles, group of ROWS rows) ----------------------------------
template <int DL, int DR, int RG, int STAGES>
__global__ void __launch_bounds__(RING_THREADS, RG == 1 ? MLA_MIN_CTAS : 1) mla_ring_kernel(const MlaArgs a) {
    using M = Ring<DL, DR, RG, STAGES>;
    constexpr int T = M::T, ROW = M::ROW, ROWS = M::ROWS;
    extern __shared__ __align__(128) unsigned char smem_all[];
#if MLA_USE_BULK
    uint64_t *bars = reinterpret_cast<uint64_t *>(smem_all);  // [stage]: the tile has landed
#endif
    unsigned char *smem = smem_all + M::BAR_BYTES;
    __nv_bfloat16 *tiles = reinterpret_cast<__nv_bfloat16 *>(smem);
    float *s_part = reinterpret_cast<float *>(smem + M::TILES_BYTES);  // [slice][row][token]
    __nv_bfloat16 *p_s = reinterpret_cast<__nv_bfloat16 *>(smem + M::TILES_BYTES + M::SPART_BYTES);
    float *alpha_s = reinterpret_cast<float *>(smem + M::TILES_BYTES + M::SPART_BYTES + M::P_BYTES);
    float *l_s = alpha_s + ROWS, *m_s = l_s + ROWS;  // [row]: the owner warp's, for the others
    __shared__ int scratch[RING_WARPS], found[2];

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int slice = warp % K_SLICES, half = warp / K_SLICES;  // the warp's share of the scores
    const int R = a.s_q * a.h_q, r0 = blockIdx.y * ROWS;
    const long rows_all = (long)a.batch * R;

    // 1. This block's tiles [begin, end) of all sequences', and the sequence b0 (whose tiles start
    //    at first0) that holds tile begin. Two passes over seq_len: the total, then the scan.
    int total = 0;
    for (int base = 0; base < a.batch; base += RING_THREADS) {
        const int b = base + threadIdx.x;
        total += block_sum(b < a.batch ? tiles_of(a.seq_len[b], T) : 0, scratch);
    }
    const int per_block = tiles_per_block(total, gridDim.x, a.max_tiles);
    const int begin = blockIdx.x * per_block, end = min(begin + per_block, total);
    if (begin >= total) return;  // more blocks than tiles: the spare ones (uniform over the block)
    for (int base = 0, carry = 0; carry <= begin; base += RING_THREADS) {  // stops once b0 is passed
        const int b = base + threadIdx.x, n = b < a.batch ? tiles_of(a.seq_len[b], T) : 0;
        int sum;
        const int first = carry + block_exclusive_scan(n, scratch, sum);
        if (n > 0 && first <= begin && begin < first + n) found[0] = b, found[1] = first;
        carry += sum;
    }
    __syncthreads();
    const int b0 = found[0], first0 = found[1], n_tiles = end - begin;

    // 2. The ring. The load cursor (sequence lb of llen tokens, its tile lk) runs STAGES tiles ahead
    //    of the work; describe() reads the block table for the tile at the cursor and moves it on,
    //    one tile before issue() copies it, so the table's latency hides behind a tile's work.
    int lb = b0, llen = a.seq_len[b0], lk = begin - first0;
    size_t next_row = 0;  // the next tile's first cache row, and how many of its rows are tokens
    int next_valid = 0;
    auto describe = [&](int j) {
        if (j >= n_tiles) return;
        const int token = lk * T;
        next_row = (size_t)a.block_table[(size_t)lb * a.max_blocks + token / MLA_BLOCK] * MLA_BLOCK + token % MLA_BLOCK;
        next_valid = llen - token;
        if (++lk == tiles_of(llen, T) && j + 1 < n_tiles) {
            lb++;
            llen = a.seq_len[lb];
            lk = 0;
        }
    };
    auto issue = [&](int j) {  // tile j (described last) into stage j % STAGES
        if (j < n_tiles) {
            __nv_bfloat16 *dst = tiles + (j % STAGES) * T * ROW;
            const __nv_bfloat16 *src = a.kv_cache + next_row * M::D;
#if MLA_USE_BULK
            // Warp 0 asks the copy engine for the tile's rows (one copy a row: the rows are padded
            // here); the stage's barrier completes when their bytes are in. Rows past the sequence's
            // end are zeroed by plain stores instead (they are never copied).
            const int rows = min(next_valid, T);
            if (warp == 0) {
                if (lane == 0) mbar_arrive_expect_tx(&bars[j % STAGES], rows * M::D * 2);
                __syncwarp();
                for (int r = lane; r < rows; r += 32) bulk_load(dst + r * ROW, src + (size_t)r * M::D, M::D * 2, &bars[j % STAGES]);
            }
            if (rows < T) zero_rows<M::D, ROW>(dst, rows, T);
#else
            stage_tile<M::D, ROW, T>(dst, src, next_valid);
#endif
        }
#if !MLA_USE_BULK
        cp_async_commit();  // a group even when there is no tile: the waits count groups
#endif
    };
#if MLA_USE_BULK
    if (threadIdx.x == 0) {
        for (int i = 0; i < STAGES; i++) mbar_init(&bars[i], 1);
        mbar_fence_init();
    }
    __syncthreads();
#endif
    describe(0);
#pragma unroll 1
    for (int j = 0; j < STAGES - 1; j++) {
        issue(j);
        describe(j + 1);
    }

    // The work cursor: sequence cb of clen tokens, whose tiles start at cfirst, its tile ck.
    int cb = b0, clen = a.seq_len[b0], cfirst = first0, ck = begin - first0;
    // Per sequence: this warp's slice of its Q rows as mma A fragments (rows past R are zeros),
    // and, for the rows this lane reduces in the softmax, the running max and sum and the causal end.
    uint32_t qf[RG][M::KS_PER_SLICE][4];
    const int own_row = warp * M::ROWS_PER_WARP + lane / M::LANES_PER_ROW;
    const int own_tok = (lane % M::LANES_PER_ROW) * M::PER_LANE;
    float m_run = -INFINITY, l_run = 0.0f;
    int own_end = 0;
    float acc[RG][M::PV_NTILES][4];
    const int c0 = warp * M::COLS;  // this warp's output columns

    auto start_sequence = [&]() {
        const int r = r0 + own_row;
        own_end = r < R ? visible_end(clen, a.s_q, r / a.h_q) : clen;
        m_run = -INFINITY;
        l_run = 0.0f;
#pragma unroll
        for (int rg = 0; rg < RG; rg++)
#pragma unroll
            for (int n = 0; n < M::PV_NTILES; n++)
#pragma unroll
                for (int i = 0; i < 4; i++) acc[rg][n][i] = 0.0f;
        const uint32_t *q32 = reinterpret_cast<const uint32_t *>(a.q);
#pragma unroll
        for (int rg = 0; rg < RG; rg++)
#pragma unroll
            for (int i = 0; i < M::KS_PER_SLICE; i++) {
                const int ks = slice * M::KS_PER_SLICE + i;
#pragma unroll
                for (int x = 0; x < 4; x++) {
                    const int r = r0 + 16 * rg + g + 8 * (x % 2), col = ks * 16 + 8 * (x / 2) + 2 * t;
                    qf[rg][i][x] = r < R && ks < M::K_STEPS ? __ldg(q32 + (((size_t)cb * R + r) * M::D + col) / 2) : 0u;
                }
            }
    };
    // The sequence's result from this block: out itself when no other block has its tiles, else
    // the normalised partial and its lse; split 0 also leaves the split count for the combine.
    auto finish_sequence = [&]() {
        const int tiles = tiles_of(clen, T);
        const int split = split_index(blockIdx.x, cfirst, per_block), count = split_count(cfirst, tiles, per_block);
        const bool direct = count == 1;
#pragma unroll
        for (int rg = 0; rg < RG; rg++)
#pragma unroll
            for (int j = 0; j < 2; j++) {
                const int rr = 16 * rg + g + 8 * j;
                if (r0 + rr >= R) continue;
                const long row = (long)cb * R + r0 + rr;
                const float l = l_s[rr], inv = l > 0.0f ? 1.0f / l : 0.0f;
#pragma unroll
                for (int n = 0; n < M::PV_NTILES; n++) {
                    const int col = c0 + 8 * n + 2 * t;
                    const float o0 = acc[rg][n][2 * j] * inv, o1 = acc[rg][n][2 * j + 1] * inv;
                    if (direct)
                        *reinterpret_cast<uint32_t *>(a.out + row * DL + col) = pack_bf16x2(o0, o1);
                    else
                        *reinterpret_cast<float2 *>(a.work + partial_at(row, split, DL) + col) = make_float2(o0, o1);
                }
            }
        if (threadIdx.x < ROWS && r0 + (int)threadIdx.x < R) {
            const long row = (long)cb * R + r0 + threadIdx.x;
            if (!direct) a.work[lse_at(row, split, rows_all, DL)] = split_lse(m_s[threadIdx.x], l_s[threadIdx.x]);
            if (split == 0) a.work[split_count_at(row, rows_all, DL)] = (float)count;
        }
    };

#pragma unroll 1
    for (int j = 0; j < n_tiles; j++) {
#if MLA_USE_BULK
        mbar_wait(&bars[j % STAGES], (j / STAGES) & 1);  // the stage's (j / STAGES)-th fill
#else
        cp_async_wait<STAGES - 2>();
#endif
        __syncthreads();  // tile j is in for every thread, and every warp is done with tile j - 1
        issue(j + STAGES - 1);  // into tile j - 1's stage
        describe(j + STAGES);
        if (j > 0 && ++ck == tiles_of(clen, T)) {  // a sequence ended with tile j - 1: the next starts
            finish_sequence();
            cfirst += tiles_of(clen, T);
            cb++;
            clen = a.seq_len[cb];
            ck = 0;
        }
        if (j == 0 || ck == 0) start_sequence();
        const __nv_bfloat16 *tile = tiles + (j % STAGES) * T * ROW;
        if (MLA_NO_MATH) {  // the measurement: the barriers stay
            __syncthreads();
            __syncthreads();
            continue;
        }

        // 1. Partial scores over this warp's column slice for its half of the tokens:
        //    s[rg][n]: rows 16 rg + g (0, 1) and + 8 (2, 3), tokens n0 + 2t, n0 + 2t + 1.
        float s[RG][M::S_NTILES][4];
#pragma unroll
        for (int rg = 0; rg < RG; rg++)
#pragma unroll
            for (int n = 0; n < M::S_NTILES; n++)
#pragma unroll
                for (int i = 0; i < 4; i++) s[rg][n][i] = 0.0f;
#pragma unroll
        for (int i = 0; i < M::KS_PER_SLICE; i++) {
            const int ks = slice * M::KS_PER_SLICE + i;
            if (M::K_STEPS % K_SLICES != 0 && ks >= M::K_STEPS) break;  // the last slice is short (80 = 5 x 16)
#pragma unroll
            for (int n = 0; n < M::S_NTILES; n += 2) {
                const int n0 = (half * M::S_NTILES + n) * 8;
                const uint32_t addr = smem_u32(tile + kb2_row(lane, n0) * ROW + kb2_col(lane, ks * 16));
                uint32_t kb[4];
                if (n + 1 < M::S_NTILES) ldmatrix_x4(kb, addr);
                else ldmatrix_x2(kb, addr);
#pragma unroll
                for (int rg = 0; rg < RG; rg++) {
                    mma_bf16_16816(s[rg][n], qf[rg][i], &kb[0]);
                    if (n + 1 < M::S_NTILES) mma_bf16_16816(s[rg][n + 1], qf[rg][i], &kb[2]);
                }
            }
        }
#pragma unroll
        for (int rg = 0; rg < RG; rg++)
#pragma unroll
            for (int n = 0; n < M::S_NTILES; n++)
#pragma unroll
                for (int j2 = 0; j2 < 2; j2++) {
                    const int row = 16 * rg + g + 8 * j2, tok = (half * M::S_NTILES + n) * 8 + 2 * t;
                    *reinterpret_cast<float2 *>(s_part + (slice * ROWS + row) * M::S_ROW + tok) =
                        make_float2(s[rg][n][2 * j2], s[rg][n][2 * j2 + 1]);
                }
        __syncthreads();  // every slice's partial scores are in

        // 2. The softmax of this lane's PER_LANE scores of row own_row (LANES_PER_ROW lanes a row).
        {
            float sc[M::PER_LANE];
#pragma unroll
            for (int e = 0; e < M::PER_LANE; e++) sc[e] = 0.0f;
#pragma unroll
            for (int k = 0; k < K_SLICES; k++) {
                float part[M::PER_LANE];
                load_floats<M::PER_LANE>(part, s_part + (k * ROWS + own_row) * M::S_ROW + own_tok);
#pragma unroll
                for (int e = 0; e < M::PER_LANE; e++) sc[e] += part[e];
            }
            float tile_max = -INFINITY;
#pragma unroll
            for (int e = 0; e < M::PER_LANE; e++) {
                sc[e] = score_log2(sc[e], a.scale_log2, ck * T + own_tok + e, own_end);
                tile_max = fmaxf(tile_max, sc[e]);
            }
#pragma unroll
            for (int off = M::LANES_PER_ROW / 2; off > 0; off >>= 1)
                tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, off));
            const float alpha = softmax_rescale(m_run, tile_max);
            float sum = 0.0f;
#pragma unroll
            for (int e = 0; e < M::PER_LANE; e++) {
                sc[e] = softmax_weight(sc[e], m_run);
                sum += sc[e];
            }
            store_bf16<M::PER_LANE>(p_s + own_row * M::PW_ROW + own_tok, sc);  // exact: the weights are BF16 already
#pragma unroll
            for (int off = M::LANES_PER_ROW / 2; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
            l_run = l_run * alpha + sum;
            if (lane % M::LANES_PER_ROW == 0) {
                alpha_s[own_row] = alpha;
                l_s[own_row] = l_run;
                m_s[own_row] = m_run;
            }
        }
        __syncthreads();  // the weights, and each row's alpha

        // 3. P V into this warp's columns, after rescaling them by each row's alpha.
#pragma unroll
        for (int rg = 0; rg < RG; rg++) {
            const float a0 = alpha_s[16 * rg + g], a1 = alpha_s[16 * rg + g + 8];
#pragma unroll
            for (int n = 0; n < M::PV_NTILES; n++) {
                acc[rg][n][0] *= a0;
                acc[rg][n][1] *= a0;
                acc[rg][n][2] *= a1;
                acc[rg][n][3] *= a1;
            }
        }
#pragma unroll
        for (int kk = 0; kk < T; kk += 16) {
            uint32_t pa[RG][4];
#pragma unroll
            for (int rg = 0; rg < RG; rg++)
                ldmatrix_x4(pa[rg], smem_u32(p_s + (16 * rg + a_frag_row(lane)) * M::PW_ROW + a_frag_col(lane, kk)));
#pragma unroll
            for (int n = 0; n < M::PV_NTILES; n += 2) {
                const uint32_t addr = smem_u32(tile + vb_frag_row(lane, kk) * ROW + vb_frag_col(lane, c0 + 8 * n));
                uint32_t vb[4];
                if (n + 1 < M::PV_NTILES) ldmatrix_x4_trans(vb, addr);
                else ldmatrix_x2_trans(vb, addr);
#pragma unroll
                for (int rg = 0; rg < RG; rg++) {
                    mma_bf16_16816(acc[rg][n], pa[rg], &vb[0]);
                    if (n + 1 < M::PV_NTILES) mma_bf16_16816(acc[rg][n + 1], pa[rg], &vb[2]);
                }
            }
        }
    }
#if !MLA_USE_BULK
    cp_async_wait<0>();  // the ring's empty groups (nothing is copied past the last tile)
#endif
    finish_sequence();   // l_s and m_s of the last tile are in: the barrier before P V ordered them
}

// ---- the combine: a warp per output row, out = sum_i w_i o_i / sum_i w_i --------------------------
template <int DL>
__global__ void __launch_bounds__(MLA_THREADS) mla_combine_kernel(const float *__restrict__ work,
                                                                  __nv_bfloat16 *__restrict__ out, long rows) {
    static_assert(MLA_SPLIT_MAX <= 64, "a lane holds the log-sum-exps of two splits");
    const int lane = threadIdx.x % 32;
    const long row = (long)blockIdx.x * MLA_WARPS + threadIdx.x / 32;
    if (row >= rows) return;
    const int splits = (int)work[split_count_at(row, rows, DL)];
    if (splits <= 1) return;  // one block had the whole sequence and wrote out itself
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

#include "mla_wgmma_given.cuh"  // the Hopper rung (beside this file): mla_wgmma_kernel, launch_wgmma
#include "mla_swap_given.cuh"   // the swapped-operand kernel for <= 32 rows (launch_swap)

// ---- the launch ---------------------------------------------------------------------------------
// The deepest ring (MLA_RING_STAGES down to 2) whose shared memory this GPU gives a block (the
// kernel's few static bytes too: 256 spare). An A100 takes 4 stages of 16 rows, 3 of 32.
template <int DL, int DR, int RG, int STAGES>
static void launch_fitting(const MlaArgs &a, int device, int smem_optin, cudaStream_t stream) {
    if constexpr (STAGES > 2) {
        if (Ring<DL, DR, RG, STAGES>::SMEM + 256 > smem_optin)
            return launch_fitting<DL, DR, RG, STAGES - 1>(a, device, smem_optin, stream);
    }
    using M = Ring<DL, DR, RG, STAGES>;
    auto kernel = mla_ring_kernel<DL, DR, RG, STAGES>;
    int sms = 1, per_sm = 1;
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, M::SMEM);
    cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, RING_THREADS, M::SMEM);
    // One block per SM slot, the slots shared among the row groups: the groups of a chunk read
    // the same tiles at about the same time, so all but the first find them in L2.
    const int groups = (a.s_q * a.h_q + M::ROWS - 1) / M::ROWS;
    const int chunks = max(1, sms * max(per_sm, 1) / groups);
    kernel<<<dim3(chunks, groups), RING_THREADS, M::SMEM, stream>>>(a);
    const long rows = (long)a.batch * a.s_q * a.h_q;
    mla_combine_kernel<DL><<<(unsigned)((rows + MLA_WARPS - 1) / MLA_WARPS), MLA_THREADS, 0, stream>>>(a.work, a.out, rows);
}

template <int DL, int DR>
static void launch(const MlaArgs &a, cudaStream_t stream) {
    int device = 0, smem_optin = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    // 16 rows a block when that is all there is; else 32, which halves the reads of each tile
    // per row (more would not fit the registers: 32 rows x 64 columns of output a warp).
    // 64 rows and more at DeepSeek-V3's widths: the Hopper rung, where this GPU and build have it.
    if constexpr (DL == MLA_DL_WG) {
        const int rows_a_seq = a.s_q * a.h_q;  // <= 32 rows: the swapped kernel, no rows padded
        if (rows_a_seq <= 16 && launch_swap<16>(a, stream)) return;
        if (rows_a_seq > 16 && rows_a_seq <= 32 && launch_swap<32>(a, stream)) return;
        if (rows_a_seq >= WG_ROWS && launch_wgmma<MLA_WG_TOKENS>(a, stream)) return;
    }
    if (a.s_q * a.h_q <= 16) launch_fitting<DL, DR, 1, MLA_RING_STAGES>(a, device, smem_optin, stream);
    else launch_fitting<DL, DR, 2, MLA_RING_STAGES>(a, device, smem_optin, stream);
}

void mla_decode(const uint16_t *q, const uint16_t *kv_cache, const int *block_table, const int *seq_len, int max_blocks,
                float scale, uint16_t *out, int B, int s_q, int h_q, int d_latent, int d_rope, float *work,
                cudaStream_t stream) {
    if (!mla_shape_supported(B, s_q, h_q, d_latent, d_rope, max_blocks)) return;
    const MlaArgs a = {(const __nv_bfloat16 *)q, (const __nv_bfloat16 *)kv_cache, block_table, seq_len, max_blocks,
                       tiles_of(max_blocks * MLA_BLOCK, MLA_RING_TOKENS), scale * LOG2E, work, (__nv_bfloat16 *)out,
                       B, s_q, h_q};
    if (d_latent == 64) launch<64, 16>(a, stream);
    else launch<512, 64>(a, stream);
}
