// Session 14, exercise 3 (solution): DeepGEMM's FP8 grouped GEMM, block-scaled, on mma.sync.
//
// An MoE layer multiplies each expert's tokens by that expert's weights: G GEMMs of one shape
// (N x K weights) but different row counts, in one launch. Both operands are e4m3 bytes with FP32
// scales, one per 128 values of a row of A and one per 128 x 128 tile of B (exercises.h).
//
// A block computes a 64 x 64 tile of D: 64 rows of one group (a tile never mixes groups, which
// use different weights) by 64 columns. Its 4 warps own 32 x 32 each (2 x 4 tensor-core tiles of
// 16 x 8). The block walks K one scale block (128 values) at a time, double-buffered by cp.async:
//   1. the products of the block go into FP32 partial sums, 4 k32 steps: mma.sync e4m3 m16n8k32
//      on sm_89 and later; before, each step's bytes widened to BF16 (exact) for two m16n8k16;
//   2. the partial sums are promoted: acc += sa[row][kb] * sb[g][n / 128][kb] * partial. Once a
//      block, as DeepGEMM does: the scales are constant over the block, and FP32 additions keep
//      the accuracy that the FP8 tensor cores' own accumulation (about 14 bits) would lose over K.
// Which rows a tile owns is the only difference between the layouts: contiguous, the tiles of
// group g start at group_offset[g] and end at group_offset[g + 1]; masked, group g's tiles start
// at g * M_max and end at masked_m[g], known only on the device, so the grid covers M_max rows
// of every group and tiles past the count exit. A faster Hopper path (TMA, wgmma, a producer
// warp) keeps this tile loop and changes what runs inside a block: fp8_wgmma_given.cuh, taken on
// an sm_90a build on a Hopper GPU. Masked layouts of at most
// DECODE_ROWS rows a group (decode) go to a GEMV-shaped kernel instead (fp8_decode_given.cuh:
// the weights on the m16 side of the FP8 tensor-core product, the few tokens on the n8 side).
#include <stdint.h>
#include <stdio.h>

#include "exercises.h"
#include "fp8_decode_given.cuh"  // the masked layout at decode sizes, beside this file (solutions only)
#include "fp8_gemm_given.cuh"
#include "fp8_wgmma_given.cuh"  // the Hopper path: TMA and wgmma, beside this file (solutions only)

#define TILE_M 64        // rows of D a block computes
#define TILE_N 64        // columns of D a block computes (divides 128: one sb column a block)
#define SCALE_BLOCK 128  // values of K that share one scale: a stage of the copy ring
#define ROW_BYTES 144    // a stage's row in shared memory: 128 bytes and 16 of padding, so that
                         // the 8 rows one fragment load touches fall in different banks
#define THREADS 128      // 4 warps, 2 x 2 over the tile

// The rows of D a tile owns: rows row0 .. row0 + rows - 1 (global row indices of A, sa and D) of
// group `group`; rows <= 0: the tile has nothing to do.
struct TileRows {
    int group, row0, rows;
};

// Contiguous: the tiles of the groups in order, ceil(size / tile_m) a group; tile `tile` of them.
__host__ __device__ inline TileRows contiguous_tile(const int *group_offset, int G, int tile, int tile_m = TILE_M) {
    for (int g = 0; g < G; g++) {
        const int begin = group_offset[g], size = group_offset[g + 1] - begin;
        const int tiles = (size + tile_m - 1) / tile_m;
        if (tile < tiles) return TileRows{g, begin + tile * tile_m, min(tile_m, size - tile * tile_m)};
        tile -= tiles;
    }
    return TileRows{0, 0, 0};   // past the last group's tiles: the grid's spare blocks
}

// Masked: ceil(M_max / tile_m) tiles a group; only the group's first masked_m[g] rows count.
__host__ __device__ inline TileRows masked_tile(const int *masked_m, int M_max, int tile, int tile_m = TILE_M) {
    const int per_group = (M_max + tile_m - 1) / tile_m, g = tile / per_group, first = (tile % per_group) * tile_m;
    return TileRows{g, g * M_max + first, min(tile_m, masked_m[g] - first)};
}

// The same tiles, WG_BM rows each, for the Hopper path (fp8_wgmma_given.cuh).
struct ContiguousWgTiles {
    const int *group_offset;
    int G;
    __device__ WgTile operator()(int tile) const {
        const TileRows t = contiguous_tile(group_offset, G, tile, WG_BM);
        return WgTile{t.group, t.row0, t.rows};
    }
};
struct MaskedWgTiles {
    const int *masked_m;
    int M_max;
    __device__ WgTile operator()(int tile) const {
        const TileRows t = masked_tile(masked_m, M_max, tile, WG_BM);
        return WgTile{t.group, t.row0, t.rows};
    }
};

