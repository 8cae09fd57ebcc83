// Session 11, exercise 4 (solution): a BF16 GEMM C = A * B^T in CuTe.
//
// Two paths, one launcher. Which one runs is decided on the host, per call: the Hopper kernel when
// the GPU is sm_90 and the build holds its sm_90a code, session 06's mma.sync pipeline otherwise
// (an A100, an RTX card, or an sm_80 build).
//
// The Hopper path (sm_90a): session 10's warp-specialised GEMM, written with CuTe's Hopper atoms.
//   a TiledMMA      of wgmma (GMMA::ss_op_selector picks SM90_64xBNx16_F32BF16BF16_SS: both operands
//                   read from shared memory through descriptors), two warpgroups stacked along M: a
//                   128 x BN block tile, 64 x BN of C a warpgroup, BN/2 FP32 accumulators a thread;
//   shared memory   STAGES stages of a 128 x 64 tile of A and a BN x 64 tile of B, K-major, in
//                   GMMA::Layout_K_SW128_Atom: 128-byte rows, 16-byte chunks XORed with (row % 8),
//                   which is exactly the layout TMA's 128-byte swizzle writes;
//   TMA             one elected producer thread issues SM90_TMA_LOAD_2D (with H_CLUSTER = 2:
//                   SM90_TMA_LOAD_MULTICAST_2D, each block of a pair loads half of the B tile the
//                   two share, into both blocks' shared memory); the tensor maps come from the
//                   given tma_map_bf16 (the driver is not the exercise's to call). TMA fills what
//                   lies outside the matrix with zeros: no predicates on the loads;
//   mbarriers       full[s]: the producer arms it with the stage's byte count, TMA completes it;
//                   empty[s]: each consumer warp arrives (on every block of the cluster) once its
//                   wgmmas have finished reading the stage;
//   registers       setmaxnreg: the producer warpgroup gives registers back, the consumers take them;
//   the epilogue    FP32 -> BF16 in registers, stores predicated on an identity tensor (pairs of
//                   columns as one 32-bit store when N is even).
// The mma.sync path is the exercise as session 06 built it (see the fallback section below).
#include <stdint.h>

#include <cuda_bf16.h>

#include "exercises.h"
#include "cute_given.cuh"

using namespace cute;

// ==== the Hopper path ============================================================================

// ---- the shapes ---------------------------------------------------------------------------------
// Measured on an H200 at 8192^3 (2026-11-30, make bench, cuBLASLt in the same process): 128 x 256
// tiles, 4 stages, alone: 664.9 TFLOP/s, 91.6% of cuBLASLt. 128 x 128 with 6 stages: 84.2%. Pairs
// of blocks sharing B by multicast (H_CLUSTER_SIZE 2): 65.9% at 128 x 256, 36.9% at 128 x 128.
#define H_CLUSTER_SIZE 1                      // blocks a cluster, along M: 1, or 2 to multicast B
constexpr int H_BM = 128, H_BK = 64;          // block tile rows, and the K slice of a stage (128 bytes)
constexpr int H_BN = 256;                     // block tile columns: 256 or 128
constexpr int H_STAGES = 4;                   // shared-memory ring depth (4 x 48 KB)
constexpr int H_CLUSTER = H_CLUSTER_SIZE;
constexpr int H_GROUP = 16;                   // tile order: GROUP rows of tiles (clusters) down a column
constexpr int H_CONSUMERS = 2;                // consumer warpgroups: 64 rows of the tile each
constexpr int H_THREADS = 128 * (H_CONSUMERS + 1);
constexpr int H_A_BYTES = H_BM * H_BK * 2;    // one stage of A
constexpr int H_B_BYTES = H_BN * H_BK * 2;    // one stage of B (all of it: a block gets the whole tile)
constexpr int H_B_PART = H_BN / H_CLUSTER;    // rows of B one block loads (and multicasts)
constexpr int H_SMEM_BYTES = H_STAGES * (H_A_BYTES + H_B_BYTES) + 1024;  // + room to align to 1024
using HBM = Int<H_BM>;
using HBN = Int<H_BN>;
using HBK = Int<H_BK>;
using HPIPE = Int<H_STAGES>;

