// The Hopper rung of 01_mla_decode's solution (sm_90a). The solution includes it after the ring
// kernel, the schedule and the combine (it uses MlaArgs, tiles_of, split_index, split_count, tiles_per_block, partial_at, lse_at,
// split_count_at, visible_end, score_log2, softmax_rescale, softmax_weight, split_lse and
// mla_combine_kernel from there). Its name ends in _given.cuh because the source scanner admits no
// other local header, the way solutions/finale/14-deepseek/fp8_wgmma_given.cuh holds 03's rung:
// the PTX wrappers, the driver's tensor-map type and session 10's descriptor live here.
#ifndef MLA14_WGMMA_GIVEN_CUH
#define MLA14_WGMMA_GIVEN_CUH

#include <cuda.h>              // CUtensorMap
#include <stdint.h>

#include "hopper_ptx.cuh"      // mbarriers, TMA loads, wgmma's fence/commit/wait, setmaxnreg
#include "wgmma_sw128.cuh"     // sw128_desc: a 128-byte-swizzled tile's descriptor (session 10's)

#define MLA_DL_WG 512  // the Hopper rung's latent width (DeepSeek-V3's)
// ---- the Hopper rung for many heads (sm_90a): wgmma, TMA, a producer warpgroup -------------------
// With 128 heads the kernel does ~240 FLOP per byte: compute-bound, and mma.sync tops out near
// 160 TFLOP/s. Here a block takes 64 (query token, head) rows of a sequence range, wgmma's M:
//   - warpgroup 2 (the producer) gives its registers back; one thread walks the block table and
//     asks TMA for each tile of WG_T cached rows: 9 boxes of WG_T rows x 128 bytes (64 of the 576
//     columns each), 128-byte swizzled, into a ring of stages with a full and an empty mbarrier;
//   - warpgroup 0 computes S = Q K^T (64 x WG_T, K = 576: Q and K both from shared memory, Q loaded
//     by TMA when a sequence starts), the online softmax in registers, and publishes P (BF16, in
//     shared memory, swizzled as wgmma's A wants it) with each row's rescale factor;
//   - both consumer warpgroups then do O += P V for their half of the 512 latent columns (64 x 256
//     FP32 accumulators, 128 registers a thread), V being the same tile read "MN-major": the
//     transposed-B form of wgmma, so the cached rows are never copied twice.
// Named barriers hand P from warpgroup 0 to warpgroup 1 (P_FULL) and back (P_EMPTY); the schedule,
// the splits, the work layout and the combine are the ring kernel's.
#ifndef MLA_WG_TOKENS
#define MLA_WG_TOKENS 64  // cached rows a tile: 64 (a page; 2 stages) or 32 (4 stages; slower on the H200: 348 vs 447 TFLOP/s)
#endif
#define WG_ROWS 64          // (query token, head) rows a block: wgmma's M
#define WG_CHUNKS 9         // 576 columns = 9 chunks of 64 (128 bytes, one swizzle row)
#define WG_THREADS_ALL 384  // two consumer warpgroups, then the producer
#define BAR_P_FULL 1        // named barriers (0 is __syncthreads)
#define BAR_P_EMPTY 2
#define BAR_WG0 3
#define BAR_ZERO 4

extern "C" int tma_map_e4m3(CUtensorMap *map, const void *base, long rows, int cols, int box_rows);

template <int T> struct WgShape01 {
    static constexpr int CH = T * 128;                // one 64-column chunk of a tile: T rows x 128 bytes
    static constexpr int TILE = WG_CHUNKS * CH;       // a tile: T cached rows, all 576 columns
    static constexpr int Q_BYTES = WG_CHUNKS * WG_ROWS * 128, P_BYTES = WG_ROWS * 128;  // P: 64 rows x <= 64 tokens
    static constexpr int LIMIT = 227 * 1024 - 1024;   // the opt-in limit, less the static shared memory
    static constexpr int STAGES = (LIMIT - 1024 - Q_BYTES - P_BYTES) / TILE;
    static constexpr int SMEM = 1024 + Q_BYTES + P_BYTES + STAGES * TILE;  // + 1024: the swizzle's alignment
    static_assert(T == 32 || T == 64, "a tile is half a page or a page");
    static_assert(STAGES >= 2, "one tile landing while one is read");
};

