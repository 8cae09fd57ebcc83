// Session 13, exercise 1: float32 to NVFP4 and back.
//
// NVFP4 stores each value in 4 bits, an e2m1 code: a sign, 2 exponent bits, 1 mantissa bit, so
// only the magnitudes 0, 0.5, 1, 1.5, 2, 3, 4 and 6. What rescues it is a scale shared by every 16
// values: an 8-bit e4m3 code that moves the block's largest value onto e2m1's largest, 6. (A float32
// global scale, chosen once per tensor, keeps the block scales inside e4m3's range.)
//
// One thread owns one block of 16 values: 64 bytes of floats in, 8 bytes of codes and 1 scale byte
// out. K % 16 == 0, so block i of the whole tensor is block i of every output: rows do not matter.
// Given (nvfp4_given.cuh): e2m1_value, e4m3_value, and e4m3_round (float to the nearest e4m3).
// Yours, the TODOs:
//   - e2m1_round: a float to the nearest e2m1 code, ties to the even code;
//   - the block: its largest |x|, its scale, S, and the 16 codes packed two a byte;
//   - the dequantiser's one line.
// Every result is compared bit for bit, so do the float operations exactly as exercises.h writes
// them, in that order: amax / (6 * global_scale), then e4m3_value(scale) * global_scale, then x / S.
//
//   make check ONLY=01_nvfp4_quantize          (both entries: quantise, and +dequantize)
//   make demo-quantize                         one block worked through on the CPU
#include "exercises.h"
#include "nvfp4_given.cuh"

#define QUANT_THREADS 256

// The e2m1 code nearest to v (its magnitude in bits 0-2, the sign in bit 3). __host__ __device__:
// the CPU can run it too.
__host__ __device__ inline uint32_t e2m1_round(float v) {
    const float a = fabsf(v);
    uint32_t code = 0;
    // TODO 1: the nearest of 0, 0.5, 1, 1.5, 2, 3, 4, 6 (codes 0 .. 7) to a. Compare a with the
    //         midpoints 0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5. At a midpoint exactly, the EVEN code wins
    //         (0.25 gives 0, but 0.75 gives code 2); above 5, code 7 (6 saturates). Then put the sign
    //         of v in bit 3 with signbit(v): a small negative v gives code 8, -0.
    code = (uint32_t)(a > 0.25f) + (uint32_t)(a >= 0.75f) + (uint32_t)(a > 1.25f) + (uint32_t)(a >= 1.75f) +
           (uint32_t)(a > 2.5f) + (uint32_t)(a >= 3.5f) + (uint32_t)(a > 5.0f);
    if (signbit(v)) code |= 8u;
    return code;
}

// One block: x[16] in; the 8 code bytes out in *codes (uint2: codes.x holds values 0-7, codes.y
// 8-15, value k in bits 4k .. 4k+3 of its word: the even value in the LOW nibble of its byte).
// Returns the scale code.
__host__ __device__ inline uint8_t quantize_block(const float *x, float global_scale, uint2 *codes) {
    float amax = 0.0f;
    // TODO 2: amax = the largest |x[k]| of the block (fabsf, fmaxf).
    for (int k = 0; k < NVFP4_BLOCK; k++) amax = fmaxf(amax, fabsf(x[k]));

    uint8_t scale = 0;
    float S = 0.0f;
    // TODO 3: scale = e4m3_round(amax / (6.0f * global_scale)); S = e4m3_value(scale) * global_scale.
    scale = e4m3_round(amax / (6.0f * global_scale));
    S = e4m3_value(scale) * global_scale;

    uint32_t word[2] = {0, 0};
    // TODO 4: when S != 0, each value's code e2m1_round(x[k] / S) into word[k / 8] at bit 4 * (k % 8).
    //         When S == 0 (an all-zero block, or one too small for the smallest scale) every code
    //         stays +0: x / 0 is not a number.
    if (S != 0.0f)
        for (int k = 0; k < NVFP4_BLOCK; k++) word[k / 8] |= e2m1_round(x[k] / S) << (4 * (k % 8));

    *codes = make_uint2(word[0], word[1]);
    return scale;
}

__global__ void nvfp4_quantize_kernel(const float4 *X, float global_scale, uint2 *q, uint8_t *scales,
                                      long n_blocks) {
    const long block = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (block >= n_blocks) return;
    float x[NVFP4_BLOCK];
    for (int i = 0; i < 4; i++) {   // the block's 64 bytes, four 16-byte loads
        const float4 v = X[block * 4 + i];
        x[4 * i] = v.x, x[4 * i + 1] = v.y, x[4 * i + 2] = v.z, x[4 * i + 3] = v.w;
    }
    uint2 codes;
    scales[block] = quantize_block(x, global_scale, &codes);
    q[block] = codes;
}

__global__ void nvfp4_dequantize_kernel(const uint2 *q, const uint8_t *scales, float global_scale, float4 *Y,
                                        long n_blocks) {
    const long block = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (block >= n_blocks) return;
    const float s = e4m3_value(scales[block]);
    const uint2 codes = q[block];
    const uint32_t word[2] = {codes.x, codes.y};
    float y[NVFP4_BLOCK];
    for (int k = 0; k < NVFP4_BLOCK; k++) {
        const uint32_t code = (word[k / 8] >> (4 * (k % 8))) & 0xF;
        y[k] = 0.0f;
        // TODO 5: y[k] = (e2m1_value(code) * s) * global_scale, multiplied in that order: the first
        //         product is exact, so only the second rounds, as in the reference.
        y[k] = (e2m1_value(code) * s) * global_scale;
    }
    for (int i = 0; i < 4; i++) Y[block * 4 + i] = make_float4(y[4 * i], y[4 * i + 1], y[4 * i + 2], y[4 * i + 3]);
}

static unsigned blocks_for(long n_blocks) { return (unsigned)((n_blocks + QUANT_THREADS - 1) / QUANT_THREADS); }

void nvfp4_quantize(const float *X, float global_scale, uint8_t *q, uint8_t *scales, int rows, int K,
                    cudaStream_t stream) {
    const long n_blocks = (long)rows * (K / NVFP4_BLOCK);
    if (n_blocks == 0) return;
    nvfp4_quantize_kernel<<<blocks_for(n_blocks), QUANT_THREADS, 0, stream>>>((const float4 *)X, global_scale,
                                                                              (uint2 *)q, scales, n_blocks);
}

void nvfp4_dequantize(const uint8_t *q, const uint8_t *scales, float global_scale, float *Y, int rows, int K,
                      cudaStream_t stream) {
    const long n_blocks = (long)rows * (K / NVFP4_BLOCK);
    if (n_blocks == 0) return;
    nvfp4_dequantize_kernel<<<blocks_for(n_blocks), QUANT_THREADS, 0, stream>>>((const uint2 *)q, scales,
                                                                                global_scale, (float4 *)Y, n_blocks);
}