// Where 16-byte chunk i (0 .. 8 * 64 - 1) of a stage comes from: row i / 8, bytes 16 (i % 8) ..
// of the K block starting at k0, of a 64-row slab starting at `base` (rows of K bytes). Rows past
// `rows` and bytes past K are not read (`valid` false: cp.async writes zeros, which add nothing).
__host__ __device__ inline const uint8_t *chunk_source(const uint8_t *base, int rows, int K, int k0, int i,
                                                       bool &valid) {
    const int row = i / 8, col = k0 + 16 * (i % 8);
    valid = row < rows && col < K;
    return valid ? base + (size_t)row * K + col : base;
}

__host__ __device__ inline uint32_t load_word(const uint8_t *p) {
    return *reinterpret_cast<const uint32_t *>(p);  // 4-byte aligned: a single shared-memory load
}

// One warp's products over one K block held in shared memory (As: 64 rows of A, Bs: 64 rows of B,
// ROW_BYTES apart), into part[i][j]: m16 tile i (rows 32 wm + 16 i ..), n8 tile j (columns
// 32 wn + 8 j ..). k_len: the block's values inside K (steps wholly past it are skipped).
template <class Mma32>
__host__ __device__ inline void warp_block_product(const uint8_t *As, const uint8_t *Bs, int warp, int lane,
                                                   int k_len, float part[2][4][4], const Mma32 &mma) {
    const int wm = warp / 2, wn = warp % 2, g = lane / 4, t = lane % 4;
    for (int c = 0; c < SCALE_BLOCK / 32; c++) {
        if (32 * c >= k_len) break;
        const int k = 32 * c + 4 * t;
        uint32_t a[2][4], b[4][2];
        for (int i = 0; i < 2; i++) {
            const uint8_t *row = As + (32 * wm + 16 * i + g) * ROW_BYTES + k;
            a[i][0] = load_word(row);
            a[i][1] = load_word(row + 8 * ROW_BYTES);
            a[i][2] = load_word(row + 16);
            a[i][3] = load_word(row + 8 * ROW_BYTES + 16);
        }
        for (int j = 0; j < 4; j++) {
            const uint8_t *col = Bs + (32 * wn + 8 * j + g) * ROW_BYTES + k;
            b[j][0] = load_word(col);
            b[j][1] = load_word(col + 16);
        }
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 4; j++) mma(part[i][j], a[i], b[j]);
    }
}

// The promotion of a K block: acc += sa * sb * part, and part cleared for the next block.
// scale_a[2 i + h]: the row scale of the lane's row 32 wm + 16 i + g + 8 h (part[i][j][2 h ..]).
__host__ __device__ inline void promote_block(float acc[2][4][4], float part[2][4][4], const float scale_a[4],
                                              float scale_b) {
    for (int i = 0; i < 2; i++)
        for (int h = 0; h < 2; h++) {
            const float s = scale_a[2 * i + h] * scale_b;
            for (int j = 0; j < 4; j++)
                for (int e = 0; e < 2; e++) {
                    acc[i][j][2 * h + e] += s * part[i][j][2 * h + e];
                    part[i][j][2 * h + e] = 0.0f;
                }
        }
}

// The lane's elements of the warp's 32 x 32 in BF16: rows inside the tile's count, columns < N.
__host__ __device__ inline void store_tile(uint16_t *D, int N, TileRows tile, int n0, int warp, int lane,
                                           const float acc[2][4][4]) {
    const int wm = warp / 2, wn = warp % 2, g = lane / 4, t = lane % 4;
    for (int i = 0; i < 2; i++)
        for (int h = 0; h < 2; h++) {
            const int r = 32 * wm + 16 * i + 8 * h + g;
            if (r >= tile.rows) continue;
            for (int j = 0; j < 4; j++)
                for (int e = 0; e < 2; e++) {
                    const int n = n0 + 32 * wn + 8 * j + 2 * t + e;
                    if (n < N) D[(size_t)(tile.row0 + r) * N + n] = float_to_bf16(acc[i][j][2 * h + e]);
                }
        }
}