__device__ __forceinline__ void named_sync(int id, int threads) {
    asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(threads) : "memory");
}
__device__ __forceinline__ void named_arrive(int id, int threads) {
    asm volatile("bar.arrive %0, %1;" ::"r"(id), "r"(threads) : "memory");
}

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define MLA_WGMMA_DEVICE 1
// D (64 x 32, FP32, 16 registers a thread) = A * B^T (+ D), both K-major from shared memory.
__device__ __forceinline__ void wgmma_m64n32k16(float (&d)[16], uint64_t desc_a, uint64_t desc_b, int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %18, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {"
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15"
        "}, %16, %17, p, 1, 1, 0, 0;\n}\n"
        : GR_D8(d, 0), GR_D8(d, 8)
        : "l"(desc_a), "l"(desc_b), "r"(accumulate));
}
// D (64 x 256) += A * B, A K-major (P), B MN-major (V: rows are tokens = K, columns contiguous =
// N): the last immediate (transpose B) is 1.
__device__ __forceinline__ void wgmma_m64n256k16_bmn(float (&d)[128], uint64_t desc_a, uint64_t desc_b) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {"
        GR_WGMMA_R128
        "}, %128, %129, p, 1, 1, 0, 1;\n}\n"
        : GR_WGMMA_D128(d)
        : "l"(desc_a), "l"(desc_b), "r"(1));
}
template <int T> __device__ __forceinline__ void wgmma_scores(float (&d)[T / 2], uint64_t a, uint64_t b, int acc);
template <> __device__ __forceinline__ void wgmma_scores<64>(float (&d)[32], uint64_t a, uint64_t b, int acc) {
    wgmma_m64n64k16(d, a, b, acc);
}
template <> __device__ __forceinline__ void wgmma_scores<32>(float (&d)[16], uint64_t a, uint64_t b, int acc) {
    wgmma_m64n32k16(d, a, b, acc);
}
#endif

// The descriptor of an MN-major, 128-byte-swizzled operand (V for P V): 8-row groups along K
// (tokens) 1024 bytes apart (stride byte offset), 64-column chunks along N `chunk` bytes apart
// (leading byte offset).
__device__ __forceinline__ uint64_t sw128_mn_desc(const void *p, uint32_t chunk) {
    const uint32_t lbo = chunk, sbo = 1024;
    uint64_t desc = (uint64_t)((smem_addr(p) & 0x3FFFF) >> 4);
    desc |= (uint64_t)((lbo >> 4) & 0x3FFF) << 16;
    desc |= (uint64_t)((sbo >> 4) & 0x3FFF) << 32;
    desc |= (uint64_t)1 << 62;
    return desc;
}
// Byte offset of 16-byte piece `piece` of row `row` in a 128-byte-swizzled tile (rows of 128 bytes).
__host__ __device__ __forceinline__ int sw128_at(int row, int piece) { return row * 128 + ((piece ^ (row % 8)) * 16); }

__device__ __forceinline__ int warp_sum(int v) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

