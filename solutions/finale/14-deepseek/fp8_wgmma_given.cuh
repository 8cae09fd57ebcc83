// Session 14, exercise 3's answer on Hopper (sm_90a): the grouped FP8 GEMM on TMA and wgmma, the
// way session 10's warp-specialised rung does BF16, with DeepGEMM's scale promotion. It lives
// beside the solution, not in the student bundle; its name ends in _given.cuh because the source
// scanner admits no other local header. (mbarriers, TMA loads and wgmma's fence, commit and wait
// are grader/hopper_ptx.cuh's, shared with session 10; the e4m3 wgmma is this file's.)
//
// A block computes a 128 x WG_BN tile of D: one warpgroup (the producer) gives most of its
// registers back and one of its threads issues TMA loads of 128-byte K blocks of A's 128 rows and
// B's WG_BN rows into a ring of stages; two consumer warpgroups take those registers and each
// multiply their 64 rows by the WG_BN columns, four m64nNk32 e4m3 wgmmas a K block. (192 columns:
// a block's FP32 sums and the running ones are 192 registers a thread.) A K block is
// exactly one scale block (128 values of K, 128 bytes: one row of the 128-byte swizzle), so after
// its four products a consumer waits for them, frees the stage, and adds the block's FP32 sums
// times sa[row][kb] * sb[n / 128][kb] into its running sums: the contract's "scales once per
// block", and the tensor cores' FP32 sums never run longer than 128 products.
//
// Groups: the tile's rows belong to one group (contiguous: the groups' tiles in order; masked:
// ceil(M_max / 128) tiles a group). TMA fetches whole 128-row boxes: rows past the group's end are
// the next group's (computed, never stored); rows past the matrix and bytes past K arrive as
// zeros. The group's B is rows g * N .. of the stacked [G * N][K] weights, the same way.
#ifndef SESSION14_FP8_WGMMA_GIVEN_CUH
#define SESSION14_FP8_WGMMA_GIVEN_CUH

#include <cuda.h>  // CUtensorMap
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>

#include "fp8_gemm_given.cuh"  // float_to_bf16, tma_map_e4m3
#include "hopper_ptx.cuh"      // mbarriers, TMA loads, wgmma's fence/commit/wait, setmaxnreg
#include "wgmma_sw128.cuh"     // sw128_desc: a 128-byte-swizzled tile's descriptor; + 2 per 32-byte step along K

#define WG_BM 128        // rows of D a block computes: two consumer warpgroups of 64
#define WG_BK 128        // K a stage holds: one scale block, 128 bytes a row
#define WG_THREADS 384   // two consumer warpgroups, then the producer warpgroup
#ifndef WG_BN
#define WG_BN 192        // columns of D a block computes: 128 or 192 (192 the faster in make bench, see handout 14)
#endif
#define WG_A_BYTES (WG_BM * WG_BK)
#define WG_BAND 16       // row tiles a band of the block order (below)
// Stages: as many as fit in 227 KB beside the 1024-byte alignment.
template <int BN> struct WgShape {
    static constexpr int B_BYTES = BN * WG_BK, STAGES = (227 * 1024 - 1024) / (WG_A_BYTES + B_BYTES);
    static constexpr int SMEM = STAGES * (WG_A_BYTES + B_BYTES) + 1024;
};

// Which rows a tile owns, as the solution's tile functions say (group < 0: nothing to do).
struct WgTile {
    int group, row0, rows;
};

// ---- PTX wrappers: mbarriers, TMA, wgmma's fence/commit/wait, setmaxnreg from grader/hopper_ptx.cuh
// (session 10's); here the descriptor and the e4m3 products, which that session has no use for.
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define FP8_WGMMA_DEVICE 1  // this pass compiles Hopper's architecture-specific instructions
#endif

#ifdef FP8_WGMMA_DEVICE
// D (64 x 128, FP32, 64 registers a thread) = A * B^T (+ D when accumulate), A and B e4m3 from
// shared memory, K-major: one k32 step (32 bytes of each row).
__device__ __forceinline__ void wgmma_m64n128k32_e4m3(float (&d)[64], uint64_t desc_a, uint64_t desc_b,
                                                      int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 {"
        GR_WGMMA_R64
        "}, %64, %65, p, 1, 1;\n}\n"
        : GR_WGMMA_D64(d)
        : "l"(desc_a), "l"(desc_b), "r"(accumulate));
}
// The same, 64 x 192 (96 registers a thread).
__device__ __forceinline__ void wgmma_m64n192k32_e4m3(float (&d)[96], uint64_t desc_a, uint64_t desc_b,
                                                      int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %98, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n192k32.f32.e4m3.e4m3 {"
        GR_WGMMA_R96
        "}, %96, %97, p, 1, 1;\n}\n"
        : GR_WGMMA_D96(d)
        : "l"(desc_a), "l"(desc_b), "r"(accumulate));
}
// One k32 step of a 64 x BN product.
template <int BN> __device__ __forceinline__ void wgmma_e4m3(float (&d)[BN / 2], uint64_t a, uint64_t b, int acc);
template <> __device__ __forceinline__ void wgmma_e4m3<128>(float (&d)[64], uint64_t a, uint64_t b, int acc) {
    wgmma_m64n128k32_e4m3(d, a, b, acc);
}
template <> __device__ __forceinline__ void wgmma_e4m3<192>(float (&d)[96], uint64_t a, uint64_t b, int acc) {
    wgmma_m64n192k32_e4m3(d, a, b, acc);
}
#endif

