// Session 13, exercise 1 (solution): float32 to NVFP4 and back.
//
//   nvfp4_quantize    one thread per block of 16 values: the block's largest |x|, its e4m3 scale,
//                     16 e2m1 codes packed two a byte
//   nvfp4_dequantize  one thread per block of 16: the codes back to floats
//
// A block of 16 floats is 64 contiguous bytes and its codes and scale are 9 more, so one thread can
// own a block: four 16-byte loads, no shuffles, no shared memory. K % 16 == 0 makes the rows
// irrelevant: block i of the whole tensor is block i of the outputs. The per-block functions are
// __host__ __device__ so that the CPU tests follow the exact arithmetic the GPU does.
//
//   make check ONLY=01_nvfp4_quantize SOLUTION=1
#include "exercises.h"
#include "nvfp4_given.cuh"

#define QUANT_THREADS 256

// The e2m1 code nearest to v: ties to the even code, saturating at 6, the sign of v kept. The
// midpoints between neighbouring magnitudes (0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5) decide: at a
// midpoint "<=" keeps the lower code where it is even and "<" moves up where the upper one is.
__host__ __device__ inline uint32_t e2m1_round(float v) {
    const float a = fabsf(v);
    uint32_t code;
    if (a <= 0.25f) code = 0;        // 0    (0.25 ties to 0, even)
    else if (a < 0.75f) code = 1;    // 0.5  (0.75 ties to 1.0, code 2)
    else if (a <= 1.25f) code = 2;   // 1.0
    else if (a < 1.75f) code = 3;    // 1.5  (1.75 ties to 2.0, code 4)
    else if (a <= 2.5f) code = 4;    // 2.0
    else if (a < 3.5f) code = 5;     // 3.0  (3.5 ties to 4.0, code 6)
    else if (a <= 5.0f) code = 6;    // 4.0
    else code = 7;                   // 6, and everything above saturates here
    return signbit(v) ? code | 8 : code;
}

// One block: x[16] in, 8 code bytes out as a uint2 (value 2i in the low nibble of byte i), the scale
// code returned. The operations and their order are exercises.h's, so the bits match the reference.
__host__ __device__ inline uint8_t quantize_block(const float *x, float global_scale, uint2 *codes) {
    float amax = 0.0f;
    for (int k = 0; k < NVFP4_BLOCK; k++) amax = fmaxf(amax, fabsf(x[k]));
    const uint8_t scale = e4m3_round(amax / (6.0f * global_scale));
    const float S = e4m3_value(scale) * global_scale;
    uint32_t word[2] = {0, 0};
    if (S != 0.0f)   // a zero scale leaves every code +0 (x / 0 would be inf or NaN)
        for (int k = 0; k < NVFP4_BLOCK; k++) word[k / 8] |= e2m1_round(x[k] / S) << (4 * (k % 8));
    *codes = make_uint2(word[0], word[1]);
    return scale;
}

// One block back: (e2m1 * e4m3) * global_scale, in that order (each product is exact but the last).
__host__ __device__ inline void dequantize_block(uint2 codes, uint8_t scale, float global_scale, float *y) {
    const float s = e4m3_value(scale);
    const uint32_t word[2] = {codes.x, codes.y};
    for (int k = 0; k < NVFP4_BLOCK; k++) y[k] = (e2m1_value(word[k / 8] >> (4 * (k % 8))) * s) * global_scale;
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
    float y[NVFP4_BLOCK];
    dequantize_block(q[block], scales[block], global_scale, y);
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
