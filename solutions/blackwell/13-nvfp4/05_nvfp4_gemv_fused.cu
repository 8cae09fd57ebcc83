// Session 13, exercise 5 (solution): the fused NVFP4 GEMV, the last rung for Ampere and Hopper.
//
// Exercise 4's loop spends most of its instructions turning codes into floats one at a time: a
// code's 4 bits become an FP16 number, then a float, then one FFMA, and the block's sum is
// multiplied by its scales. Here the arithmetic stays in FP16 pairs as long as it is exact:
//   - decode: two codes per shift-and-LOP3 into a half2 (E2m1PairsBits, nvfp4_fused_given.cuh:
//     exercise 03's bit trick on both halves of a register at once);
//   - multiply: one HFMA2 multiplies two codes of a by two of b and adds both into a half2 sum.
//     A block of 16 codes is 8 HFMA2; each half then holds 8 products, at most 288 in size, a
//     multiple of 0.25: exact in FP16 (fused_block_sum says why in full);
//   - scales: once per block of 16, the FP16 pair's halves are added in float and multiplied by
//     sfa * sfb, one float product, and FFMA'd into the row's FP32 sum. The result is the true
//     FP32 sum of exact block products.
// b is decoded once per block into shared memory (exact FP16 pairs in the same pairing as a's).
// The frame, in nvfp4_fused_given.cuh, keeps the next step's loads in flight while a step's sums
// run (2 rows a warp, 4 blocks an SM: tuned on the H200); this exercise's chunk (FusedChunk) is in
// fused_chunk_given.cuh, beside this file, which exercise 06's solution reuses.
//
// Cost per 32 codes of a, by count of the source: about 44 decode instructions (11 a word of 8
// codes, each bit move serving two codes), 16 HFMA2, about 10 for the two blocks' scales and
// sums, 5 shared-memory loads of b shared by the warp's 2 rows: a little over 2 instructions a
// code, where an H200 streaming a at copy speed leaves about 4.
#include "exercises.h"
#include "fused_chunk_given.cuh"  // 05's answer (FusedChunk), beside this file: not in the student bundle

void nvfp4_gemv_fused(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, uint16_t *c, int M,
                      int K, int L, cudaStream_t stream) {
    launch_fused_gemv<FusedChunk<E2m1PairsBits>, E2m1PairsBits>(a, sfa, b, sfb, c, M, K, L, stream);
}
