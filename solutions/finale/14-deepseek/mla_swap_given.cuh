// A Hopper kernel of 01_mla_decode for few rows (s_q h_q <= 32 at 512/64), with
// the roles of wgmma's operands swapped ("swap AB"): the 64 tokens of a page are wgmma's M, the
// (query token, head) rows its N (16 or 32), so nothing is padded to 64 rows.
//   S^T  (64 tokens x NQ rows)  = K (64 x 576, the tile, K-major)  Q^T (576 x NQ, Q K-major)
//   O^T  (512 x NQ)            += V^T (512 x 64: the same tile, read MN-major, 8 chunks of 64 columns) P^T
// One consumer warpgroup does everything (O^T is 8 x NQ/2 = 64 or 128 registers a thread) and
// warp 4 is the producer: one thread walks the block table and asks TMA for each page (9 boxes of
// 64 rows x 128 bytes, 128-byte swizzled) into a 2-stage ring, as the 64-row rung does. The schedule,
// splits, work layout and combine are the ring kernel's. Included by 01_mla_decode.cu after the
// ring kernel, the schedule and the combine, and after mla_wgmma_given.cuh (sw128_mn_desc,
// sw128_at, warp_sum, named_sync, tma_map_e4m3).
//
// The softmax runs down the columns of S^T: a thread holds 2 tokens of NQ/4 rows; the max over the
// tile's 64 tokens meets by shuffles (8 lanes) and through shared memory (4 warps); the sum l is kept
// per thread and added up only when a sequence ends.
#ifndef MLA14B_SWAP_GIVEN_CUH
#define MLA14B_SWAP_GIVEN_CUH

#include <cuda.h>
#include <stdint.h>

#include "hopper_ptx.cuh"
#include "wgmma_sw128.cuh"

#define SW_T 64                 // tokens a tile: a page, wgmma's M
#define SW_THREADS 160          // warpgroup 0 (the consumer), warp 4 (the producer)
#define SW_BAR_ZERO 5           // named barriers (the 64-row rung uses 1-4; a block runs one kernel)
#define SW_BAR_RED 6
#define SW_BAR_P 7
#define SW_BAR_L 8

template <int NQ> struct SwapShape {
    static constexpr int CH = SW_T * 128;            // one 64-column chunk of a tile (64 rows x 128 bytes)
    static constexpr int TILE = WG_CHUNKS * CH;      // 73,728 bytes
    static constexpr int Q_CH = NQ * 128;            // one 64-column chunk of Q: NQ rows x 128 bytes
    static constexpr int Q_BYTES = WG_CHUNKS * Q_CH, P_BYTES = NQ * 128;  // P^T: NQ rows x 64 tokens
    static constexpr int STAGES = 2;
    static constexpr int SMEM = 1024 + STAGES * TILE + Q_BYTES + P_BYTES;  // + 1024: the swizzle's alignment
    static_assert(NQ == 16 || NQ == 32, "wgmma N of 16 or 32 rows");
    static_assert(SMEM <= 227 * 1024 - 1024, "within the opt-in limit, with the static shared memory");
    static_assert(Q_CH % 1024 == 0 && TILE % 1024 == 0, "every swizzled operand on a 1024-byte boundary");
};

