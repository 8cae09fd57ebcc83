// Session 11: what the CuTe exercise is given, shared by the skeleton and its solution. The
// exercise file may include only exercises.h and this header, so CuTe (CUTLASS's headers, on the
// include path of this session's build) comes in here: tensors and layouts, the copy atoms
// (cp.async, ldmatrix), the MMA atoms (mma.sync) and the copy and gemm algorithms over them.
#ifndef SESSION11_CUTE_GIVEN_CUH
#define SESSION11_CUTE_GIVEN_CUH

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

// The element type of A, B and C: 16 bits, the top half of a float32. The exercise's arrays arrive
// as uint16_t and are reinterpreted as this type; float(x) and bf16(f) convert (the latter rounds
// to nearest even).
using bf16 = cute::bfloat16_t;
static_assert(sizeof(bf16) == sizeof(uint16_t), "bfloat16_t is 16 bits");

#endif