// ---- the order of the blocks -----------------------------------------------------------------------
// Block L takes row tile `unit` and column tile `ntile`, in bands of WG_BAND row tiles: down a
// band's row tiles first, then across N, then the next band. With row tiles fastest over the whole
// matrix, the ~132 blocks in flight span ~132 row tiles of one column tile and A (235 MB at the
// bench shape, more than L2) comes from HBM once per column tile; in bands of 16 the blocks in
// flight share ~15 MB of A and ~11 MB of B, which L2 keeps. (H200, make bench's 4 x 32768 x 4096 x
// 7168: 2.77 ms row tiles fastest, 2.34 ms in bands of 16.)
__host__ __device__ inline void wg_raster(int L, int tiles, int NT, int &unit, int &ntile) {
    const int per_band = WG_BAND * NT, band = L / per_band, within = L % per_band;
    const int first = band * WG_BAND, height = tiles - first < WG_BAND ? tiles - first : WG_BAND;
    unit = first + within % height;
    ntile = within / height;
}

// ---- the kernel ------------------------------------------------------------------------------------
// Block L: tile `unit` of the rows (tile_of(unit)), columns BN ntile .. (wg_raster). TileOf: a
// functor, tile -> WgTile.
// A BN-column tile spans at most two of B's 128-row scale blocks (BN = 192 at an odd y starts in
// the middle of one): each column takes its own.
template <int BN, class TileOf>
__global__ void __launch_bounds__(WG_THREADS, 1)
fp8_wgmma_kernel(const __grid_constant__ CUtensorMap a_map, const __grid_constant__ CUtensorMap b_map,
                 const float *__restrict__ sa, const float *__restrict__ sb, uint16_t *__restrict__ D, TileOf tile_of,
                 int tiles, int N, int K) {
#ifdef FP8_WGMMA_DEVICE
    using S = WgShape<BN>;
    extern __shared__ uint8_t smem_raw[];
    uint8_t *smem = smem_raw + ((1024 - (smem_addr(smem_raw) & 1023)) & 1023);  // the swizzle's 1024-byte boundary
    uint8_t *a_stage = smem, *b_stage = smem + S::STAGES * WG_A_BYTES;
    __shared__ uint64_t full[S::STAGES], empty[S::STAGES];
    int unit, ntile;
    wg_raster(blockIdx.x, tiles, (N + BN - 1) / BN, unit, ntile);
    const WgTile tile = tile_of(unit);
    if (tile.group < 0 || tile.rows <= 0) return;  // the whole block, before any barrier
    const int n0 = ntile * BN, KB = (K + WG_BK - 1) / WG_BK, NB = (N + WG_BK - 1) / WG_BK;
    const int wg = threadIdx.x / 128, tid = threadIdx.x % 128;
    if (threadIdx.x == 0) {
        for (int s = 0; s < S::STAGES; s++) {
            mbar_init(&full[s], 1);
            mbar_init(&empty[s], 2 * 4);  // every consumer warp
        }
        mbar_fence_init();
    }
    __syncthreads();

    if (wg == 2) {  // the producer: it gives registers back, and one thread issues the loads
        regs_release<40>();
        if (tid == 0)
            for (int kb = 0; kb < KB; kb++) {
                const int s = kb % S::STAGES;
                mbar_wait(&empty[s], ((kb / S::STAGES) & 1) ^ 1);
                mbar_arrive_expect_tx(&full[s], WG_A_BYTES + S::B_BYTES);
                tma_load(a_stage + s * WG_A_BYTES, &a_map, &full[s], tile.row0, kb * WG_BK);
                tma_load(b_stage + s * S::B_BYTES, &b_map, &full[s], tile.group * N + n0, kb * WG_BK);
            }
        return;
    }
    // a consumer: rows 64 wg .. + 63 of the tile; this thread's two rows r and r + 8
    regs_claim<232>();
    const int r = 64 * wg + 16 * (tid / 32) + (tid % 32) / 4;
    // Scale rows: a row past the tile's count reads row0's (its sums are never stored).
    const float *sa_lo = sa + (size_t)(tile.row0 + (r < tile.rows ? r : 0)) * KB;
    const float *sa_hi = sa + (size_t)(tile.row0 + (r + 8 < tile.rows ? r + 8 : 0)) * KB;
    const int nb0 = n0 / WG_BK, nb1 = nb0 + 1 < NB ? nb0 + 1 : nb0;
    const float *sb_0 = sb + ((size_t)tile.group * NB + nb0) * KB, *sb_1 = sb + ((size_t)tile.group * NB + nb1) * KB;
    const int j_second = (WG_BK - n0 % WG_BK) / 8;  // column groups j >= this are in scale block nb0 + 1
    float d[BN / 2], acc[BN / 2];
#pragma unroll
    for (int i = 0; i < BN / 2; i++) acc[i] = 0.0f;
    for (int kb = 0; kb < KB; kb++) {
        const int s = kb % S::STAGES;
        const float sb0 = __ldg(sb_0 + kb), sb1 = __ldg(sb_1 + kb), a_lo = __ldg(sa_lo + kb), a_hi = __ldg(sa_hi + kb);
        mbar_wait(&full[s], (kb / S::STAGES) & 1);
        const uint64_t a_desc = sw128_desc(a_stage + s * WG_A_BYTES + wg * 64 * WG_BK);
        const uint64_t b_desc = sw128_desc(b_stage + s * S::B_BYTES);
        wgmma_fence();
#pragma unroll
        for (int k = 0; k < WG_BK / 32; k++) wgmma_e4m3<BN>(d, a_desc + 2 * k, b_desc + 2 * k, k > 0);
        wgmma_commit();
        wgmma_wait<0>();
        wgmma_hold(d);  // d is read only after the wait
        if (tid % 32 == 0) mbar_arrive(&empty[s]);  // this warp is done reading the stage
        // The block's sums, scaled once: acc += sa[row][kb] * sb[n / 128][kb] * d.
#pragma unroll
        for (int j = 0; j < BN / 8; j++) {
            const float sbj = j < j_second ? sb0 : sb1, lo = a_lo * sbj, hi = a_hi * sbj;
            acc[4 * j] += lo * d[4 * j];
            acc[4 * j + 1] += lo * d[4 * j + 1];
            acc[4 * j + 2] += hi * d[4 * j + 2];
            acc[4 * j + 3] += hi * d[4 * j + 3];
        }
    }
    // acc[4j + 2h + e]: row r + 8 h, column n0 + 8 j + 2 (tid % 4) + e. Two neighbours go out as
    // one 32-bit store where N is even (every pair then starts 4-byte aligned).
#pragma unroll
    for (int j = 0; j < BN / 8; j++)
        for (int h = 0; h < 2; h++) {
            const int row = r + 8 * h, n = n0 + 8 * j + 2 * (tid % 4);
            if (row >= tile.rows || n >= N) continue;
            uint16_t *out = D + (size_t)(tile.row0 + row) * N + n;
            const uint16_t lo = float_to_bf16(acc[4 * j + 2 * h]), hi = float_to_bf16(acc[4 * j + 2 * h + 1]);
            if (N % 2 == 0) {
                *reinterpret_cast<uint32_t *>(out) = (uint32_t)lo | ((uint32_t)hi << 16);
            } else {
                out[0] = lo;
                if (n + 1 < N) out[1] = hi;
            }
        }
#else
    __trap();  // built without sm_90a: fp8_wgmma_usable() keeps the launcher from coming here
#endif
}