// ---- where things are (host and device: the CPU emulation test follows the same maps) ------
// Accumulator register i of thread `tid` (0..127) of a 64 x N wgmma: row 16 (tid / 32) + (tid % 32) / 4
// (+ 8 for i % 4 >= 2), column 8 (i / 4) + 2 (tid % 4) + i % 2. Here rows are tokens, columns rows of Q.
__host__ __device__ __forceinline__ int sw_acc_token(int tid, int i) { return 16 * (tid / 32) + (tid % 32) / 4 + 8 * ((i % 4) / 2); }
__host__ __device__ __forceinline__ int sw_acc_row(int tid, int i) { return 8 * (i / 4) + 2 * (tid % 4) + i % 2; }
// Byte offset of P^T's element (row r of Q, token k of the tile) in its NQ x 128-byte swizzled tile.
__host__ __device__ __forceinline__ int sw_p_at(int r, int k) { return sw128_at(r, k / 8) + 2 * (k % 8); }

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define MLA_SWAP_DEVICE 1
// D (64 x 16 or 64 x 32) (+)= A B, both from shared memory: A the tile's tokens, K-major, or with
// TRANS_A MN-major (V^T, whose M, the latent columns, is contiguous); B Q's rows, K-major.
template <int TRANS_A>
__device__ __forceinline__ void wgmma_m64n16k16(float (&d)[8], uint64_t desc_a, uint64_t desc_b, int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %10, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7}, %8, %9, p, 1, 1, %11, 0;\n}\n"
        : GR_D8(d, 0)
        : "l"(desc_a), "l"(desc_b), "r"(accumulate), "n"(TRANS_A));
}
template <int TRANS_A>
__device__ __forceinline__ void wgmma_m64n32k16(float (&d)[16], uint64_t desc_a, uint64_t desc_b, int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %18, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {"
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15"
        "}, %16, %17, p, 1, 1, %19, 0;\n}\n"
        : GR_D8(d, 0), GR_D8(d, 8)
        : "l"(desc_a), "l"(desc_b), "r"(accumulate), "n"(TRANS_A));
}
// The NQ-wide product: S^T = K Q^T (TRANS_A 0), O^T += V^T P^T (TRANS_A 1).
template <int NQ, int TRANS_A>
__device__ __forceinline__ void sw_mma(float (&d)[NQ / 2], uint64_t a, uint64_t b, int acc) {
    if constexpr (NQ == 16) wgmma_m64n16k16<TRANS_A>(d, a, b, acc);
    else wgmma_m64n32k16<TRANS_A>(d, a, b, acc);
}
#endif