// The wgmma atom for a 64 x BN x 16 step, BF16 in, FP32 out, A and B K-major ("TN" in BLAS terms).
// Two of them side by side along M (the 2 x 1 x 1 layout): 256 threads, two warpgroups.
using HTiledMma = decltype(make_tiled_mma(
    GMMA::ss_op_selector<bf16, bf16, float, Shape<HBM, HBN, HBK>, GMMA::Major::K, GMMA::Major::K>(),
    Layout<Shape<_2, _1, _1>>{}));

// 8 rows x 64 elements (8 x 128 bytes), Swizzle<3,4,3>: the layout wgmma's 128-byte-swizzle
// descriptors describe and TMA's CU_TENSOR_MAP_SWIZZLE_128B writes; tiled to a whole stage, stages last.
using HSmemLayoutA = decltype(tile_to_shape(GMMA::Layout_K_SW128_Atom<bf16>{}, Shape<HBM, HBK, HPIPE>{}));
using HSmemLayoutB = decltype(tile_to_shape(GMMA::Layout_K_SW128_Atom<bf16>{}, Shape<HBN, HBK, HPIPE>{}));
static_assert(cosize(HSmemLayoutA{}) == H_STAGES * H_BM * H_BK, "A stages are dense");
static_assert(cosize(HSmemLayoutB{}) == H_STAGES * H_BN * H_BK, "B stages are dense");

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define H_SM90 1
#else
#define H_SM90 0
#endif

#if H_SM90
// An arrive on the mbarrier at the same shared-memory offset in block `rank` of the cluster (mapa
// turns this block's address into that block's; rank = own rank is this block's barrier).
__device__ __forceinline__ void arrive_cluster(uint64_t *bar, uint32_t rank) {
    uint32_t remote = set_block_rank(cast_smem_ptr_to_uint(bar), rank);
    asm volatile("mbarrier.arrive.release.cluster.shared::cluster.b64 _, [%0];" ::"r"(remote) : "memory");
}
#endif

// Tile t of the grid (one per cluster): its cluster row and its tile column. Clusters walk down a
// group of GROUP cluster rows before moving right, so the blocks running together share their A
// rows and B columns in L2.
__device__ __forceinline__ void h_tile_of(int t, int cluster_rows, int tiles_n, int &cluster_row, int &tile_col) {
    const int per_group = H_GROUP * tiles_n;
    const int first = (t / per_group) * H_GROUP;
    const int height = min(H_GROUP, cluster_rows - first);  // the last group may be shorter
    cluster_row = first + (t % per_group) % height;
    tile_col = (t % per_group) / height;
}

// The cluster shape is the kernel's own (__cluster_dims__), so <<<>>> launches it in clusters. The
// sm_80 compiler knows no clusters; an sm_80 build never launches this kernel.
#if (defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900) || H_CLUSTER_SIZE == 1
#define H_CLUSTER_DIMS
#else
#define H_CLUSTER_DIMS __cluster_dims__(H_CLUSTER_SIZE, 1, 1)
#endif

