// Session 12, exercise 7, the skeleton with its TODOs done (a check of the frame, not a solution): the decode GEMV with FP8 weights (e4m3): Y = X W^T, FP32 sums.
//
// Half the bytes of BF16 weights (59 MB for 14336 x 4096 instead of 117 MB), and unlike 4-bit
// integers a floating-point format: each weight carries its own exponent, and a float32 scale per
// 128 weights of a row places the group where the format is dense.
//
// The format (exercises.h): one byte a weight, s eeee mmm: a sign, 4 exponent bits with bias 7 and
// 3 mantissa bits.
//   - exponent 1 .. 15: a normal number, (1 + m/8) * 2^(e - 7): from 2^-6 up to 1.75 * 2^8 = 448;
//   - exponent 0: a subnormal, no implicit leading 1 and the smallest exponent, m/8 * 2^-6: the
//     values 0, 2^-9, 2 * 2^-9, ... 7 * 2^-9 between zero and the smallest normal;
//   - no infinities; 0x7F and 0xFF (exponent 15, mantissa 7) are NaN and never occur.
// W[n][k] = e4m3(W8[n][k]) * scales[n][k / 128].
//
// The frame is exercise 6's: a warp per row of W; lane l reads the row's 16-byte chunks l, l + 32,
// ... (a chunk is 16 weights here); each chunk serves every batch row; warp_sum at the end. Yours:
//   - e4m3_to_float: the normal codes (TODO 1) and the subnormal ones (TODO 2);
//   - TODO 3: a chunk's 16 products with each batch row, summed, times the group's float scale once
//     per chunk (a group is 128 bytes: 8 chunks, never straddled).
// make check ONLY=07_gemv_fp8 grades it. The grader's weights put a quarter of the groups among the
// smallest codes, the subnormals: a decoder that gets them wrong fails.
//
// What it does not do (the solution does): decode two weights per instruction, with a bit trick
// that moves an e4m3 code into the bits of a BF16 (subnormals included) and one multiply that fixes
// the exponent's bias; and multiply on the tensor cores.
#include "exercises.h"
#include "quant_given.cuh"

#define WARPS_PER_BLOCK 8
#define THREADS (32 * WARPS_PER_BLOCK)
#define MAX_BATCH 8

// The value of one e4m3 code (the low 8 bits of `code`). ldexpf(x, e) is x * 2^e, exact here.
__device__ __forceinline__ float e4m3_to_float(uint32_t code) {
    const int exponent = (code >> 3) & 0xF, mantissa = code & 7;
    float magnitude = 0.0f;
    if (exponent > 0) magnitude = ldexpf(1.0f + mantissa / 8.0f, exponent - 7);
    else magnitude = ldexpf(mantissa / 8.0f, -6);
    return (code & 0x80) ? -magnitude : magnitude;
}

__global__ void __launch_bounds__(THREADS)
gemv_fp8_warp_per_row(const uint8_t *W8, const float *scales, const uint16_t *X, uint16_t *Y, int M, int N, int K) {
    const int lane = threadIdx.x % 32;
    const long n = (long)blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32;  // this warp's row of W
    if (n >= N) return;  // a whole warp leaves: nothing below waits for the block
    const int chunks = K / 16;                                          // 16-byte chunks (16 weights) a row
    const uint4 *w_row = reinterpret_cast<const uint4 *>(W8 + n * K);  // one byte a weight
    const float *s_row = scales + n * (K / QUANT_GROUP);                // one scale per 128 weights
    const uint4 *x4 = reinterpret_cast<const uint4 *>(X);              // row m of X: K / 8 chunks of 8 BF16
    float acc[MAX_BATCH];
#pragma unroll
    for (int m = 0; m < MAX_BATCH; m++) acc[m] = 0.0f;

    for (int c = lane; c < chunks; c += 32) {
        const uint4 codes = load_weights(w_row + c);
        const uint32_t words[4] = {codes.x, codes.y, codes.z, codes.w};
        float w[16];  // the chunk's weights k = 16c .. 16c + 15, in k order (byte b of word i: k = 16c + 4i + b), not yet scaled
#pragma unroll
        for (int i = 0; i < 16; i++) w[i] = e4m3_to_float(words[i / 4] >> (8 * (i % 4)));
        const float scale = s_row[c / 8];
#pragma unroll
        for (int m = 0; m < MAX_BATCH; m++) {
            if (m < M) {
                float sum = 0.0f;
#pragma unroll
                for (int j = 0; j < 2; j++) {
                    float x[8];
                    bf16x8_to_float(__ldg(x4 + (long)m * (K / 8) + 2 * c + j), x);
#pragma unroll
                    for (int i = 0; i < 8; i++) sum = fmaf(w[8 * j + i], x[i], sum);
                }
                acc[m] += scale * sum;
            }
        }
    }

#pragma unroll
    for (int m = 0; m < MAX_BATCH; m++) {
        if (m >= M) break;
        const float total = warp_sum(acc[m]);  // every lane takes part
        if (lane == 0) Y[(long)m * N + n] = float_to_bf16(total);
    }
}

void gemv_fp8(const uint8_t *W8, const float *scales, const uint16_t *X, uint16_t *Y, int M, int N, int K,
              cudaStream_t stream) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    const unsigned blocks = (unsigned)((N + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK);
    for (int m0 = 0; m0 < M; m0 += MAX_BATCH) {  // batch rows m0 .. m0 + MAX_BATCH - 1
        const int rows = M - m0 < MAX_BATCH ? M - m0 : MAX_BATCH;
        gemv_fp8_warp_per_row<<<blocks, THREADS, 0, stream>>>(W8, scales, X + (long)m0 * K, Y + (long)m0 * N, rows, N,
                                                              K);
    }
}