template <bool MASKED>
__global__ void __launch_bounds__(THREADS) fp8_grouped_gemm_kernel(const uint8_t *__restrict__ A,
                                                                   const float *__restrict__ sa,
                                                                   const uint8_t *__restrict__ B,
                                                                   const float *__restrict__ sb,
                                                                   uint16_t *__restrict__ D,
                                                                   const int *__restrict__ group_rows, int G,
                                                                   int M_max, int N, int K) {
    __shared__ __align__(16) uint8_t As[2][TILE_M * ROW_BYTES], Bs[2][TILE_N * ROW_BYTES];
    const TileRows tile = MASKED ? masked_tile(group_rows, M_max, blockIdx.x) : contiguous_tile(group_rows, G, blockIdx.x);
    if (tile.rows <= 0) return;   // the whole block: no barrier is left waiting
    const int n0 = blockIdx.y * TILE_N, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int KB = (K + SCALE_BLOCK - 1) / SCALE_BLOCK, NB = (N + SCALE_BLOCK - 1) / SCALE_BLOCK;
    const uint8_t *a_slab = A + (size_t)tile.row0 * K, *b_slab = B + ((size_t)tile.group * N + n0) * K;
    const float *sb_tile = sb + ((size_t)tile.group * NB + n0 / SCALE_BLOCK) * KB;
    // The lane's 4 rows and their scales' rows (a row past the tile's count reads row0's: dropped).
    const float *sa_row[4];
    for (int r = 0; r < 4; r++) {
        const int row = 32 * (warp / 2) + 16 * (r / 2) + 8 * (r % 2) + lane / 4;
        sa_row[r] = sa + (size_t)(tile.row0 + (row < tile.rows ? row : 0)) * KB;
    }

    auto load_stage = [&](int stage, int kb) {
        for (int i = threadIdx.x; i < TILE_M * 8; i += THREADS) {
            bool valid;
            const uint8_t *src = chunk_source(a_slab, tile.rows, K, kb * SCALE_BLOCK, i, valid);
            cp_async_16(smem_u32(&As[stage][(i / 8) * ROW_BYTES + 16 * (i % 8)]), src, valid);
            src = chunk_source(b_slab, N - n0, K, kb * SCALE_BLOCK, i, valid);
            cp_async_16(smem_u32(&Bs[stage][(i / 8) * ROW_BYTES + 16 * (i % 8)]), src, valid);
        }
        cp_async_commit();
    };

    float acc[2][4][4] = {}, part[2][4][4] = {};
    load_stage(0, 0);
    for (int kb = 0; kb < KB; kb++) {
        if (kb + 1 < KB) {
            load_stage((kb + 1) % 2, kb + 1);   // into the stage read one step ago (freed by the last barrier)
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();   // block kb is in shared memory for every thread
        float scale_a[4];
        for (int r = 0; r < 4; r++) scale_a[r] = __ldg(sa_row[r] + kb);
        const float scale_b = __ldg(sb_tile + kb);
        warp_block_product(As[kb % 2], Bs[kb % 2], warp, lane, K - kb * SCALE_BLOCK, part, TensorCoreE4m3());
        promote_block(acc, part, scale_a, scale_b);
        __syncthreads();   // everyone is done with stage kb % 2 before it is loaded again
    }
    store_tile(D, N, tile, n0, warp, lane, acc);
}

static bool shape_ok(const char *name, int G, int rows, int N, int K) {
    if (G >= 1 && rows >= 1 && N >= 1 && K >= 16 && K % 16 == 0) return true;
    fprintf(stderr, "%s: G %d, M %d, N %d, K %d: want G, M, N >= 1 and K a positive multiple of 16\n", name, G, rows,
            N, K);
    return false;
}

void fp8_grouped_gemm_contiguous(const uint8_t *A, const float *sa, const uint8_t *B, const float *sb, uint16_t *D,
                                 const int *group_offset, int G, int M, int N, int K, cudaStream_t stream) {
    if (!shape_ok("fp8_grouped_gemm_contiguous", G, M, N, K)) return;
    if (launch_fp8_wgmma(A, M, sa, B, G, sb, D, ContiguousWgTiles{group_offset, G}, (M + WG_BM - 1) / WG_BM + G, N, K,
                         stream))
        return;  // on an H200 (sm_90a); elsewhere the mma.sync tiles below
    // The groups' sizes are on the device: at most ceil(M / TILE_M) tiles, plus one partial tile a
    // group; the blocks past the real count exit at once.
    const dim3 grid((M + TILE_M - 1) / TILE_M + G, (N + TILE_N - 1) / TILE_N);
    fp8_grouped_gemm_kernel<false><<<grid, THREADS, 0, stream>>>(A, sa, B, sb, D, group_offset, G, 0, N, K);
}

void fp8_grouped_gemm_masked(const uint8_t *A, const float *sa, const uint8_t *B, const float *sb, uint16_t *D,
                             const int *masked_m, int G, int M_max, int N, int K, cudaStream_t stream) {
    if (!shape_ok("fp8_grouped_gemm_masked", G, M_max, N, K)) return;
    if (decode_fits(M_max, K)) {  // a few rows a group: a GEMV over the weights (fp8_decode_given.cuh)
        launch_masked_decode(A, sa, B, sb, D, masked_m, G, M_max, N, K, stream);
        return;
    }
    if (launch_fp8_wgmma(A, (long)G * M_max, sa, B, G, sb, D, MaskedWgTiles{masked_m, M_max},
                         G * ((M_max + WG_BM - 1) / WG_BM), N, K, stream))
        return;
    const dim3 grid(G * ((M_max + TILE_M - 1) / TILE_M), (N + TILE_N - 1) / TILE_N);
    fp8_grouped_gemm_kernel<true><<<grid, THREADS, 0, stream>>>(A, sa, B, sb, D, masked_m, G, M_max, N, K);
}
