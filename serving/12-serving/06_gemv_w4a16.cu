// Session 12, exercise 6: W4A16, the decode GEMV with 4-bit weights: Y = X W^T, FP32 sums.
//
// Decode's time is the time to read W. Stored in 4 bits instead of 16, the 14336 x 4096 layer of
// exercise 1 is 29 MB instead of 117 MB, and decode can run close to four times faster, if the
// weights are unpacked for less than the time the memory saves. The activations stay BF16 ("A16").
//
// The format (exercises.h): row n of W4 is K / 2 bytes; byte j holds weight k = 2j in its low
// nibble and k = 2j + 1 in its high nibble, each a two's-complement integer q in [-8, 7]. Each
// group of 128 consecutive weights of a row shares one BF16 scale: W[n][k] = q * scales[n][k / 128].
//
// The frame is exercise 1's: a warp per row of W; lane l reads the row's 16-byte chunks l, l + 32,
// ... (a chunk now holds 32 weights); each chunk serves every batch row; warp_sum adds the lanes'
// sums and lane 0 writes. Yours, the TODOs:
//   - unpack_int4x8: the 8 nibbles of a 32-bit word as 8 integers, low nibble first, and
//     sign-extended;
//   - in the kernel, a chunk's 32 products with each batch row, summed, then multiplied by the
//     group's scale: once per chunk, not once per weight (a chunk never straddles two groups: 16
//     bytes are 32 weights, a group is 64 bytes, four chunks, and K % 128 == 0 keeps every row
//     whole groups).
// make check ONLY=06_gemv_w4a16 grades it; the +batch8 variant times it at M = 8.
//
// What it does not do (the solution does): unpack two weights per instruction (a BF16 bit trick
// instead of an integer-to-float conversion per weight), and multiply on the tensor cores: at
// batch 8 the eight FFMAs per weight would ask more of the SM than it can issue at memory speed.
#include "exercises.h"
#include "quant_given.cuh"

#define WARPS_PER_BLOCK 8
#define THREADS (32 * WARPS_PER_BLOCK)
#define MAX_BATCH 8

// Eight 4-bit two's-complement integers of a word, in k order: q[i] comes from bits 4i .. 4i + 3
// (the low nibble of each byte is the earlier k; the lower byte the earlier pair).
__device__ __forceinline__ void unpack_int4x8(uint32_t word, float q[8]) {
#pragma unroll
    for (int i = 0; i < 8; i++) {
        int nibble = 0;
        // TODO 1: nibble i of the word: shift it down to bit 0 and keep 4 bits.
        // TODO 2: sign-extend it: 0..7 stay, 8..15 are -8..-1. (nibble ^ 8) - 8 does it without a
        //         branch: flipping bit 3 maps -8..7 onto 0..15 in order.
        q[i] = (float)nibble;
    }
}

__global__ void __launch_bounds__(THREADS)
gemv_w4a16_warp_per_row(const uint8_t *W4, const uint16_t *scales, const uint16_t *X, uint16_t *Y, int M, int N,
                        int K) {
    const int lane = threadIdx.x % 32;
    const long n = (long)blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32;  // this warp's row of W
    if (n >= N) return;  // a whole warp leaves: nothing below waits for the block
    const int chunks = K / 32;                                              // 16-byte chunks (32 weights) a row
    const uint4 *w_row = reinterpret_cast<const uint4 *>(W4 + n * (K / 2));  // K / 2 bytes a row: two weights a byte
    const uint16_t *s_row = scales + n * (K / QUANT_GROUP);                 // one scale per 128 weights
    const uint4 *x4 = reinterpret_cast<const uint4 *>(X);                   // row m of X: K / 8 chunks of 8 BF16
    float acc[MAX_BATCH];
#pragma unroll
    for (int m = 0; m < MAX_BATCH; m++) acc[m] = 0.0f;

    for (int c = lane; c < chunks; c += 32) {
        const uint4 packed = load_weights(w_row + c);
        float q[32];  // the chunk's weights k = 32c .. 32c + 31, in k order, not yet scaled
        unpack_int4x8(packed.x, q);
        unpack_int4x8(packed.y, q + 8);
        unpack_int4x8(packed.z, q + 16);
        unpack_int4x8(packed.w, q + 24);
        // TODO 3: the chunk lies in group c / 4 (four chunks a group): its scale is
        //         bf16_to_float(s_row[c / 4]). For every batch row m < M (loop to MAX_BATCH with
        //         #pragma unroll and test m < M inside: acc stays in registers): the sum of the 32
        //         products q[i] * x[m][32c + i], where X's 32 values are 4 chunks of 8 BF16,
        //         x4[m * (K / 8) + 4c + j] for j = 0..3 (__ldg them, bf16x8_to_float them); then
        //         acc[m] += scale * sum.
    }

#pragma unroll
    for (int m = 0; m < MAX_BATCH; m++) {
        if (m >= M) break;
        const float total = warp_sum(acc[m]);  // every lane takes part
        if (lane == 0) Y[(long)m * N + n] = float_to_bf16(total);
    }
}

void gemv_w4a16(const uint8_t *W4, const uint16_t *scales, const uint16_t *X, uint16_t *Y, int M, int N, int K,
                cudaStream_t stream) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    const unsigned blocks = (unsigned)((N + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK);
    for (int m0 = 0; m0 < M; m0 += MAX_BATCH) {  // batch rows m0 .. m0 + MAX_BATCH - 1
        const int rows = M - m0 < MAX_BATCH ? M - m0 : MAX_BATCH;
        gemv_w4a16_warp_per_row<<<blocks, THREADS, 0, stream>>>(W4, scales, X + (long)m0 * K, Y + (long)m0 * N, rows,
                                                                N, K);
    }
}
