// Session 13: exercise 05's answer, the arithmetic of one chunk of a against the staged b, given to
// the solutions of 05 and 06 only: it lives in solutions/ (the student bundle holds the frame,
// nvfp4_fused_given.cuh, and not this), and its name ends in _given.cuh because the source scanner
// admits no other local header. A template on the decoder, so that 06 runs the same sums on
// Blackwell's pairs.
#ifndef SESSION13_FUSED_CHUNK_CUH
#define SESSION13_FUSED_CHUNK_CUH

#include "nvfp4_fused_given.cuh"

// One 16-value block (two words of a, two pieces of b): 8 HFMA2, each half
// summing 8 products. Exact: e2m1 products are multiples of 0.25 up to 36, so a half's sum is a
// multiple of 0.25 below 8 x 36 = 288, which FP16 holds exactly up to 512 (11 significant bits);
// times the decoder's value_scale (a power of two, 2^-14 at most down) it stays exact: the
// smallest step, 2^-16, is far above FP16's 2^-24. Returns the block's dot times value_scale().
template <class Decoder>
__host__ __device__ __forceinline__ float fused_block_sum(uint32_t a0, uint32_t a1, uint4 b0, uint4 b1) {
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
    return half_bits_to_float(acc & 0xFFFF) + half_bits_to_float(acc >> 16);  // exact in float
}

// One chunk (32 codes of a, two blocks) against the staged chunk of b.
// sfa_pair: the two blocks' e4m3 scale bytes (low byte first); b_scale: sfb of the two blocks as
// floats, premultiplied by 2^8 / value_scale() (stage_b_chunk). The scales meet once per block:
// sfa (as FP16 bits, worth 2^-8 of its value) times b_scale, then one FFMA into the sum.
template <class Decoder> struct FusedChunk {
    static __host__ __device__ __forceinline__ float dot(uint4 a, uint32_t sfa_pair, const uint4 b[4], float2 b_scale,
                                                         float acc) {
        const float s0 = half_bits_to_float(e4m3_half_bits(sfa_pair & 0xFF)) * b_scale.x;
        const float s1 = half_bits_to_float(e4m3_half_bits(sfa_pair >> 8)) * b_scale.y;
        acc = fmaf(fused_block_sum<Decoder>(a.x, a.y, b[0], b[1]), s0, acc);
        return fmaf(fused_block_sum<Decoder>(a.z, a.w, b[2], b[3]), s1, acc);
    }
};

#endif
