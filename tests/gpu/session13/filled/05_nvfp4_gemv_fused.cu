// Session 13, exercise 5: the fused NVFP4 GEMV, the last rung for Ampere and Hopper.
//
// Exercise 4's loop spends most of its instructions turning codes into floats one at a time: a
// code's 4 bits become an FP16 number, then a float, then one FFMA. Here the arithmetic stays in
// FP16 pairs as long as it is exact, and the scales are applied once per block of 16:
//   - decode, given: E2m1PairsBits::decode (nvfp4_fused_given.cuh) turns a word of a (8 codes) into
//     4 half2 with a shift or two and a LOP3 each: exercise 03's bit trick on both halves at once.
//     Pair p holds codes p and p + 4 of the word, each worth its value times 2^-14;
//   - multiply (yours): one HFMA2 (hfma2_bits) multiplies a pair of a by the matching pair of b
//     and adds both products into a half2 sum. b is already decoded into shared memory by the
//     frame, as exact FP16 pairs in the same pairing: piece j of the chunk is word j's 4 pairs;
//   - scales (yours): per block, the sum's two halves added as floats, times sfa * sfb once.
// The frame (loads in flight, b staged in shared memory, sums, output) is given in
// nvfp4_fused_given.cuh; it calls StudentChunk::dot once per chunk and row.
//
// Is FP16 exact enough? Work it out before you trust it: an e2m1 product is a multiple of 0.25 of
// at most 36; a half of the sum adds 8 of them. How large can it get, and how many significant
// bits does that need? (FP16 has 11.) What does the factor 2^-14 change?
// make check ONLY=05_nvfp4_gemv_fused grades it; make sass EX=05_nvfp4_gemv_fused counts the HFMA2.
//
// Exercise 06 runs this same chunk again on Blackwell's decoder: keep your answer at hand.
#include "exercises.h"
#include "nvfp4_fused_given.cuh"

// One block of 16 codes: words a0, a1 of a (codes 0-7 and 8-15 of the block) and the staged pieces
// b0, b1 of b (4 FP16 pairs each, pair p matching pair p of the decoded word). Returns the
// block's dot product times 2^-14 (the decoder's value_scale), as a float.
__host__ __device__ __forceinline__ float student_block_sum(uint32_t a0, uint32_t a1, uint4 b0, uint4 b1) {
    uint32_t pa0[4], pa1[4];
    E2m1PairsBits::decode(a0, pa0);
    E2m1PairsBits::decode(a1, pa1);
    uint32_t acc = 0;  // +0 in both halves
    // TODO 1: eight HFMA2: acc = hfma2_bits(pa0[0], b0.x, acc), then pa0[1] with b0.y, ... and
    //         pa1[0..3] with b1.x .. b1.w.
    acc = hfma2_bits(pa0[0], b0.x, acc);
    acc = hfma2_bits(pa0[1], b0.y, acc);
    acc = hfma2_bits(pa0[2], b0.z, acc);
    acc = hfma2_bits(pa0[3], b0.w, acc);
    acc = hfma2_bits(pa1[0], b1.x, acc);
    acc = hfma2_bits(pa1[1], b1.y, acc);
    acc = hfma2_bits(pa1[2], b1.z, acc);
    acc = hfma2_bits(pa1[3], b1.w, acc);
    // TODO 2: return the two halves of acc added as floats (half_bits_to_float of acc & 0xFFFF and
    //         of acc >> 16).
    return half_bits_to_float(acc & 0xFFFFu) + half_bits_to_float(acc >> 16);
}

struct StudentChunk {
    // One chunk: 32 codes of a (two blocks: a.x, a.y and a.z, a.w), their two e4m3 scale bytes
    // sfa_pair (low byte: the first block), the staged chunk of b (4 pieces) and b's two block
    // scales (b_scale.x, .y), already multiplied by 2^8 x 2^14 by the frame. Returns acc plus the
    // chunk's contribution.
    static __host__ __device__ __forceinline__ float dot(uint4 a, uint32_t sfa_pair, const uint4 b[4], float2 b_scale,
                                                         float acc) {
        // TODO 3: block 0's scale product, once: s0 = half_bits_to_float(e4m3_half_bits(sfa_pair &
        //         0xFF)) * b_scale.x (e4m3_half_bits is sfa as FP16 bits, worth 2^-8 of its value:
        //         b_scale makes up for that and for the 2^-14); block 1's, s1, from sfa_pair >> 8.
        const float s0 = half_bits_to_float(e4m3_half_bits(sfa_pair & 0xFF)) * b_scale.x;
        const float s1 = half_bits_to_float(e4m3_half_bits(sfa_pair >> 8)) * b_scale.y;
        // TODO 4: acc = fmaf(student_block_sum(a.x, a.y, b[0], b[1]), s0, acc), and the same for
        //         block 1 (a.z, a.w, b[2], b[3], s1); return acc.
        acc = fmaf(student_block_sum(a.x, a.y, b[0], b[1]), s0, acc);
        acc = fmaf(student_block_sum(a.z, a.w, b[2], b[3]), s1, acc);
        return acc;
    }
};

void nvfp4_gemv_fused(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, uint16_t *c, int M,
                      int K, int L, cudaStream_t stream) {
    launch_fused_gemv<StudentChunk, E2m1PairsBits>(a, sfa, b, sfb, c, M, K, L, stream);
}
