// Session 14: what the MLA decode exercise (01) is given, shared by the skeleton and its solution.
// The tensor-core wrappers (ldmatrix, mma.sync, cp.async) are grader/mma_ptx.cuh's, as in sessions
// 06 and 09; this adds the MLA kernel's sizes, where each lane points ldmatrix, the copies into
// shared memory, how many splits to make, and the layout of the work buffer.
#ifndef SESSION14_MLA_GIVEN_CUH
#define SESSION14_MLA_GIVEN_CUH

#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "exercises.h"
#include "mma_ptx.cuh"

#define LOG2E 1.4426950408889634f

#define MLA_WARPS 4
#define MLA_THREADS (MLA_WARPS * 32)
#define HEAD_ROWS 16                                    // rows of a block: (query token, head) pairs, mma's M
#define TILE_TOKENS (8 * MLA_WARPS)                     // cached rows a step: 8 per warp, mma's N for the scores
#define TILES_PER_BLOCK (MLA_BLOCK / TILE_TOKENS)       // a cache block (page) is read as 2 tiles
#define MLA_STAGES 2                                    // tiles in shared memory: one read, one landing
#define P_ROW (TILE_TOKENS + 8)                         // the weights' row in shared memory, padded

// 2^x: one MUFU.EX2 on the GPU, exp2f on the host (the CPU tests run the same maths). 2^-inf = 0.
__host__ __device__ __forceinline__ float mla_exp2(float x) {
#ifdef __CUDA_ARCH__
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
#else
    return exp2f(x);
#endif
}

// Two 8 x 8 matrices (ldmatrix_x4's first half): lanes 0-7 address the rows of matrix 0, lanes 8-15
// those of matrix 1; the other lanes' addresses are not read.
__device__ __forceinline__ void ldmatrix_x2(uint32_t r[2], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(addr));
}

// Sizes of the kernel for a latent width DL and a RoPE width DR. A cached row is D = DL + DR BF16
// values; in shared memory it takes ROW: 16 bytes more, so that the 8 rows an ldmatrix reads start
// in 8 different bank groups (1152 bytes is a multiple of 128: without the pad all 8 would collide).
template <int DL, int DR> struct MlaDims {
    static constexpr int D = DL + DR;
    static constexpr int ROW = D + 8;
    static constexpr int K_PAIRS = D / 32;              // score k-steps of 16, taken two at a time
    static constexpr bool K_ODD = D % 32 != 0;          // and a last single one (80 = 2 * 32 + 16)
    static constexpr int COLS_PER_WARP = DL / MLA_WARPS;    // each warp owns these output columns
    static constexpr int N_TILES = COLS_PER_WARP / 8;        // of 8 (mma's N for P V)
    // Shared memory: Q's 16 rows, the tiles, the weights P, and each warp's row maxima and sums.
    static constexpr int Q_BYTES = HEAD_ROWS * ROW * 2;
    static constexpr int TILE_BYTES = TILE_TOKENS * ROW * 2;
    static constexpr int P_BYTES = HEAD_ROWS * P_ROW * 2;
    static constexpr int STAT_BYTES = 2 * MLA_WARPS * HEAD_ROWS * 4;
    static constexpr int SMEM = Q_BYTES + MLA_STAGES * TILE_BYTES + P_BYTES + STAT_BYTES;
    static_assert(D % 16 == 0 && N_TILES % 2 == 0, "k-steps of 16, output columns in pairs of n-tiles");
};

// ---- where each lane points ldmatrix (g = lane / 4 and t = lane % 4 are mma_ptx.cuh's) ---------
// A 16 x 16 A fragment at column k0 of a row-major tile (Q, or P), one ldmatrix_x4: matrix j holds
// rows 8 (j % 2) .., columns k0 + 8 (j / 2) ..; lane l gives row l % 16 of column k0 + 8 (l / 16).
__host__ __device__ __forceinline__ int a_frag_row(int lane) { return lane % 16; }
__host__ __device__ __forceinline__ int a_frag_col(int lane, int k0) { return k0 + 8 * (lane / 16); }
// B fragments of the scores S = Q K^T, from cached rows [n0, n0 + 8) (row-major: token, element):
// ldmatrix_x4 without .trans gives b[0], b[1] of k-step k0 and b[0], b[1] of k-step k0 + 16 (x2:
// the first two). Lane l gives token n0 + l % 8 at element k0 + 8 (l / 8).
__host__ __device__ __forceinline__ int kb_frag_row(int lane, int n0) { return n0 + lane % 8; }
__host__ __device__ __forceinline__ int kb_frag_col(int lane, int k0) { return k0 + 8 * (lane / 8); }
// B fragments of P V, V = the latent part of the same cached rows: tokens [k0, k0 + 16) by output
// columns [n0, n0 + 16), one ldmatrix_x4_trans: b[0], b[1] of n-tile n0, then those of n0 + 8.
// Lane l gives token k0 + l % 16 at column n0 + 8 (l / 16).
__host__ __device__ __forceinline__ int vb_frag_row(int lane, int k0) { return k0 + lane % 16; }
__host__ __device__ __forceinline__ int vb_frag_col(int lane, int n0) { return n0 + 8 * (lane / 16); }

