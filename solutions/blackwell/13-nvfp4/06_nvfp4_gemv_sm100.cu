// Session 13, exercise 6 (solution): exercise 05's GEMV with Blackwell's e2m1 conversion.
//
// Blackwell converts FP4 in hardware: the PTX instruction cvt.rn.f16x2.e2m1x2 takes one byte (two
// e2m1 codes) and gives the half2 of their exact values, the low nibble in the low half. PTX
// accepts it on the family-specific Blackwell targets (sm_100a, sm_100f, sm_103a, sm_110a,
// sm_120a and their families: CUDA 13's cuda_fp4.hpp uses it when __CUDA_ARCH_FAMILY_SPECIFIC__
// is 1000 or more), not on plain sm_100 nor on any earlier GPU. So the decoder has two branches,
// chosen when each architecture's code is compiled:
//   - on those targets, 4 converts a word (one a byte): pair p = codes 2p, 2p + 1 of the word,
//     each worth its exact value (value_scale 1);
//   - anywhere else, exercise 05's bit decode: pair p = codes p, p + 4, worth 2^-14 of the value.
// Everything else is exercise 05's frame (nvfp4_fused_given.cuh): b is staged with the same
// decoder, so its pairs line up with a's whichever branch was compiled, and the block scales take
// the decoder's value_scale into account. Both branches give the same exact block sums.
// tests/nvfp4-sm100-test.sh checks that the sm_100a build holds the conversion (SASS
// F2FP.F16.E2M1.UNPACK_B) and that the sm_90a build does not.
#include "exercises.h"
#include "fused_chunk_given.cuh"  // 05's answer (FusedChunk), beside this file: not in the student bundle

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FAMILY_SPECIFIC__) && __CUDA_ARCH_FAMILY_SPECIFIC__ >= 1000
#define HAS_E2M1_CONVERT 1  // this pass compiles for a Blackwell family-specific target
#else
#define HAS_E2M1_CONVERT 0
#endif

struct E2m1PairsSm100 {
    static __host__ __device__ __forceinline__ void decode(uint32_t w, uint32_t pairs[4]) {
#if HAS_E2M1_CONVERT
        asm("{\n\t.reg .b8 q0, q1, q2, q3;\n\t"
            "mov.b32 {q0, q1, q2, q3}, %4;\n\t"
            "cvt.rn.f16x2.e2m1x2 %0, q0;\n\t"
            "cvt.rn.f16x2.e2m1x2 %1, q1;\n\t"
            "cvt.rn.f16x2.e2m1x2 %2, q2;\n\t"
            "cvt.rn.f16x2.e2m1x2 %3, q3;\n\t}"
            : "=r"(pairs[0]), "=r"(pairs[1]), "=r"(pairs[2]), "=r"(pairs[3])
            : "r"(w));
#else
        E2m1PairsBits::decode(w, pairs);
#endif
    }
    static __host__ __device__ __forceinline__ float value_scale() { return HAS_E2M1_CONVERT ? 1.0f : 0x1p-14f; }
};

void nvfp4_gemv_sm100(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, uint16_t *c, int M,
                      int K, int L, cudaStream_t stream) {
    launch_fused_gemv<FusedChunk<E2m1PairsSm100>, E2m1PairsSm100>(a, sfa, b, sfb, c, M, K, L, stream);
}