__global__ void __launch_bounds__(H_THREADS, 1) H_CLUSTER_DIMS
cute_gemm_sm90_kernel(const __grid_constant__ CUtensorMap a_map, const __grid_constant__ CUtensorMap b_map,
                      bf16 *C, int M, int N, int K) {
#if H_SM90
    extern __shared__ uint8_t smem_raw[];
    // The 128-byte swizzle repeats every 1024 bytes: stages start on such a boundary.
    uint8_t *smem = smem_raw + ((1024 - (cast_smem_ptr_to_uint(smem_raw) & 1023)) & 1023);
    bf16 *smem_a = reinterpret_cast<bf16 *>(smem);
    bf16 *smem_b = smem_a + H_STAGES * H_BM * H_BK;
    __shared__ __align__(8) uint64_t full[H_STAGES], empty[H_STAGES];

    Tensor sA = make_tensor(make_smem_ptr(smem_a), HSmemLayoutA{});  // (BM, BK, STAGES)
    Tensor sB = make_tensor(make_smem_ptr(smem_b), HSmemLayoutB{});  // (BN, BK, STAGES)

    // Which tile: the cluster's place in the grouped order, then this block's row within it.
    const int tiles_m = (M + H_BM - 1) / H_BM, tiles_n = (N + H_BN - 1) / H_BN;
    const int cluster_rows = (tiles_m + H_CLUSTER - 1) / H_CLUSTER;
    const uint32_t rank = H_CLUSTER > 1 ? block_rank_in_cluster() : 0;
    int cluster_row, tile_n;
    h_tile_of(blockIdx.x / H_CLUSTER, cluster_rows, tiles_n, cluster_row, tile_n);
    const int tile_m = cluster_row * H_CLUSTER + rank;
    // With an odd number of row tiles, the last cluster's second block has no tile of its own: it
    // still loads (and multicasts) its half of B for its partner, computes on rows 0.. of A (always
    // inside the matrix), and stores nothing.
    const bool has_tile = tile_m < tiles_m;
    const int m0 = (has_tile ? tile_m : 0) * H_BM, n0 = tile_n * H_BN;
    const int k_tiles = (K + H_BK - 1) / H_BK;  // the last one may be partial: TMA fills it with zeros
    // The rows of B this block loads for the cluster. When they lie wholly past N (a narrow matrix)
    // they feed only columns that are never stored, so rows 0.. (inside the matrix) stand in: no TMA
    // box here lies wholly outside its matrix; boxes that straddle an edge are zero-filled.
    const int b_row = (n0 + int(rank) * H_B_PART < N) ? n0 + int(rank) * H_B_PART : 0;

    const int wg = threadIdx.x / 128;
    if (threadIdx.x == 0) {
        for (int s = 0; s < H_STAGES; ++s) {
            initialize_barrier(full[s], 1);                          // the producer's arrive (+ bytes)
            initialize_barrier(empty[s], H_CONSUMERS * 4 * H_CLUSTER);  // every consumer warp of the cluster
        }
        // The inits must be visible to the whole cluster (TMA and remote arrives) before use.
        asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    }
    if constexpr (H_CLUSTER > 1) cluster_sync(); else __syncthreads();

    if (wg == 0) {
        // ---- the producer: one thread issues every TMA load ---------------------------------------
        asm volatile("setmaxnreg.dec.sync.aligned.u32 40;");
        if (threadIdx.x == 0) {
            prefetch_tma_descriptor(&a_map);
            prefetch_tma_descriptor(&b_map);
            const uint64_t hint = uint64_t(TMA::CacheHintSm90::EVICT_NORMAL);
            const uint16_t everyone = uint16_t((1u << H_CLUSTER) - 1);
            for (int kt = 0; kt < k_tiles; ++kt) {
                const int s = kt % H_STAGES;
                // Wait until every consumer of the cluster is done with this stage's previous tile
                // (parity of the previous phase: a fresh barrier passes at once).
                wait_barrier(empty[s], ((kt / H_STAGES) & 1) ^ 1);
                set_barrier_transaction_bytes(full[s], H_A_BYTES + H_B_BYTES);
                // Coordinates run innermost first: (k, row).
                // A stage is whole 1024-byte swizzle atoms, so plain offsets find its start (and
                // the start of the B rows this block loads: 64 or 128 rows of 128 bytes).
                SM90_TMA_LOAD_2D::copy(&a_map, &full[s], hint, smem_a + s * H_BM * H_BK, kt * H_BK, m0);
                bf16 *b_dst = smem_b + s * H_BN * H_BK + rank * H_B_PART * H_BK;
                if constexpr (H_CLUSTER == 1)
                    SM90_TMA_LOAD_2D::copy(&b_map, &full[s], hint, b_dst, kt * H_BK, n0);
                else  // this block's share of B, into the same place in every block of the cluster
                    SM90_TMA_LOAD_MULTICAST_2D::copy(&b_map, &full[s], everyone, hint, b_dst, kt * H_BK, b_row);
            }
        }
    } else {
        // ---- the consumers: two warpgroups, 64 rows of the tile each ------------------------------
        asm volatile("setmaxnreg.inc.sync.aligned.u32 232;");
        const int ctid = threadIdx.x - 128;  // 0..255: the TiledMMA's thread index
        HTiledMma mma;
        ThrMMA thr_mma = mma.get_slice(ctid);
        Tensor tCsA = thr_mma.partition_A(sA);          // (MMA, MMA_M, MMA_K, STAGES), shared memory
        Tensor tCsB = thr_mma.partition_B(sB);          // (MMA, MMA_N, MMA_K, STAGES)
        Tensor tCrA = thr_mma.make_fragment_A(tCsA);    // the same, as wgmma descriptors
        Tensor tCrB = thr_mma.make_fragment_B(tCsB);
        Tensor acc = partition_fragment_C(mma, Shape<HBM, HBN>{});  // (MMA, MMA_M, MMA_N), FP32
        clear(acc);

        const bool release_lane = (threadIdx.x % 32) == 0;
        for (int kt = 0; kt < k_tiles; ++kt) {
            const int s = kt % H_STAGES;
            wait_barrier(full[s], (kt / H_STAGES) & 1);
            warpgroup_fence_operand(acc);
            warpgroup_arrive();
            CUTE_UNROLL
            for (int kb = 0; kb < size<2>(tCrA); ++kb)   // 4 wgmmas of k16, one commit group
                gemm(mma, tCrA(_, _, kb, s), tCrB(_, _, kb, s), acc);
            warpgroup_commit_batch();
            // Keep this tile's wgmmas in flight; the previous tile's are done once at most one
            // group is pending, and its stage goes back to the producer(s).
            warpgroup_wait<1>();
            warpgroup_fence_operand(acc);
            if (kt > 0 && release_lane) {
                if constexpr (H_CLUSTER == 1) arrive_barrier(empty[(kt - 1) % H_STAGES]);
                else
                    for (int r = 0; r < H_CLUSTER; ++r) arrive_cluster(&empty[(kt - 1) % H_STAGES], r);
            }
        }
        warpgroup_wait<0>();
        warpgroup_fence_operand(acc);

        // ---- the epilogue: BF16, predicated, from the accumulators straight to global -------------
        if (has_tile) {
            // The coordinate of each accumulator within the tile: an identity tensor partitioned as C.
            Tensor tCcC = thr_mma.partition_C(make_identity_tensor(Shape<HBM, HBN>{}));  // (MMA, MMA_M, MMA_N)
            const bool pairs = (N % 2) == 0;  // then an even column starts a 4-byte-aligned pair
            CUTE_UNROLL
            for (int i = 0; i < size(acc); i += 2) {
                // wgmma's accumulator layout puts columns c, c+1 of a row in consecutive registers.
                const int row = m0 + get<0>(tCcC(i)), col = n0 + get<1>(tCcC(i));
                if (row >= M) continue;
                bf16 *dst = C + int64_t(row) * N + col;
                if (pairs && col + 1 < N) {
                    __nv_bfloat162 v = __floats2bfloat162_rn(acc(i), acc(i + 1));
                    *reinterpret_cast<__nv_bfloat162 *>(dst) = v;
                } else {
                    if (col < N) dst[0] = bf16(acc(i));
                    if (col + 1 < N) dst[1] = bf16(acc(i + 1));
                }
            }
        }
    }
    // No block of a cluster may leave while its partner can still multicast into its shared memory
    // or arrive on its barriers.
    if constexpr (H_CLUSTER > 1) cluster_sync();
#endif
}