// The ring kernel's schedule (tiles of T tokens laid end to end, per_block of them a block), found by
// one warp while the others set up: every lane gets the tiles in all, the block's share, and the
// sequence b0, whose tiles start at first0, that holds the block's first tile (b0 = first0 = 0 for
// a spare block). Both Hopper kernels (this rung and mla_swap_given.cuh's) plan with it.
struct WarpSchedule {
    int total, per_block, b0, first0;
};
__device__ inline WarpSchedule warp_schedule(const MlaArgs &a, int T) {
    const int lane = threadIdx.x % 32;
    int total = 0;
    for (int base = 0; base < a.batch; base += 32) {
        const int b = base + lane;
        total += warp_sum(b < a.batch ? tiles_of(a.seq_len[b], T) : 0);
    }
    const int per_block = tiles_per_block(total, gridDim.x, a.max_tiles), begin = blockIdx.x * per_block;
    int b0 = 0, first0 = 0;
    for (int base = 0, carry = 0; base < a.batch && carry <= begin && begin < total; base += 32) {
        const int b = base + lane, n = b < a.batch ? tiles_of(a.seq_len[b], T) : 0;
        int inc = n;  // the lanes' inclusive scan of n
#pragma unroll
        for (int off = 1; off < 32; off <<= 1) {
            const int y = __shfl_up_sync(0xffffffffu, inc, off);
            if (lane >= off) inc += y;
        }
        const int first = carry + inc - n;
        const unsigned hit = __ballot_sync(0xffffffffu, n > 0 && first <= begin && begin < first + n);
        if (hit) {
            const int src = __ffs(hit) - 1;
            b0 = __shfl_sync(0xffffffffu, b, src);
            first0 = __shfl_sync(0xffffffffu, first, src);
        }
        carry += __shfl_sync(0xffffffffu, inc, 31);
    }
    return {total, per_block, b0, first0};
}