// Rows [0, ROWS) of a shared tile (stride ROW elements) from `src` (consecutive rows of D elements
// in global memory), by cp.async, all MLA_THREADS threads sharing the 16-byte copies. Rows from
// `valid` on are zero-filled and not read: past a sequence's end a slot may hold anything, and a
// zero there keeps 0 * garbage out of P V. Issued only: commit, wait and __syncthreads after.
template <int D, int ROW, int ROWS>
__device__ __forceinline__ void stage_rows(__nv_bfloat16 *tile, const __nv_bfloat16 *src, int valid) {
    constexpr int CHUNKS = D / 8;
    for (int i = threadIdx.x; i < ROWS * CHUNKS; i += MLA_THREADS) {
        const int r = i / CHUNKS, c = i % CHUNKS;
        const bool ok = r < valid;
        cp_async_16(smem_u32(tile + r * ROW + c * 8), src + (size_t)(ok ? r : 0) * D + c * 8, ok);
    }
}

// ---- the split-K of flash-decoding (session 12's 05) -------------------------------------------
// work: the splits' normalised outputs, [row][split][DL] floats (row: b * s_q * h_q + (i * h_q + h)),
// then their log-sum-exps (log2 units), [row][split].
__host__ __device__ __forceinline__ size_t partial_at(long row, int split, int dl) {
    return ((size_t)row * MLA_SPLIT_MAX + split) * dl;
}
__host__ __device__ __forceinline__ size_t lse_at(long row, int split, long rows, int dl) {
    return (size_t)rows * MLA_SPLIT_MAX * dl + (size_t)row * MLA_SPLIT_MAX + split;
}

// Pages (cache blocks) per split: enough blocks of the grid to fill every SM once (as many a SM as
// fit by shared memory), at most MLA_SPLIT_MAX splits and never an empty one.
static inline int mla_pages_per_split(long blocks, int max_blocks, int smem) {
    int device = 0, sms = 1, smem_per_sm = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    cudaDeviceGetAttribute(&smem_per_sm, cudaDevAttrMaxSharedMemoryPerMultiprocessor, device);
    int per_sm = smem_per_sm / (smem + 1024);  // the runtime reserves 1 KiB a block
    per_sm = per_sm < 1 ? 1 : per_sm;
    const long want = (long)sms * per_sm;
    int splits = (int)((want + blocks - 1) / blocks);
    splits = splits < 1 ? 1 : splits > MLA_SPLIT_MAX ? MLA_SPLIT_MAX : splits;
    splits = splits > max_blocks ? max_blocks : splits;
    return (max_blocks + splits - 1) / splits;
}

static inline bool mla_shape_supported(int B, int s_q, int h_q, int d_latent, int d_rope, int max_blocks) {
    const bool dims = (d_latent == 64 && d_rope == 16) || (d_latent == 512 && d_rope == 64);
    if (dims && B >= 1 && s_q >= 1 && h_q >= 1 && max_blocks >= 1) return true;
    fprintf(stderr, "mla_decode: d_latent %d / d_rope %d, B %d, s_q %d, h_q %d, max_blocks %d is not supported "
            "(64/16 or 512/64, all counts >= 1)\n", d_latent, d_rope, B, s_q, h_q, max_blocks);
    return false;
}

// launch<DL, DR>(args...) for the widths asked for: each is its own compiled kernel.
#define MLA_DISPATCH(d_latent, launch, ...) \
    ((d_latent) == 64 ? launch<64, 16>(__VA_ARGS__) : launch<512, 64>(__VA_ARGS__))

#endif
