// Session 11: what the CuTe exercise is given, shared by the skeleton and its solution. The
// exercise file may include only exercises.h and this header, so CuTe (CUTLASS's headers, on the
// include path of this session's build) comes in here: tensors and layouts, the copy atoms
// (cp.async, ldmatrix; on Hopper TMA), the MMA atoms (mma.sync; on Hopper wgmma) and the copy and
// gemm algorithms over them; and, for the Hopper rung, a host helper that builds TMA tensor maps.
#ifndef SESSION11_CUTE_GIVEN_CUH
#define SESSION11_CUTE_GIVEN_CUH

#include <cuda.h>   // CUtensorMap: the 128-byte description of a global tensor that TMA reads
#include <stdint.h>

// CuTe's config.hpp includes <iostream>. With libstdc++ up to GCC 12 that header defines a static
// std::ios_base::Init object in every file that includes it: a constructor run before main, which
// the workbook's object checker refuses (from GCC 13 on it references a library symbol instead).
// Nothing here prints (CuTe's print() is printf), so <iostream> is replaced by what it declares,
// less that object: <istream>, <ostream> and the four standard streams.
#include <istream>
#include <ostream>
#if defined(__GLIBCXX__) && !defined(_GLIBCXX_IOSTREAM)
#define _GLIBCXX_IOSTREAM 1
namespace std _GLIBCXX_VISIBILITY(default) {
_GLIBCXX_BEGIN_NAMESPACE_VERSION
extern istream cin;
extern ostream cout;
extern ostream cerr;
extern ostream clog;
_GLIBCXX_END_NAMESPACE_VERSION
}  // namespace std
#endif

#include <cute/tensor.hpp>            // Tensor, Layout, Swizzle, local_tile, make_identity_tensor
#include <cute/atom/copy_atom.hpp>    // Copy_Atom, make_tiled_copy, make_tiled_copy_A/B
#include <cute/atom/mma_atom.hpp>     // MMA_Atom, make_tiled_mma
#include <cute/algorithm/copy.hpp>    // copy, copy_if
#include <cute/algorithm/gemm.hpp>    // gemm over a TiledMMA's fragments
#include <cute/arch/copy_sm80.hpp>    // SM80_CP_ASYNC_*, cp_async_fence, cp_async_wait
#include <cute/arch/copy_sm75.hpp>    // SM75_U32x4_LDSM_N (ldmatrix)
#include <cute/arch/mma_sm80.hpp>     // SM80_16x8x16_F32BF16BF16F32_TN (mma.sync m16n8k16)
// Hopper (sm_90a): TMA loads and mbarriers, wgmma and its shared-memory layouts, clusters.
#include <cute/arch/copy_sm90_desc.hpp>         // initialize_barrier, wait_barrier, TMA::CacheHintSm90
#include <cute/arch/copy_sm90_tma.hpp>          // SM90_TMA_LOAD_2D, SM90_TMA_LOAD_MULTICAST_2D
#include <cute/arch/cluster_sm90.hpp>           // block_rank_in_cluster, set_block_rank (mapa), cluster_sync
#include <cute/arch/mma_sm90.hpp>               // GMMA::ss_op_selector, SM90_64xNx16_F32BF16BF16_SS
#include <cute/atom/mma_traits_sm90_gmma.hpp>   // GMMA::Layout_K_SW128_Atom, warpgroup_arrive/commit/wait

// Given on the host (given/tensor_map.cu, session 10's helper): describe a rows x cols BF16 row-major
// matrix at `base` for TMA, moved in boxes of box_rows x box_cols elements. swizzle_128b: boxes land
// in shared memory in the 128-byte swizzle (GMMA::Layout_K_SW128_Atom's layout; box_cols must be 64).
// Returns 0, or prints one line saying what TMA does not allow and returns -1. (CuTe's make_tma_copy
// would call the driver itself, which an exercise may not.)
extern "C" int tma_map_bf16(CUtensorMap *map, const void *base, int rows, int cols, int box_rows, int box_cols,
                            int swizzle_128b);

// The element type of A, B and C: 16 bits, the top half of a float32. The exercise's arrays arrive
// as uint16_t and are reinterpreted as this type; float(x) and bf16(f) convert (the latter rounds
// to nearest even).
using bf16 = cute::bfloat16_t;
static_assert(sizeof(bf16) == sizeof(uint16_t), "bfloat16_t is 16 bits");

#endif
