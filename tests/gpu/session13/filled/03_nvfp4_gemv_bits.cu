// Session 13, exercise 3: the NVFP4 GEMV decoding with bit operations, 16 bytes a load.
//
// Two changes to exercise 2's kernel, one per cost it had:
//   - loads: lane j reads the 16-byte chunks j, j + 32, ... of its row of a (32 codes a load, so a
//     warp reads 512 contiguous bytes per instruction), the same chunk of b (__ldg: every warp
//     reads b, so it stays in the L1), and the chunk's two block scales as one 2-byte load each;
//   - decoding: no table. FP16 is e2m1 with wider fields: put the code's 3 magnitude bits at FP16
//     bits 9..11 (the two low exponent bits and the top mantissa bit) and its sign at bit 15, and
//     the FP16 number is the e2m1 value times 2^-14 (the difference of the exponent biases, 15 - 1),
//     subnormals included: code 1 (0.5) becomes FP16's subnormal 2^-15. Two shifts and an OR.
// A chunk is two whole blocks of 16 (words 0-1 and 2-3): each block's 16 products are summed
// first, then multiplied by the block's two scales. Those sums are exact in float (products are
// multiples of 0.25 up to 36, 16 of them stay under 2^10 with 2 bits after the point).
//
// The kernel's loads are written; yours, the TODOs: the decoding with bit operations, and one
// chunk's products summed block by block. make check ONLY=03_nvfp4_gemv_bits grades it.
#include "exercises.h"
#include "nvfp4_gemv_given.cuh"

// An e2m1 code (the low 4 bits of `nibble`) as a float, with bit operations only.
__host__ __device__ __forceinline__ float e2m1_to_float(uint32_t nibble) {
    uint32_t half_bits = 0;
    // TODO 1: the FP16 bits of the code times 2^-14: its magnitude bits (nibble & 7) moved up to
    //         bits 9..11, its sign bit (nibble & 8) moved up to bit 15. (Try code 1, 0.5: 1 << 9 is
    //         FP16's subnormal 2^-15 = 0.5 x 2^-14; code 7, 6: 7 << 9 = 0x0E00 is 1.5 x 2^-12.)
    half_bits = ((nibble & 7u) << 9) | ((nibble & 8u) << 12);
    return half_bits_to_float(half_bits) * 16384.0f;  // * 2^14: exact
}

// One 16-byte chunk of a against the same chunk of b: 32 codes each, two blocks of 16. scale0,
// scale1 are the products of the two blocks' scales, sfa * sfb.
__host__ __device__ __forceinline__ float chunk_dot_bits(uint4 a, uint4 b, float scale0, float scale1) {
    const uint32_t aw[4] = {a.x, a.y, a.z, a.w}, bw[4] = {b.x, b.y, b.z, b.w};
    float block[2] = {0.0f, 0.0f};
    // TODO 2: word w of a chunk holds k = 8w .. 8w + 7 (nibble i is k = 8w + i, the low nibble
    //         first), so words 0-1 are the first block of 16 and words 2-3 the second. Add into
    //         block[w / 2] the 8 products of each word's codes of a and b (e2m1_to_float of the
    //         word shifted down 4i bits: it keeps the low 4 bits itself). Two loops: nvcc unrolls them
    //         (their bounds are constants).
    for (int w = 0; w < 4; w++)
        for (int i = 0; i < 8; i++) block[w / 2] += e2m1_to_float(aw[w] >> (4 * i)) * e2m1_to_float(bw[w] >> (4 * i));
    return block[0] * scale0 + block[1] * scale1;
}

__global__ void __launch_bounds__(GEMV_THREADS)
nvfp4_gemv_bits_kernel(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, uint16_t *c,
                       int M, int K) {
    const int lane = threadIdx.x % 32, l = blockIdx.y;
    const long m = (long)blockIdx.x * GEMV_WARPS + threadIdx.x / 32;
    if (m >= M) return;
    const long row = (long)l * M + m;
    const int chunks = K / 32;  // 16-byte chunks a row
    const uint4 *a_row = reinterpret_cast<const uint4 *>(a + row * (K / 2));
    const uint16_t *sfa_row = reinterpret_cast<const uint16_t *>(sfa + row * (K / 16));
    const uint4 *b_row = reinterpret_cast<const uint4 *>(b + (long)l * (K / 2));
    const uint16_t *sfb_row = reinterpret_cast<const uint16_t *>(sfb + (long)l * (K / 16));

    float acc = 0.0f;
    for (int ch = lane; ch < chunks; ch += 32) {
        const uint4 av = load_codes(a_row + ch), bv = __ldg(b_row + ch);
        const uint32_t sa = load_scale_pair(sfa_row + ch), sb = __ldg(sfb_row + ch);  // low byte: block 2ch
        const float scale0 = e4m3_to_float(sa & 0xFF) * e4m3_to_float(sb & 0xFF);
        const float scale1 = e4m3_to_float(sa >> 8) * e4m3_to_float(sb >> 8);
        acc += chunk_dot_bits(av, bv, scale0, scale1);
    }
    acc = warp_sum(acc);
    if (lane == 0) c[row] = float_to_half_bits(acc);
}

void nvfp4_gemv_bits(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, uint16_t *c, int M,
                     int K, int L, cudaStream_t stream) {
    if (M <= 0 || K <= 0 || L <= 0) return;
    const dim3 grid((unsigned)((M + GEMV_WARPS - 1) / GEMV_WARPS), (unsigned)L);
    nvfp4_gemv_bits_kernel<<<grid, GEMV_THREADS, 0, stream>>>(a, sfa, b, sfb, c, M, K);
}