template <int NQ>
__global__ void __launch_bounds__(SW_THREADS, 1)
mla_swap_kernel(const __grid_constant__ CUtensorMap q_map, const __grid_constant__ CUtensorMap kv_map, const MlaArgs a) {
#ifdef MLA_SWAP_DEVICE
    using W = SwapShape<NQ>;
    constexpr int STAGES = W::STAGES, NA = NQ / 2, NJ = NQ / 8;  // NA accumulators a thread, NJ column groups of 8
    extern __shared__ uint8_t smem_raw[];
    uint8_t *smem = smem_raw + ((1024 - (smem_addr(smem_raw) & 1023)) & 1023);
    uint8_t *sKV = smem, *sQ = smem + STAGES * W::TILE, *sP = sQ + W::Q_BYTES;
    __shared__ uint64_t full[STAGES], empty[STAGES], q_bar;
    __shared__ float red[2][4][NQ], lred[4][NQ];  // a tile's column maxima of each warp (two tiles in turn); the sums
    __shared__ int sched[4];

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, tid = threadIdx.x;
    const int R = a.s_q * a.h_q;
    const long rows_all = (long)a.batch * R;

    // 1. The schedule (the ring kernel's, tiles of 64): warp 0, as the 64-row rung does.
    if (threadIdx.x < 32) {
        const WarpSchedule ws = warp_schedule(a, SW_T);
        if (lane == 0) {
            sched[0] = ws.total, sched[1] = ws.per_block, sched[2] = ws.b0, sched[3] = ws.first0;
            for (int s = 0; s < STAGES; s++) {
                mbar_init(&full[s], 1);
                mbar_init(&empty[s], 4);  // the 4 consumer warps
            }
            mbar_init(&q_bar, 1);
            mbar_fence_init();
        }
    }
    __syncthreads();
    const int total = sched[0], per_block = sched[1], b0 = sched[2], first0 = sched[3];
    const int begin = blockIdx.x * per_block;
    if (begin >= total) return;  // a spare block (uniform)
    const int n_tiles = min(begin + per_block, total) - begin;

    if (warp == 4) {  // 2. the producer: one thread, the pages in order into the ring
        if (lane == 0) {
            int lb = b0, llen = a.seq_len[b0], lk = begin - first0;
            for (int j = 0; j < n_tiles; j++) {
                const int s = j % STAGES, token = lk * SW_T;
                const int row = a.block_table[(size_t)lb * a.max_blocks + token / MLA_BLOCK] * MLA_BLOCK + token % MLA_BLOCK;
                mbar_wait(&empty[s], ((j / STAGES) & 1) ^ 1);
                mbar_arrive_expect_tx(&full[s], W::TILE);
#pragma unroll
                for (int c = 0; c < WG_CHUNKS; c++) tma_load(sKV + s * W::TILE + c * W::CH, &kv_map, &full[s], row, c * 128);
                if (++lk == tiles_of(llen, SW_T) && j + 1 < n_tiles) {
                    lb++;
                    llen = a.seq_len[lb];
                    lk = 0;
                }
            }
        }
        return;
    }

    // 3. The consumer warpgroup. This thread's accumulator entries: tokens tk and tk + 8 of the
    //    tile, rows 8 jj + 2 t + e of Q (jj < NJ, e < 2) -- the same rows in S^T and in O^T.
    const int t = lane % 4, g = lane / 4, tk = 16 * warp + g;
    int cb = b0, clen = a.seq_len[b0], cfirst = first0, ck = begin - first0;
    float o[8][NA];  // O^T: 8 chunks of 64 latent columns
    float m_r[NJ][2], l_r[NJ][2];  // per row: the running max, this thread's share of the running sum
    int end_r[NJ][2];
    uint32_t q_phase = 0;
#pragma unroll
    for (int mb = 0; mb < 8; mb++)
#pragma unroll
        for (int i = 0; i < NA; i++) o[mb][i] = 0.0f;

    auto finish = [&](int seq_tiles) {
        // The sum of each row: 8 lanes (g) by shuffles, then the 4 warps through shared memory.
        float l_all[NJ][2];
#pragma unroll
        for (int jj = 0; jj < NJ; jj++)
#pragma unroll
            for (int e = 0; e < 2; e++) {
                float v = l_r[jj][e];
                v += __shfl_xor_sync(0xffffffffu, v, 4);
                v += __shfl_xor_sync(0xffffffffu, v, 8);
                v += __shfl_xor_sync(0xffffffffu, v, 16);
                if (g == 0) lred[warp][8 * jj + 2 * t + e] = v;
            }
        named_sync(SW_BAR_L, 128);
#pragma unroll
        for (int jj = 0; jj < NJ; jj++)
#pragma unroll
            for (int e = 0; e < 2; e++) {
                const int r = 8 * jj + 2 * t + e;
                l_all[jj][e] = (lred[0][r] + lred[1][r]) + (lred[2][r] + lred[3][r]);
            }
        const int split = split_index(blockIdx.x, cfirst, per_block), count = split_count(cfirst, seq_tiles, per_block);
        const bool direct = count == 1;
#pragma unroll
        for (int jj = 0; jj < NJ; jj++)
#pragma unroll
            for (int e = 0; e < 2; e++) {
                const int r = 8 * jj + 2 * t + e;
                if (r >= R) continue;  // a padding column (R < NQ): never stored
                const long row = (long)cb * R + r;
                const float l = l_all[jj][e], inv = l > 0.0f ? 1.0f / l : 0.0f;
#pragma unroll
                for (int mb = 0; mb < 8; mb++)
#pragma unroll
                    for (int h = 0; h < 2; h++) {
                        const int col = 64 * mb + tk + 8 * h;
                        const float v = o[mb][4 * jj + 2 * h + e] * inv;
                        if (direct) a.out[row * MLA_DL_WG + col] = __float2bfloat16_rn(v);
                        else a.work[partial_at(row, split, MLA_DL_WG) + col] = v;
                    }
                if (warp == 0 && g == 0) {
                    if (!direct) a.work[lse_at(row, split, rows_all, MLA_DL_WG)] = split_lse(m_r[jj][e], l);
                    if (split == 0) a.work[split_count_at(row, rows_all, MLA_DL_WG)] = (float)count;
                }
            }
    };

#pragma unroll 1
    for (int j = 0; j < n_tiles; j++) {
        const int s = j % STAGES, seq_tiles = tiles_of(clen, SW_T), valid = clen - ck * SW_T;
        const bool first_of_seq = j == 0 || ck == 0, last_of_seq = ck == seq_tiles - 1 || j == n_tiles - 1;
        uint8_t *tile = sKV + s * W::TILE;
        if (first_of_seq) {
            // The sequence's Q rows: NQ of them from row cb R (past R: the next sequences' rows, or
            // zeros past the last; their columns are computed and never stored). Every warp is past
            // the last S^T that read sQ: they all passed the last tile's SW_BAR_P.
            if (tid == 0) {
                mbar_arrive_expect_tx(&q_bar, W::Q_BYTES);
#pragma unroll
                for (int c = 0; c < WG_CHUNKS; c++) tma_load(sQ + c * W::Q_CH, &q_map, &q_bar, cb * R, c * 128);
            }
#pragma unroll
            for (int jj = 0; jj < NJ; jj++)
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    const int r = 8 * jj + 2 * t + e;
                    m_r[jj][e] = -INFINITY;
                    l_r[jj][e] = 0.0f;
                    end_r[jj][e] = r < R ? visible_end(clen, a.s_q, r / a.h_q) : clen;
                }
        }
        mbar_wait(&full[s], (j / STAGES) & 1);
        if (valid < SW_T) {  // past the sequence's end a slot may hold anything: zeros keep 0 * NaN out of P V
            const int per_chunk = (SW_T - valid) * 8;
            for (int i = tid; i < WG_CHUNKS * per_chunk; i += 128)
                *reinterpret_cast<uint4 *>(tile + (i / per_chunk) * W::CH + valid * 128 + (i % per_chunk) * 16) =
                    make_uint4(0, 0, 0, 0);
            fence_async_shared();
            named_sync(SW_BAR_ZERO, 128);
        }
        if (first_of_seq) {
            mbar_wait(&q_bar, q_phase);
            q_phase ^= 1;
        }

        // S^T = K Q^T: 9 chunks x 4 k-steps of 16.
        float sc[NA];
#pragma unroll
        for (int i = 0; i < NA; i++) sc[i] = 0.0f;
        wgmma_hold(sc);
        wgmma_fence();
#pragma unroll
        for (int c = 0; c < WG_CHUNKS; c++)
#pragma unroll
            for (int k = 0; k < 4; k++)
                sw_mma<NQ, 0>(sc, sw128_desc(tile + c * W::CH) + 2 * k, sw128_desc(sQ + c * W::Q_CH) + 2 * k, (c | k) != 0);
        wgmma_commit();
        wgmma_wait<0>();
        wgmma_hold(sc);

        // The online softmax down the columns: masked scores, each column's max over the tile.
        const int tok = ck * SW_T + tk;
        float mx[NJ][2];
#pragma unroll
        for (int jj = 0; jj < NJ; jj++)
#pragma unroll
            for (int e = 0; e < 2; e++) {
                sc[4 * jj + e] = score_log2(sc[4 * jj + e], a.scale_log2, tok, end_r[jj][e]);
                sc[4 * jj + 2 + e] = score_log2(sc[4 * jj + 2 + e], a.scale_log2, tok + 8, end_r[jj][e]);
                float v = fmaxf(sc[4 * jj + e], sc[4 * jj + 2 + e]);
                v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 4));
                v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 8));
                v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 16));
                mx[jj][e] = v;
            }
        float(*rd)[NQ] = red[j & 1];
        if (g == 0) {
#pragma unroll
            for (int jj = 0; jj < NJ; jj++)
#pragma unroll
                for (int e = 0; e < 2; e++) rd[warp][8 * jj + 2 * t + e] = mx[jj][e];
        }
        named_sync(SW_BAR_RED, 128);  // (also: every warp's P V of the last tile is done, so P may be written)
        float alpha[NJ][2];