// ==== the fallback: session 06's mma.sync pipeline (sm_80 and up) ================================
//
//   a TiledMMA      2 x 2 warps of mma.sync m16n8k16 (BF16 in, FP32 accumulators); a 128 x 128
//                   block tile gives each warp 64 x 64 of C;
//   shared memory   STAGES = 4 stages of a 128 x 32 tile of A and of B, both K-major, swizzled so
//                   that ldmatrix reads 8 rows without a bank conflict (16 KB a stage, 64 KB in all);
//   a TiledCopy     of 16-byte cp.async, global -> shared, predicated on an identity tensor:
//                   a chunk outside (M or N) x K is zero-filled instead of read;
//   a TiledCopy     of ldmatrix.x4, shared -> the MMA's fragments;
//   the epilogue    FP32 -> BF16 in registers, stores predicated on the same kind of identity tensor.

constexpr int TILE_M = 128, TILE_N = 128, TILE_K = 32;  // block tile of C, and the K slice of a stage
constexpr int STAGES = 4;                               // shared-memory ring depth
constexpr int THREADS = 128;                            // 4 warps
constexpr int SMEM_BYTES = STAGES * (TILE_M + TILE_N) * TILE_K * (int)sizeof(bf16);
using BM = Int<TILE_M>;
using BN = Int<TILE_N>;
using BK = Int<TILE_K>;
using PIPE = Int<STAGES>;

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