template <int T>
__global__ void __launch_bounds__(WG_THREADS_ALL, 1)
mla_wgmma_kernel(const __grid_constant__ CUtensorMap q_map, const __grid_constant__ CUtensorMap kv_map, const MlaArgs a) {
#ifdef MLA_WGMMA_DEVICE
    using W = WgShape01<T>;
    constexpr int STAGES = W::STAGES, NT = T / 8;  // NT: the score's n-groups of 8 tokens
    extern __shared__ uint8_t smem_raw[];
    uint8_t *smem = smem_raw + ((1024 - (smem_addr(smem_raw) & 1023)) & 1023);
    uint8_t *sQ = smem, *sP = smem + W::Q_BYTES, *sKV = smem + W::Q_BYTES + W::P_BYTES;
    __shared__ uint64_t full[STAGES], empty[STAGES], q_bar;
    __shared__ float alpha_s[WG_ROWS], l_s[WG_ROWS];
    __shared__ int sched[4];

    const int wg = threadIdx.x / 128, tid = threadIdx.x % 128, lane = threadIdx.x % 32, warp = tid / 32;
    const int R = a.s_q * a.h_q, r0 = blockIdx.y * WG_ROWS;
    const long rows_all = (long)a.batch * R;

    // 1. The schedule (the ring kernel's, tiles of T): warp 0 sums the tiles and finds the
    //    sequence b0 (its tiles starting at first0) that holds this block's first tile.
    if (threadIdx.x < 32) {
        const WarpSchedule ws = warp_schedule(a, T);
        if (lane == 0) {
            sched[0] = ws.total, sched[1] = ws.per_block, sched[2] = ws.b0, sched[3] = ws.first0;
            for (int s = 0; s < STAGES; s++) {
                mbar_init(&full[s], 1);
                mbar_init(&empty[s], 8);  // every consumer warp
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

    if (wg == 2) {  // 2. the producer: one thread, the tiles in order into the ring
        regs_release<40>();
        if (tid == 0) {
            int lb = b0, llen = a.seq_len[b0], lk = begin - first0;
            for (int j = 0; j < n_tiles; j++) {
                const int s = j % STAGES, token = lk * T;
                const int row = a.block_table[(size_t)lb * a.max_blocks + token / MLA_BLOCK] * MLA_BLOCK + token % MLA_BLOCK;
                mbar_wait(&empty[s], ((j / STAGES) & 1) ^ 1);
                mbar_arrive_expect_tx(&full[s], W::TILE);
#pragma unroll
                for (int c = 0; c < WG_CHUNKS; c++) tma_load(sKV + s * W::TILE + c * W::CH, &kv_map, &full[s], row, c * 128);
                if (++lk == tiles_of(llen, T) && j + 1 < n_tiles) {
                    lb++;
                    llen = a.seq_len[lb];
                    lk = 0;
                }
            }
        }
        return;
    }

    // 3. The consumers. This thread's rows of the block (the accumulator layout): lo and lo + 8.
    regs_claim<232>();
    const int r_lo = 16 * warp + lane / 4, r_hi = r_lo + 8, t = lane % 4;
    const int col0 = wg * (MLA_DL_WG / 2);  // this warpgroup's 256 output columns
    int cb = b0, clen = a.seq_len[b0], cfirst = first0, ck = begin - first0;
    float o[128];
    float m_lo = -INFINITY, m_hi = -INFINITY, l_lo = 0.0f, l_hi = 0.0f;
    int end_lo = 0, end_hi = 0;
    uint32_t q_phase = 0;
    if (wg == 1) named_arrive(BAR_P_EMPTY, 256);  // P's buffer starts free

    auto finish = [&](int seq_tiles) {
        const int split = split_index(blockIdx.x, cfirst, per_block), count = split_count(cfirst, seq_tiles, per_block);
        const bool direct = count == 1;
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int rr = r0 + (h ? r_hi : r_lo);
            if (rr >= R) continue;
            const long row = (long)cb * R + rr;
            const float l = h ? l_hi : l_lo, inv = l > 0.0f ? 1.0f / l : 0.0f;
#pragma unroll
            for (int n = 0; n < 32; n++) {
                const int col = col0 + 8 * n + 2 * t;
                const float v0 = o[4 * n + 2 * h] * inv, v1 = o[4 * n + 2 * h + 1] * inv;
                if (direct) *reinterpret_cast<uint32_t *>(a.out + row * MLA_DL_WG + col) = pack_bf16x2(v0, v1);
                else *reinterpret_cast<float2 *>(a.work + partial_at(row, split, MLA_DL_WG) + col) = make_float2(v0, v1);
            }
            if (wg == 0 && t == 0) {
                if (!direct) a.work[lse_at(row, split, rows_all, MLA_DL_WG)] = split_lse(h ? m_hi : m_lo, l);
                if (split == 0) a.work[split_count_at(row, rows_all, MLA_DL_WG)] = (float)count;
            }
        }
    };

#pragma unroll 1
    for (int j = 0; j < n_tiles; j++) {
        const int s = j % STAGES, seq_tiles = tiles_of(clen, T), valid = clen - ck * T;
        const bool first_of_seq = j == 0 || ck == 0, last_of_seq = ck == seq_tiles - 1 || j == n_tiles - 1;
        uint8_t *tile = sKV + s * W::TILE;
        mbar_wait(&full[s], (j / STAGES) & 1);
        if (valid < T) {  // past the sequence's end a slot may hold anything: zeros keep 0 * NaN out of P V
            const int per_chunk = (T - valid) * 8;
            for (int i = threadIdx.x; i < WG_CHUNKS * per_chunk; i += 256)
                *reinterpret_cast<uint4 *>(tile + (i / per_chunk) * W::CH + valid * 128 + (i % per_chunk) * 16) =
                    make_uint4(0, 0, 0, 0);
            fence_async_shared();
            named_sync(BAR_ZERO, 256);
        }
        if (first_of_seq) {
#pragma unroll
            for (int i = 0; i < 128; i++) o[i] = 0.0f;
            m_lo = m_hi = -INFINITY;
            l_lo = l_hi = 0.0f;
            end_lo = r0 + r_lo < R ? visible_end(clen, a.s_q, (r0 + r_lo) / a.h_q) : clen;
            end_hi = r0 + r_hi < R ? visible_end(clen, a.s_q, (r0 + r_hi) / a.h_q) : clen;
        }
        float alpha_lo, alpha_hi;
        if (wg == 0) {
            if (first_of_seq) {  // the sequence's Q rows (the last S that read sQ has completed)
                if (tid == 0) {
                    mbar_arrive_expect_tx(&q_bar, W::Q_BYTES);
#pragma unroll
                    for (int c = 0; c < WG_CHUNKS; c++) tma_load(sQ + c * WG_ROWS * 128, &q_map, &q_bar, cb * R + r0, c * 128);
                }
                mbar_wait(&q_bar, q_phase);
                q_phase ^= 1;
            }
            // S = Q K^T: 9 chunks x 4 k-steps of 16.
            float sc[T / 2];
            wgmma_fence();
#pragma unroll
            for (int c = 0; c < WG_CHUNKS; c++)
#pragma unroll
                for (int k = 0; k < 4; k++)
                    wgmma_scores<T>(sc, sw128_desc(sQ + c * WG_ROWS * 128) + 2 * k, sw128_desc(tile + c * W::CH) + 2 * k,
                                    (c | k) != 0);
            wgmma_commit();
            wgmma_wait<0>();
            wgmma_hold(sc);
            // The online softmax of rows lo (sc[4n], sc[4n + 1]) and hi (sc[4n + 2], sc[4n + 3]),
            // tokens 8n + 2t, + 1 of the tile; the 4 lanes of a row meet by shuffles.
            float mx_lo = -INFINITY, mx_hi = -INFINITY;
#pragma unroll
            for (int n = 0; n < NT; n++)
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    const int tok = ck * T + 8 * n + 2 * t + e;
                    sc[4 * n + e] = score_log2(sc[4 * n + e], a.scale_log2, tok, end_lo);
                    sc[4 * n + 2 + e] = score_log2(sc[4 * n + 2 + e], a.scale_log2, tok, end_hi);
                    mx_lo = fmaxf(mx_lo, sc[4 * n + e]);
                    mx_hi = fmaxf(mx_hi, sc[4 * n + 2 + e]);
                }
#pragma unroll
            for (int off = 1; off < 4; off <<= 1) {
                mx_lo = fmaxf(mx_lo, __shfl_xor_sync(0xffffffffu, mx_lo, off));
                mx_hi = fmaxf(mx_hi, __shfl_xor_sync(0xffffffffu, mx_hi, off));
            }
            alpha_lo = softmax_rescale(m_lo, mx_lo);
            alpha_hi = softmax_rescale(m_hi, mx_hi);
            float sum_lo = 0.0f, sum_hi = 0.0f;
#pragma unroll
            for (int n = 0; n < NT; n++)
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    sc[4 * n + e] = softmax_weight(sc[4 * n + e], m_lo);
                    sc[4 * n + 2 + e] = softmax_weight(sc[4 * n + 2 + e], m_hi);
                    sum_lo += sc[4 * n + e];
                    sum_hi += sc[4 * n + 2 + e];
                }
#pragma unroll
            for (int off = 1; off < 4; off <<= 1) {
                sum_lo += __shfl_xor_sync(0xffffffffu, sum_lo, off);
                sum_hi += __shfl_xor_sync(0xffffffffu, sum_hi, off);
            }
            l_lo = l_lo * alpha_lo + sum_lo;
            l_hi = l_hi * alpha_hi + sum_hi;
            // P into shared memory (A of P V, K-major, swizzled), once warpgroup 1 is done with the last.
            named_sync(BAR_P_EMPTY, 256);
#pragma unroll
            for (int n = 0; n < NT; n++) {
                *reinterpret_cast<uint32_t *>(sP + sw128_at(r_lo, n) + 4 * t) = pack_bf16x2(sc[4 * n], sc[4 * n + 1]);
                *reinterpret_cast<uint32_t *>(sP + sw128_at(r_hi, n) + 4 * t) = pack_bf16x2(sc[4 * n + 2], sc[4 * n + 3]);
            }
            if (t == 0) {
                alpha_s[r_lo] = alpha_lo, alpha_s[r_hi] = alpha_hi;
                l_s[r_lo] = l_lo, l_s[r_hi] = l_hi;
            }
            fence_async_shared();          // P's generic stores, before wgmma (the async proxy) reads them
            named_sync(BAR_WG0, 128);      // all of warpgroup 0's P is in (its own P V reads every row)
            named_arrive(BAR_P_FULL, 256);  // and warpgroup 1 may read it
        } else {
            named_sync(BAR_P_FULL, 256);
            alpha_lo = alpha_s[r_lo], alpha_hi = alpha_s[r_hi];
            if (last_of_seq) l_lo = l_s[r_lo], l_hi = l_s[r_hi];
        }
        // 4. O = alpha O + P V over this warpgroup's 256 columns (4 chunks of V).
#pragma unroll
        for (int n = 0; n < 32; n++) {
            o[4 * n] *= alpha_lo;
            o[4 * n + 1] *= alpha_lo;
            o[4 * n + 2] *= alpha_hi;
            o[4 * n + 3] *= alpha_hi;
        }
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < T / 16; kk++)
            wgmma_m64n256k16_bmn(o, sw128_desc(sP) + 2 * kk, sw128_mn_desc(tile + 4 * wg * W::CH + kk * 16 * 128, W::CH));
        wgmma_commit();
        wgmma_wait<0>();
        wgmma_hold(o);
        if (lane == 0) mbar_arrive(&empty[s]);  // this warp is done with the stage
        if (wg == 1 && j + 1 < n_tiles) named_arrive(BAR_P_EMPTY, 256);  // and with P (not after the last: no one waits)
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
    __trap();  // built without sm_90a: mla_wgmma_usable() keeps the launcher from coming here
#endif
}