#pragma unroll
        for (int jj = 0; jj < NJ; jj++)
#pragma unroll
            for (int e = 0; e < 2; e++) {
                const int r = 8 * jj + 2 * t + e;
                const float tile_max = fmaxf(fmaxf(rd[0][r], rd[1][r]), fmaxf(rd[2][r], rd[3][r]));
                alpha[jj][e] = softmax_rescale(m_r[jj][e], tile_max);
                const float p_lo = softmax_weight(sc[4 * jj + e], m_r[jj][e]);
                const float p_hi = softmax_weight(sc[4 * jj + 2 + e], m_r[jj][e]);
                l_r[jj][e] = l_r[jj][e] * alpha[jj][e] + (p_lo + p_hi);
                // P^T (B of O^T, K-major: a row of Q, its 64 tokens), exact: the weights are BF16 already.
                *reinterpret_cast<__nv_bfloat16 *>(sP + sw_p_at(r, tk)) = __float2bfloat16_rn(p_lo);
                *reinterpret_cast<__nv_bfloat16 *>(sP + sw_p_at(r, tk + 8)) = __float2bfloat16_rn(p_hi);
            }
        fence_async_shared();        // P's generic stores, before wgmma (the async proxy) reads them
        named_sync(SW_BAR_P, 128);   // all of P is in

        // O^T = alpha O^T + V^T P^T: 8 chunks of 64 latent columns x 4 k-steps of 16 tokens. The
        // first tile of a sequence starts from zero (scale-d = 0), so o is neither zeroed nor scaled.
        if (!first_of_seq) {
#pragma unroll
            for (int mb = 0; mb < 8; mb++)
#pragma unroll
                for (int jj = 0; jj < NJ; jj++)
#pragma unroll
                    for (int i = 0; i < 4; i++) o[mb][4 * jj + i] *= alpha[jj][i % 2];
        }
