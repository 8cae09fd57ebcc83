// Session 06, exercise 2: BF16 GEMM with mma.sync, ldmatrix and a cp.async pipeline.
//
// Exercise 1 let wmma hide the fragments. Here you drive the tensor cores through PTX, the way
// the fast libraries do on A100 and (without wgmma) on H100:
//   mma.sync.aligned.m16n8k16   one warp: a 16 x 16 piece of A times a 16 x 8 piece of B, added
//                               to a 16 x 8 accumulator; you know which lane holds which element;
//   ldmatrix                    one warp loads four 8 x 8 matrices of 16-bit values from shared
//                               memory straight into those fragment registers (.trans transposes);
//   cp.async                    copies 16 bytes global -> shared without passing through
//                               registers, so the copies of later tiles run while you compute.
//
// The plan. Block tile 128 x 256 x 32; 8 warps as 2 (M) x 4 (N), each warp owns a 64 x 64 tile of
// C: 4 x 8 accumulators of m16n8, 128 floats a thread. Shared memory is a ring of STAGES = 4
// stages, each holding a 128 x 32 tile of A and a 32 x 256 tile of B (24 KB; 96 KB in all). While
// the warps compute on one stage, the copies of the next three are in flight.
//
// Given: the PTX wrappers, the fallback kernel for shapes the 16-byte copies can't handle
// (K % 8 != 0 or N % 8 != 0), the launcher, the prologue of the pipeline. Yours: the TODOs.
#include <cuda_bf16.h>
#include <stdint.h>

#include "exercises.h"
#include "mma_given.cuh"

#define BM 128                       // block tile: rows of C
#define BN 256                       // block tile: columns of C
#define BK 32                        // block tile: the slice of K per pipeline stage
#define STAGES 4                     // shared-memory ring depth
#define WARPS_M 2
#define WARPS_N 4
#define THREADS (32 * WARPS_M * WARPS_N)
#define WM (BM / WARPS_M)            // warp tile: 64 x 64
#define WN (BN / WARPS_N)
#define MI (WM / 16)                 // m16 tiles per warp
#define NI (WN / 8)                  // n8 tiles per warp
#define KSTEPS (BK / 16)             // k16 steps per stage
#define A_CHUNKS (BK / 8)            // 16-byte chunks in a row of the A tile
#define B_CHUNKS (BN / 8)            // 16-byte chunks in a row of the B tile
#define A_STAGE (BM * BK)            // elements per stage
#define B_STAGE (BK * BN)
#define SMEM_BYTES (STAGES * (A_STAGE + B_STAGE) * 2)

// ---- the shared layout ----------------------------------------------------------------------------

// Element offset of 16-byte chunk `ch` of row `row` in a tile of CHUNKS chunks per row. Every write
// (cp.async) and every read (ldmatrix) of a tile goes through here, so changing the layout is a
// change to this function alone. Its body is at the end of the file: you write it last.
template <int CHUNKS> __device__ __forceinline__ int swizzle(int row, int ch);

// ---- the pieces of the main loop -------------------------------------------------------------------

// Issue the copies of K-slice [k0, k0 + BK) of this block's A rows and B columns into one stage
// (As_stage and Bs_stage are shared addresses in bytes).
__device__ __forceinline__ void load_tile_async(uint32_t As_stage, uint32_t Bs_stage, const __nv_bfloat16 *A,
                                                const __nv_bfloat16 *B, int M, int N, int K, int m0, int n0,
                                                int k0) {
    // TODO 1: the A tile is BM rows of A_CHUNKS chunks (8 elements each): BM * A_CHUNKS / THREADS
    //         copies per thread. Copy i of this thread is chunk id = threadIdx.x + i * THREADS: row
    //         id / A_CHUNKS, chunk ch = id % A_CHUNKS, source A + (m0 + row) * K + k0 + ch * 8 (size_t
    //         arithmetic), valid when m0 + row < M and k0 + ch * 8 < K (K % 8 == 0 here, so a chunk
    //         is wholly inside or outside), destination As_stage + 2 * swizzle<A_CHUNKS>(row, ch).
    //         For an invalid chunk pass a harmless source (A itself) with valid = false.
    //         Then the same for B: BK rows (k) of B_CHUNKS chunks, source B + (k0 + row) * N + n0 + ch * 8,
    //         valid when k0 + row < K and n0 + ch * 8 < N, destination Bs_stage + 2 * swizzle<B_CHUNKS>(row, ch).
}