// ---- host side ---------------------------------------------------------------------------------------
// The Hopper path runs when this GPU is compute capability 9.0 and the kernel was built for sm_90a
// (its PTX and machine code both of 9.0: the Makefile builds sm_90a, never plain sm_90, for it).
template <int BN, class TileOf>
static bool fp8_wgmma_usable() {
    static int usable = -1;
    if (usable < 0) {
        int dev = 0, major = 0, minor = 0;
        cudaFuncAttributes fa;
        usable = cudaGetDevice(&dev) == cudaSuccess &&
                 cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) == cudaSuccess &&
                 cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) == cudaSuccess &&
                 major == 9 && minor == 0 && cudaFuncGetAttributes(&fa, fp8_wgmma_kernel<BN, TileOf>) == cudaSuccess &&
                 fa.ptxVersion == 90 && fa.binaryVersion == 90;
    }
    return usable == 1;
}

// Launch over `tiles` row tiles of WG_BM rows; false (nothing launched) when the Hopper path does not
// apply, so that the caller takes its portable path.
template <class TileOf, int BN = WG_BN>
static bool launch_fp8_wgmma(const uint8_t *A, long a_rows, const float *sa, const uint8_t *B, int G, const float *sb,
                             uint16_t *D, TileOf tile_of, int tiles, int N, int K, cudaStream_t stream) {
    if (!fp8_wgmma_usable<BN, TileOf>()) return false;
    CUtensorMap a_map, b_map;
    if (tma_map_e4m3(&a_map, A, a_rows, K, WG_BM) || tma_map_e4m3(&b_map, B, (long)G * N, K, BN)) return false;
    cudaFuncSetAttribute(fp8_wgmma_kernel<BN, TileOf>, cudaFuncAttributeMaxDynamicSharedMemorySize, WgShape<BN>::SMEM);
    const long blocks = (long)tiles * ((N + BN - 1) / BN);  // one dimension: wg_raster orders them
    if (blocks > 0x7fffffffL) return false;
    fp8_wgmma_kernel<BN, TileOf><<<(unsigned)blocks, WG_THREADS, WgShape<BN>::SMEM, stream>>>(a_map, b_map, sa, sb, D,
                                                                                            tile_of, tiles, N, K);
    return true;
}

#endif
