// Session 13, exercise 6: exercise 05's GEMV with Blackwell's e2m1 conversion.
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
//
// Yours, the TODOs: both branches of the decoder and its value_scale, then your 05 chunk again.
// make check ONLY=06_nvfp4_gemv_sm100 grades it on any GPU (the fallback); make sass
// EX=06_nvfp4_gemv_sm100 ARCH=sm_100a shows the conversion in the machine code
// (F2FP.F16.E2M1.UNPACK_B), no Blackwell GPU needed.
#include "exercises.h"
#include "nvfp4_fused_given.cuh"

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FAMILY_SPECIFIC__) && __CUDA_ARCH_FAMILY_SPECIFIC__ >= 1000
#define HAS_E2M1_CONVERT 1  // this pass compiles for a Blackwell family-specific target
#else
#define HAS_E2M1_CONVERT 0
#endif

struct E2m1PairsSm100 {
    static __host__ __device__ __forceinline__ void decode(uint32_t w, uint32_t pairs[4]) {
#if HAS_E2M1_CONVERT
        pairs[0] = pairs[1] = pairs[2] = pairs[3] = 0;
        // TODO 1: one asm statement: split w into its 4 bytes (declare four .b8 registers inside
        //         { }, then mov.b32 {q0, q1, q2, q3}, w), and convert each byte with
        //         cvt.rn.f16x2.e2m1x2 into pairs[0..3] (outputs "=r", the input "r").
        asm("{\n\t"
            ".reg .b8 q0, q1, q2, q3;\n\t"
            "mov.b32 {q0, q1, q2, q3}, %4;\n\t"
            "cvt.rn.f16x2.e2m1x2 %0, q0;\n\t"
            "cvt.rn.f16x2.e2m1x2 %1, q1;\n\t"
            "cvt.rn.f16x2.e2m1x2 %2, q2;\n\t"
            "cvt.rn.f16x2.e2m1x2 %3, q3;\n\t"
            "}"
            : "=r"(pairs[0]), "=r"(pairs[1]), "=r"(pairs[2]), "=r"(pairs[3])
            : "r"(w));
#else
        pairs[0] = pairs[1] = pairs[2] = pairs[3] = 0;
        // TODO 2: no conversion instruction here: exercise 05's decoder, E2m1PairsBits::decode.
        E2m1PairsBits::decode(w, pairs);
#endif
    }
    // TODO 3: what a decoded value is worth against the code's value: 1 for the conversion,
    //         2^-14 (0x1p-14f) for the bit trick. HAS_E2M1_CONVERT says which branch is compiled.
    static __host__ __device__ __forceinline__ float value_scale() { return HAS_E2M1_CONVERT ? 1.0f : 0x1p-14f; }
};

// One chunk of a against the staged b: your exercise 05 answer again, with the decoder as a
// template argument, so that the same sums run on either branch's pairs.
template <class Decoder>
__host__ __device__ __forceinline__ float block_sum(uint32_t a0, uint32_t a1, uint4 b0, uint4 b1) {
    // TODO 4: your 05 student_block_sum, with Decoder::decode in place of E2m1PairsBits::decode.
    uint32_t pa0[4], pa1[4];
    Decoder::decode(a0, pa0);
    Decoder::decode(a1, pa1);
    uint32_t acc = 0;  // +0 in both halves
    acc = hfma2_bits(pa0[0], b0.x, acc);
    acc = hfma2_bits(pa0[1], b0.y, acc);
    acc = hfma2_bits(pa0[2], b0.z, acc);
    acc = hfma2_bits(pa0[3], b0.w, acc);
    acc = hfma2_bits(pa1[0], b1.x, acc);
    acc = hfma2_bits(pa1[1], b1.y, acc);
    acc = hfma2_bits(pa1[2], b1.z, acc);
    acc = hfma2_bits(pa1[3], b1.w, acc);
    return half_bits_to_float(acc & 0xFFFFu) + half_bits_to_float(acc >> 16);
}

template <class Decoder> struct Sm100Chunk {
    static __host__ __device__ __forceinline__ float dot(uint4 a, uint32_t sfa_pair, const uint4 b[4], float2 b_scale,
                                                         float acc) {
        // TODO 5: your 05 StudentChunk::dot, calling block_sum<Decoder>. The frame's b_scale already
        //         makes up for Decoder::value_scale(), whichever branch is compiled.
        const float s0 = half_bits_to_float(e4m3_half_bits(sfa_pair & 0xFF)) * b_scale.x;
        const float s1 = half_bits_to_float(e4m3_half_bits(sfa_pair >> 8)) * b_scale.y;
        acc = fmaf(block_sum<Decoder>(a.x, a.y, b[0], b[1]), s0, acc);
        acc = fmaf(block_sum<Decoder>(a.z, a.w, b[2], b[3]), s1, acc);
        return acc;
    }
};

void nvfp4_gemv_sm100(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, uint16_t *c, int M,
                      int K, int L, cudaStream_t stream) {
    launch_fused_gemv<Sm100Chunk<E2m1PairsSm100>, E2m1PairsSm100>(a, sfa, b, sfb, c, M, K, L, stream);
}