// ==== the launcher ===============================================================================

// The Hopper kernel can run: the GPU is sm_90 and the kernel's image was compiled for it (sm_90a).
// In an sm_80 build the kernel exists with an empty body: its image says 80, and the mma.sync path
// runs. Asked on every call (microseconds; no state kept between calls).
static bool hopper_path_available() {
    int dev = 0, major = 0;
    if (cudaGetDevice(&dev) != cudaSuccess) return false;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess || major != 9) return false;
    cudaFuncAttributes attr;
    if (cudaFuncGetAttributes(&attr, cute_gemm_sm90_kernel) != cudaSuccess) {
        (void)cudaGetLastError();  // no image for this GPU: not an error of the launch to come
        return false;
    }
    return attr.binaryVersion >= 90;
}

void cute_gemm(const uint16_t *A, const uint16_t *B, uint16_t *C, int M, int N, int K, cudaStream_t stream) {
    if (hopper_path_available()) {
        CUtensorMap a_map, b_map;
        if (tma_map_bf16(&a_map, A, M, K, H_BM, H_BK, 1) == 0 && tma_map_bf16(&b_map, B, N, K, H_B_PART, H_BK, 1) == 0) {
            cudaFuncSetAttribute(cute_gemm_sm90_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, H_SMEM_BYTES);
            const int tiles_m = (M + H_BM - 1) / H_BM, tiles_n = (N + H_BN - 1) / H_BN;
            const int clusters = (tiles_m + H_CLUSTER - 1) / H_CLUSTER * tiles_n;
            cute_gemm_sm90_kernel<<<clusters * H_CLUSTER, H_THREADS, H_SMEM_BYTES, stream>>>(
                a_map, b_map, reinterpret_cast<bf16 *>(C), M, N, K);
            return;
        }
        // A map TMA cannot describe (it said why): the mma.sync path computes the same product.
    }
    // More than 48 KB of dynamic shared memory needs an opt-in.
    cudaFuncSetAttribute(cute_gemm_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_BYTES);
    dim3 grid((M + TILE_M - 1) / TILE_M, (N + TILE_N - 1) / TILE_N);
    cute_gemm_kernel<<<grid, THREADS, SMEM_BYTES, stream>>>(reinterpret_cast<const bf16 *>(A),
                                                            reinterpret_cast<const bf16 *>(B),
                                                            reinterpret_cast<bf16 *>(C), M, N, K);
}
