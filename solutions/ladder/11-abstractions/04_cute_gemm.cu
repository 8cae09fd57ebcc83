// Session 11, exercise 4 (solution): a BF16 GEMM C = A * B^T in CuTe.
//
// Session 06's mma.sync pipeline again, with the index arithmetic replaced by layouts:
//   a TiledMMA      2 x 2 warps of mma.sync m16n8k16 (BF16 in, FP32 accumulators); a 128 x 128
//                   block tile gives each warp 64 x 64 of C;
//   shared memory   STAGES = 4 stages of a 128 x 32 tile of A and of B, both K-major, swizzled so
//                   that ldmatrix reads 8 rows without a bank conflict (16 KB a stage, 64 KB in all);
//   a TiledCopy     of 16-byte cp.async, global -> shared, predicated on an identity tensor:
//                   a chunk outside (M or N) x K is zero-filled instead of read;
//   a TiledCopy     of ldmatrix.x4, shared -> the MMA's fragments;
//   the epilogue    FP32 -> BF16 in registers, stores predicated on the same kind of identity tensor.
#include <stdint.h>

#include "exercises.h"
#include "cute_given.cuh"

using namespace cute;

// ---- the shapes ---------------------------------------------------------------------------------

constexpr int TILE_M = 128, TILE_N = 128, TILE_K = 32;  // block tile of C, and the K slice of a stage
constexpr int STAGES = 4;                               // shared-memory ring depth
constexpr int THREADS = 128;                            // 4 warps
constexpr int SMEM_BYTES = STAGES * (TILE_M + TILE_N) * TILE_K * (int)sizeof(bf16);
using BM = Int<TILE_M>;
using BN = Int<TILE_N>;
using BK = Int<TILE_K>;
using PIPE = Int<STAGES>;

// ---- the choices: MMA, shared layout, copies ----------------------------------------------------

// The atom is one warp's mma.sync m16n8k16; the 2 x 2 x 1 layout places 4 warps over a 32 x 16
// tile, and the Tile<32, 32, 16> permutation widens it to 32 x 32 so that each warp holds two n8
// atoms per k16: the 16 x 16 of B that one ldmatrix.x4 delivers. The block tile repeats it 4 x 4.
using TiledMma = decltype(make_tiled_mma(SM80_16x8x16_F32BF16BF16F32_TN{}, Layout<Shape<_2, _2, _1>>{},
                                         Tile<_32, _32, _16>{}));

// An 8-row x 32-element atom (rows of 64 bytes, 4 chunks of 16 bytes), K contiguous. Swizzle<2,3,3>
// XORs bits 6-7 of the element offset into bits 3-4: chunk ^= (row / 2) % 4, session 06's swizzle,
// so the 8 rows an ldmatrix reads at one chunk fall in 8 different 16-byte bank groups.
using SmemAtom = decltype(composition(Swizzle<2, 3, 3>{}, Layout<Shape<_8, BK>, Stride<BK, _1>>{}));
using SmemLayoutA = decltype(tile_to_shape(SmemAtom{}, Shape<BM, BK, PIPE>{}));  // (m, k, stage) -> offset
using SmemLayoutB = decltype(tile_to_shape(SmemAtom{}, Shape<BN, BK, PIPE>{}));  // (n, k, stage) -> offset

// Global -> shared: 128 threads as 32 rows x 4 chunks (k fastest, so a warp reads 8 whole 64-byte
// row pieces), 8 BF16 = 16 bytes each; 4 passes cover 128 rows. The ZFILL form of cp.async takes
// a predicate: false writes 16 zero bytes and reads nothing.
using G2SCopy = decltype(make_tiled_copy(Copy_Atom<SM80_CP_ASYNC_CACHEGLOBAL_ZFILL<uint128_t>, bf16>{},
                                         Layout<Shape<_32, _4>, Stride<_4, _1>>{}, Layout<Shape<_1, _8>>{}));

// Shared -> registers: ldmatrix.x4, four 8 x 8 matrices per warp, laid out as the MMA wants them.
using S2RAtom = Copy_Atom<SM75_U32x4_LDSM_N, bf16>;

// ---- the kernel ---------------------------------------------------------------------------------