#pragma unroll
        for (int mb = 0; mb < 8; mb++) wgmma_hold(o[mb]);
        wgmma_fence();
#pragma unroll
        for (int mb = 0; mb < 8; mb++)
#pragma unroll
            for (int kk = 0; kk < 4; kk++)
                sw_mma<NQ, 1>(o[mb], sw128_mn_desc(tile + mb * W::CH + kk * 16 * 128, W::CH), sw128_desc(sP) + 2 * kk,
                              !(first_of_seq && kk == 0));
        wgmma_commit();
        wgmma_wait<0>();
#pragma unroll
        for (int mb = 0; mb < 8; mb++) wgmma_hold(o[mb]);
        if (lane == 0) mbar_arrive(&empty[s]);  // this warp is done with the stage
        if (last_of_seq) finish(seq_tiles);
        if (last_of_seq && j + 1 < n_tiles) {
            cfirst += seq_tiles;
            cb++;
            clen = a.seq_len[cb];
            ck = 0;
        } else {
            ck++;
        }
    }
#else
    __trap();  // built without sm_90a: mla_swap_usable() keeps the launcher from coming here
#endif
}

template <int NQ> static bool mla_swap_usable() {
    static const bool usable = runs_on_this_hopper((const void *)mla_swap_kernel<NQ>);
    return usable;
}

// false (nothing launched) when this kernel does not apply: the caller takes another.
template <int NQ> static bool launch_swap(const MlaArgs &args, cudaStream_t stream) {
    if (!mla_swap_usable<NQ>()) return false;
    using W = SwapShape<NQ>;
    const long R = (long)args.s_q * args.h_q, rows = (long)args.batch * R;
    if (R > NQ) return false;
    CUtensorMap q_map, kv_map;
    // Q: boxes of NQ rows (a sequence's R rows and what follows them, zeros past the last row); the
    // cache: 2^30 rows long, as the 64-row rung's (the block table names the rows read).
    if (tma_map_e4m3(&q_map, args.q, rows, 1152, NQ) || tma_map_e4m3(&kv_map, args.kv_cache, 1L << 30, 1152, SW_T))
        return false;
    MlaArgs a = args;
    a.max_tiles = tiles_of(args.max_blocks * MLA_BLOCK, SW_T);
    int device = 0, sms = 1;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    if (cudaFuncSetAttribute(mla_swap_kernel<NQ>, cudaFuncAttributeMaxDynamicSharedMemorySize, W::SMEM) != cudaSuccess)
        return false;
    mla_swap_kernel<NQ><<<sms, SW_THREADS, W::SMEM, stream>>>(q_map, kv_map, a);
    mla_combine_kernel<MLA_DL_WG><<<(unsigned)((rows + MLA_WARPS - 1) / MLA_WARPS), MLA_THREADS, 0, stream>>>(a.work, a.out, rows);
    return true;
}

#endif
