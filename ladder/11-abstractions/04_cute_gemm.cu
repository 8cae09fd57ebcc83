// Session 11, exercise 4: BF16 GEMM C = A * B^T in CuTe.
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
//
// Given: the shapes, the whole-matrix tensors and this block's tiles, the shared-memory tensors (not
// yet swizzled), the pipeline's waits, barriers and commit groups, the launcher. Yours: the TODOs.
// Each `void` below is a placeholder for a type you define; the names the TODOs ask for are the ones
// the rest of the file expects. CuTe's tutorial (examples/cute/tutorial/sgemm_sm80.cu in CUTLASS) and
// `print(x)` of any layout, tensor, TiledCopy or TiledMMA (in device code, from thread 0) help.
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

// TODO 1: TiledMma, the type of make_tiled_mma(...) (decltype) over the SM80_16x8x16_F32BF16BF16F32_TN
//         atom: 2 x 2 x 1 warps, and a Tile<_32, _32, _16> permutation so that each warp holds two
//         n8 atoms per k16 step, the 16 x 16 piece of B that one ldmatrix.x4 fills.
using TiledMma = void;

// An 8-row x 32-element atom of shared memory (rows of 64 bytes, four 16-byte chunks), K contiguous,
// tiled to the whole ring of stages.
// TODO 2 (do it last, once everything passes, and measure before and after): as it stands the 8 rows
//         one ldmatrix reads collide in two bank groups. Compose the atom with Swizzle<B, M, S> so that
//         chunk ^= (row / 2) % 4, session 06's swizzle: which bits of the element offset are the
//         chunk (M, B) and which are row / 2 % 4 (M + S)?
using SmemAtom = Layout<Shape<_8, BK>, Stride<BK, _1>>;
using SmemLayoutA = decltype(tile_to_shape(SmemAtom{}, Shape<BM, BK, PIPE>{}));  // (m, k, stage) -> offset
using SmemLayoutB = decltype(tile_to_shape(SmemAtom{}, Shape<BN, BK, PIPE>{}));  // (n, k, stage) -> offset

// TODO 3: the two copies.
//   G2SCopy, global -> shared: make_tiled_copy of a Copy_Atom of SM80_CP_ASYNC_CACHEGLOBAL_ZFILL<uint128_t>
//     on bf16 (16 bytes; with a false predicate it writes zeros and reads nothing), 128 threads as 32
//     rows x 4 chunks with k fastest (a layout with strides (4, 1)), each thread 1 x 8 values.
//   S2RAtom, shared -> registers: a Copy_Atom of SM75_U32x4_LDSM_N (ldmatrix.x4) on bf16.
using G2SCopy = void;
using S2RAtom = void;

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

    // TODO 4: the predicates pA, pB, pC: for each matrix, make_identity_tensor of its shape (a tensor
    //         whose element (i, j) is the coordinate (i, j)) seen through lazy::transform with
    //         inside(shape); then gpA, gpB, gpC: local_tile them exactly as gA, gB, gC are tiled.

    extern __shared__ __align__(128) uint8_t smem[];
    bf16 *smem_a = reinterpret_cast<bf16 *>(smem);
    Tensor sA = make_tensor(make_smem_ptr(smem_a), SmemLayoutA{});                             // (BM, BK, STAGES)
    Tensor sB = make_tensor(make_smem_ptr(smem_a + STAGES * TILE_M * TILE_K), SmemLayoutB{});  // (BN, BK, STAGES)

    // TODO 5: this thread's share of the cp.async copies: a G2SCopy, its slice get_slice(threadIdx.x),
    //         and with it partition_S of gA and of gpA (same shapes, so element for element the
    //         predicate of the data), partition_D of sA; the same for B. Then fill in load_tile below.
    // Copies tile kt of A and B into stage `stage`: one copy_if(tiled copy, predicates, source,
    // destination) per matrix, each on the slices (_, _, _, kt) and (_, _, _, stage). K % 8 == 0, so
    // a 16-byte chunk is wholly inside K or past it: its first element's predicate speaks for all 8.
    auto load_tile = [&](int kt, int stage) {
    };

    // TODO 6: this thread's MMA fragments and the ldmatrix copies that fill them. A TiledMma and its
    //         slice; tCrA, tCrB = partition_fragment_A / _B of one stage of sA / sB (registers, shaped
    //         (MMA, MMA_M or MMA_N, MMA_K)); acc = partition_fragment_C(mma, (BM, BN)), cleared. Then
    //         make_tiled_copy_A / _B of the S2RAtom for this MMA, their slices, partition_S of sA / sB
    //         (tXsA, tXsB) and retile_D of tCrA / tCrB (tXrA, tXrB: the same registers, seen as the
    //         copy's destination).

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

        const int stage = kt % STAGES;
        // TODO 7: the k16 steps of tile kt: for kb over size<2>(tCrA) (CUTE_UNROLL), copy with the
        //         ldmatrix tiled copies from tXsA(_, _, kb, stage) to tXrA(_, _, kb) (and B's), then
        //         gemm(mma, A fragments of kb, B fragments of kb, acc).
    }
    cp_async_wait<0>();  // nothing left in flight (the trailing groups are empty)

    // TODO 8: the epilogue. partition_C of gC and of gpC with the MMA's slice (element for element
    //         the accumulators' places and predicates); make_tensor_like<bf16>(acc), filled with
    //         transform(acc, it, a float -> bf16 conversion); copy_if(predicates, it, global).
    //         Element by element, since N may be odd: a pair of columns is then not 4-byte aligned.
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