__global__ void __launch_bounds__(THREADS) cute_gemm_kernel(const bf16 *A, const bf16 *B, bf16 *C, int M, int N, int K) {
    // The whole matrices, row-major (64-bit row strides: M * K may pass 2^31).
    Tensor mA = make_tensor(make_gmem_ptr(A), make_shape(M, K), make_stride(int64_t(K), _1{}));  // (M, K)
    Tensor mB = make_tensor(make_gmem_ptr(B), make_shape(N, K), make_stride(int64_t(K), _1{}));  // (N, K)
    Tensor mC = make_tensor(make_gmem_ptr(C), make_shape(M, N), make_stride(int64_t(N), _1{}));  // (M, N)

    // This block's tiles: blockIdx.x picks the rows of C, blockIdx.y the columns; k stays a mode.
    auto tiler = Shape<BM, BN, BK>{};
    auto block = make_coord(blockIdx.x, blockIdx.y, _);
    Tensor gA = local_tile(mA, tiler, block, Step<_1, X, _1>{});  // (BM, BK, k tiles)
    Tensor gB = local_tile(mB, tiler, block, Step<X, _1, _1>{});  // (BN, BK, k tiles)
    Tensor gC = local_tile(mC, tiler, block, Step<_1, _1, X>{});  // (BM, BN)
    const int k_tiles = size<2>(gA);  // ceil(K / BK): the last one may be partial

    // A function object for predicates: inside(extent)(coord) is true when coord < extent in every mode.
    auto inside = [](auto extent) { return [extent](auto coord) { return elem_less(coord, extent); }; };

    // Predicates: the identity tensor maps (i, j) to the coordinate (i, j) itself, and the lazy
    // transform turns that into "is (i, j) inside the matrix". Tiled (and below, partitioned) exactly
    // as the data, it gives each thread the predicate of each element it copies.
    Tensor pA = lazy::transform(make_identity_tensor(shape(mA)), inside(shape(mA)));
    Tensor pB = lazy::transform(make_identity_tensor(shape(mB)), inside(shape(mB)));
    Tensor pC = lazy::transform(make_identity_tensor(shape(mC)), inside(shape(mC)));
    Tensor gpA = local_tile(pA, tiler, block, Step<_1, X, _1>{});  // (BM, BK, k tiles), bools
    Tensor gpB = local_tile(pB, tiler, block, Step<X, _1, _1>{});  // (BN, BK, k tiles)
    Tensor gpC = local_tile(pC, tiler, block, Step<_1, _1, X>{});  // (BM, BN)

    extern __shared__ __align__(128) uint8_t smem[];
    bf16 *smem_a = reinterpret_cast<bf16 *>(smem);
    Tensor sA = make_tensor(make_smem_ptr(smem_a), SmemLayoutA{});                             // (BM, BK, STAGES)
    Tensor sB = make_tensor(make_smem_ptr(smem_a + STAGES * TILE_M * TILE_K), SmemLayoutB{});  // (BN, BK, STAGES)

    // This thread's cp.async copies, and their predicates.
    G2SCopy g2s;
    ThrCopy g2s_thr = g2s.get_slice(threadIdx.x);
    Tensor tAgA = g2s_thr.partition_S(gA);   // (CPY, CPY_M, CPY_K, k tiles)
    Tensor tApA = g2s_thr.partition_S(gpA);  // (CPY, CPY_M, CPY_K, k tiles)
    Tensor tAsA = g2s_thr.partition_D(sA);   // (CPY, CPY_M, CPY_K, STAGES)
    Tensor tBgB = g2s_thr.partition_S(gB);
    Tensor tBpB = g2s_thr.partition_S(gpB);
    Tensor tBsB = g2s_thr.partition_D(sB);
    // K % 8 == 0: a 16-byte chunk is wholly inside K or wholly past it, so its first element's
    // predicate (the one copy_if looks at) speaks for all 8.
    auto load_tile = [&](int kt, int stage) {
        copy_if(g2s, tApA(_, _, _, kt), tAgA(_, _, _, kt), tAsA(_, _, _, stage));
        copy_if(g2s, tBpB(_, _, _, kt), tBgB(_, _, _, kt), tBsB(_, _, _, stage));
    };

    // This thread's MMA fragments (registers) and accumulators.
    TiledMma mma;
    ThrMMA thr_mma = mma.get_slice(threadIdx.x);
    Tensor tCrA = thr_mma.partition_fragment_A(sA(_, _, 0));  // (MMA, MMA_M, MMA_K)
    Tensor tCrB = thr_mma.partition_fragment_B(sB(_, _, 0));  // (MMA, MMA_N, MMA_K)
    Tensor acc = partition_fragment_C(mma, Shape<BM, BN>{});  // (MMA, MMA_M, MMA_N), FP32
    clear(acc);

    // ldmatrix: the same threads, the smem side partitioned to match the fragments above.
    auto s2r_a = make_tiled_copy_A(S2RAtom{}, mma);
    auto s2r_b = make_tiled_copy_B(S2RAtom{}, mma);
    ThrCopy s2r_a_thr = s2r_a.get_slice(threadIdx.x);
    ThrCopy s2r_b_thr = s2r_b.get_slice(threadIdx.x);
    Tensor tXsA = s2r_a_thr.partition_S(sA);    // (CPY, MMA_M, MMA_K, STAGES)
    Tensor tXrA = s2r_a_thr.retile_D(tCrA);     // (CPY, MMA_M, MMA_K): a view of tCrA
    Tensor tXsB = s2r_b_thr.partition_S(sB);    // (CPY, MMA_N, MMA_K, STAGES)
    Tensor tXrB = s2r_b_thr.retile_D(tCrB);

    // Prologue: tiles 0 .. STAGES-2 in flight, one commit group each. Past the last tile the group
    // is empty, so the count of groups is the same for every K.
    CUTE_UNROLL
    for (int s = 0; s < STAGES - 1; ++s) {
        if (s < k_tiles) load_tile(s, s);
        cp_async_fence();
    }

    CUTE_NO_UNROLL
    for (int kt = 0; kt < k_tiles; ++kt) {
        // STAGES-1 + kt groups are committed; leaving at most STAGES-2 in flight means group kt,
        // tile kt, has landed (this thread's part; the barrier makes it everyone's). The barrier
        // also says every warp is done reading stage (kt-1) % STAGES, which is refilled next.
        cp_async_wait<STAGES - 2>();
        __syncthreads();
        const int next = kt + STAGES - 1;
        if (next < k_tiles) load_tile(next, next % STAGES);
        cp_async_fence();

        // Tile kt: for each k16 step, ldmatrix A and B fragments, then the warp's 4 x 8 mma.sync.
        const int stage = kt % STAGES;
        CUTE_UNROLL
        for (int kb = 0; kb < size<2>(tCrA); ++kb) {
            copy(s2r_a, tXsA(_, _, kb, stage), tXrA(_, _, kb));
            copy(s2r_b, tXsB(_, _, kb, stage), tXrB(_, _, kb));
            gemm(mma, tCrA(_, _, kb), tCrB(_, _, kb), acc);
        }
    }
    cp_async_wait<0>();  // nothing left in flight (the trailing groups are empty)

    // Epilogue: round each accumulator to BF16 once, store those inside M x N (N may be odd, so
    // element by element: a pair of columns is not 4-byte aligned then).
    Tensor tCgC = thr_mma.partition_C(gC);    // (MMA, MMA_M, MMA_N), global
    Tensor tCpC = thr_mma.partition_C(gpC);   // (MMA, MMA_M, MMA_N), predicates
    Tensor out = make_tensor_like<bf16>(acc);
    transform(acc, out, [](float x) { return bf16(x); });
    copy_if(tCpC, out, tCgC);
}

// ---- the launcher -------------------------------------------------------------------------------

void cute_gemm(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream) {
    // More than 48 KB of dynamic shared memory needs an opt-in.
    cudaFuncSetAttribute(cute_gemm_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_BYTES);
    dim3 grid((M + TILE_M - 1) / TILE_M, (N + TILE_N - 1) / TILE_N);
    cute_gemm_kernel<<<grid, THREADS, SMEM_BYTES, stream>>>(reinterpret_cast<const bf16 *>(A),
                                                            reinterpret_cast<const bf16 *>(B),
                                                            reinterpret_cast<bf16 *>(C), M, N, K);
}