// A Hopper kernel runs where the GPU is compute capability 9.0 and the kernel was built for sm_90a
// (PTX and machine code both of 9.0); the swapped kernel (mla_swap_given.cuh) asks the same.
static bool runs_on_this_hopper(const void *kernel) {
    int dev = 0, major = 0, minor = 0;
    cudaFuncAttributes fa;
    return cudaGetDevice(&dev) == cudaSuccess &&
           cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) == cudaSuccess &&
           cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) == cudaSuccess && major == 9 &&
           minor == 0 && cudaFuncGetAttributes(&fa, kernel) == cudaSuccess && fa.ptxVersion == 90 &&
           fa.binaryVersion == 90;
}

template <int T> static bool mla_wgmma_usable() {
    static const bool usable = runs_on_this_hopper((const void *)mla_wgmma_kernel<T>);
    return usable;
}

// false (nothing launched) when the Hopper rung does not apply: the caller takes the ring kernel.
template <int T> static bool launch_wgmma(const MlaArgs &args, cudaStream_t stream) {
    if (!mla_wgmma_usable<T>()) return false;
    using W = WgShape01<T>;
    const long R = (long)args.s_q * args.h_q, rows = (long)args.batch * R;
    CUtensorMap q_map, kv_map;
    // The cache's size is not passed: its map is 2^30 rows long (the block table names the rows
    // read; TMA needs only an upper bound). Q's rows past the last arrive as zeros.
    if (tma_map_e4m3(&q_map, args.q, rows, 1152, WG_ROWS) || tma_map_e4m3(&kv_map, args.kv_cache, 1L << 30, 1152, T))
        return false;
    MlaArgs a = args;
    a.max_tiles = tiles_of(args.max_blocks * MLA_BLOCK, T);
    int device = 0, sms = 1;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    if (cudaFuncSetAttribute(mla_wgmma_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, W::SMEM) != cudaSuccess)
        return false;
    const int groups = (int)((R + WG_ROWS - 1) / WG_ROWS), chunks = max(1, sms / groups);
    mla_wgmma_kernel<T><<<dim3(chunks, groups), WG_THREADS_ALL, W::SMEM, stream>>>(q_map, kv_map, a);
    mla_combine_kernel<MLA_DL_WG><<<(unsigned)((rows + MLA_WARPS - 1) / MLA_WARPS), MLA_THREADS, 0, stream>>>(a.work, a.out, rows);
    return true;
}

#endif