// A fragments of k-step kk (k = 16 kk .. 16 kk + 15 of the stage) for the warp's MI m16 tiles.
__device__ __forceinline__ void load_a_frags(uint32_t a[MI][4], uint32_t As_stage, int warp_m, int lane, int kk) {
    // TODO 2: one ldmatrix_x4 per m16 tile mi. Its four matrices must come out in the order of the
    //         mma's a[0..3]: (rows 0-7, k 0-7), (rows 8-15, k 0-7), (rows 0-7, k 8-15), (rows 8-15,
    //         k 8-15). Lane l gives the address of row l % 16 and chunk 2 * kk + l / 16 of the
    //         tile, row = warp_m * WM + mi * 16 + l % 16: As_stage + 2 * swizzle<A_CHUNKS>(row, ch).
    //         Why: ldmatrix takes the 8 row addresses of matrix q from lanes 8q .. 8q + 7, so lanes
    //         0-15 name rows 0-15 of k 0-7 (matrices 0, 1) and lanes 16-31 the same rows of k 8-15.
}

// B fragments of k-step kk for the warp's NI n8 tiles, two tiles per ldmatrix.
__device__ __forceinline__ void load_b_frags(uint32_t b[NI][2], uint32_t Bs_stage, int warp_n, int lane, int kk) {
    // TODO 3: B sits in shared memory as k-rows with n contiguous, but b[0] wants two consecutive k
    //         of one column n: that is what ldmatrix_x4_trans delivers from 8 k-rows. For each pair
    //         of n8 tiles (2j, 2j+1): lane l points at k-row 16 * kk + l % 16 and chunk
    //         (warp_n * WN + 16 * j) / 8 + l / 16; the four registers r[0..3] are then b[2j][0],
    //         b[2j][1], b[2j+1][0], b[2j+1][1].
    //         Why: lanes 0-7 and 8-15 name k-rows 0-7 and 8-15 of the tile's first 8 columns
    //         (b[0] and b[1] of n-tile 2j); lanes 16-31 the same k-rows of the next 8 columns.
}

// ---- the kernel ----------------------------------------------------------------------------------

__global__ void __launch_bounds__(THREADS, 1)
gemm_bf16_mma_kernel(const __nv_bfloat16 *__restrict__ A, const __nv_bfloat16 *__restrict__ B,
                     float *__restrict__ C, int M, int N, int K) {
    extern __shared__ __align__(128) unsigned char smem[];
    const uint32_t As = smem_u32(smem);              // STAGES tiles of BM x BK: stage s at As + s * A_STAGE * 2
    const uint32_t Bs = As + STAGES * A_STAGE * 2;   // STAGES tiles of BK x BN: stage s at Bs + s * B_STAGE * 2

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int warp_m = warp / WARPS_N, warp_n = warp % WARPS_N;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    const int k_tiles = (K + BK - 1) / BK;

    float acc[MI][NI][4];
#pragma unroll
    for (int mi = 0; mi < MI; mi++)
#pragma unroll
        for (int ni = 0; ni < NI; ni++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[mi][ni][e] = 0.0f;

    // Prologue (given): tiles 0 .. STAGES-2 in flight, one commit group each. Past the end of K the
    // group is empty, so that the count of groups stays the same for every K.
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < k_tiles) load_tile_async(As + s * A_STAGE * 2, Bs + s * B_STAGE * 2, A, B, M, N, K, m0, n0, s * BK);
        cp_async_commit();
    }
    cp_async_wait<STAGES - 2>();  // this thread's part of tile 0 has landed
    __syncthreads();              // ... and everyone else's

    // Fragments, double-buffered: while the mma of k-step kk reads buffer kk % 2, the ldmatrix of
    // the next k-step fills the other one.
    uint32_t a_frag[2][MI][4], b_frag[2][NI][2];
    load_a_frags(a_frag[0], As, warp_m, lane, 0);
    load_b_frags(b_frag[0], Bs, warp_n, lane, 0);

    int read_stage = 0, write_stage = STAGES - 1;
    // TODO 4: the main loop, for kt = 0 .. k_tiles-1, and inside it for kk = 0 .. KSTEPS-1 (#pragma
    //         unroll: fragment indices must be compile-time constants, or the arrays go to local memory):
    //   a. Load the fragments of k-step (kk + 1) % KSTEPS from stage read_stage into buffer (kk + 1) % 2.
    //      (On the last k-step read_stage has already moved on, so this fetches the next tile's
    //      first k-step.)
    //   b. If kk == 0: refill. Tile next = kt + STAGES - 1 goes into stage write_stage (the one all
    //      warps finished reading before the last barrier) if next < k_tiles; commit a group either
    //      way; write_stage moves one along the ring.
    //   c. MI x NI mma_bf16_16816 on buffer kk % 2.
    //   d. If kk == KSTEPS - 2: cp_async_wait<STAGES - 2>() (so tile kt + 1 has landed: count the
    //      groups committed so far), __syncthreads(), read_stage moves one along the ring.
    // After the loop, cp_async_wait<0>() so that nothing is left in flight.

    // TODO 5: the epilogue. Accumulator acc[mi][ni][e] belongs to row m0 + warp_m * WM + mi * 16 +
    //         lane / 4 (+ 8 for e >= 2) and column n0 + warp_n * WN + ni * 8 + 2 * (lane % 4) + e % 2.
    //         Why: the PTX ISA's m16n8 accumulator gives the 4 lanes of a quad one row (g = lane / 4,
    //         and g + 8) and each lane 2 neighbouring columns, 2 (lane % 4) and 2 (lane % 4) + 1.
    //         Store (e = 0, 1) and (e = 2, 3) as float2 pairs, each only when its row < M and its
    //         column < N (N % 8 == 0 on this path, so the second column of a pair is then inside too).
}

// ---- the shared layout, swizzled -----------------------------------------------------------------

template <int CHUNKS> __device__ __forceinline__ int swizzle(int row, int ch) {
    // TODO 6 (last, once everything passes; measure before and after): shared memory serves 128
    //         bytes, 8 chunks, per turn, and each 8 x 8 matrix of an ldmatrix is one chunk from each
    //         of 8 consecutive rows. In the plain layout below those 8 chunks collide: B's rows are
    //         512 bytes apart (all 8 in the same chunk slot), A's 64 bytes (only 2 slots used).
    //         XOR the chunk index with bits of the row so that the 8 rows land in 8 different slots:
    //         ch ^ (row % 8) when CHUNKS >= 8; ch ^ ((row / 2) % 4) for A's 4-chunk rows (two rows
    //         share a 128-byte line, and the row's parity already picks the half). `if constexpr`
    //         chooses at compile time.
    return row * CHUNKS * 8 + ch * 8;
}

// ---- the launcher (given) -------------------------------------------------------------------------

void gemm_bf16_mma(const uint16_t *A, const uint16_t *B, float *C, int M, int N, int K, cudaStream_t stream) {
    // The 16-byte copies need every row of A and B to start on a 16-byte boundary.
    bool fast = K % 8 == 0 && N % 8 == 0 && (uintptr_t)A % 16 == 0 && (uintptr_t)B % 16 == 0 && (uintptr_t)C % 8 == 0;
    if (!fast) {
        dim3 grid((N + FB_TILE - 1) / FB_TILE, (M + FB_TILE - 1) / FB_TILE);
        gemm_bf16_fallback_kernel<<<grid, dim3(FB_TILE, FB_TILE), 0, stream>>>(A, B, C, M, N, K);
        return;
    }
    // More than 48 KB of dynamic shared memory needs an opt-in (every GPU from sm_80 allows 96 KB).
    cudaFuncSetAttribute(gemm_bf16_mma_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_BYTES);
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    gemm_bf16_mma_kernel<<<grid, THREADS, SMEM_BYTES, stream>>>(reinterpret_cast<const __nv_bfloat16 *>(A),
                                                               reinterpret_cast<const __nv_bfloat16 *>(B), C, M, N, K);
}
