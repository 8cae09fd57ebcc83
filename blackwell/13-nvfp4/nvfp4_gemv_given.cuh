// Session 13: what every NVFP4 GEMV rung (02-06) is given, skeletons and solutions alike: a warp
// sum, the e4m3 block scale as a float, FP16 bits to float and back, and the loads that stream the
// matrix past the L1. Every function here also runs on the CPU (tests/nvfp4/ follows the kernels'
// arithmetic on the host with them).
#ifndef SESSION13_NVFP4_GEMV_GIVEN_CUH
#define SESSION13_NVFP4_GEMV_GIVEN_CUH

#include <cuda_fp16.h>
#include <stdint.h>

#define FULL_MASK 0xffffffffu
#define GEMV_WARPS 8                  // warps of a block in every rung
#define GEMV_THREADS (32 * GEMV_WARPS)

// Every lane gets the sum of the 32 lanes' values (xor butterfly, five steps).
__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) x += __shfl_xor_sync(FULL_MASK, x, offset);
    return x;
}

// FP16 bits (IEEE binary16) as a float: exact, subnormals included.
__host__ __device__ __forceinline__ float half_bits_to_float(uint32_t bits) {
    __half_raw raw;
    raw.x = (unsigned short)bits;
    return __half2float(__half(raw));
}

// A float rounded once to the nearest FP16 (ties to even), as the output stores it.
__host__ __device__ __forceinline__ uint16_t float_to_half_bits(float x) {
    const __half_raw raw = __half(__float2half_rn(x));
    return raw.x;
}

// The FP16 bits of an e4m3 code, worth its value times 2^-8. e4m3 (sign, 4 exponent bits with bias
// 7, 3 mantissa bits) is FP16 (bias 15, 10 mantissa bits) with fewer bits: moved up 7 places, the
// exponent and mantissa land in FP16's, and the difference of the biases, 8, is a factor 2^-8 that
// holds for subnormals too (both formats have them at exponent 0).
__host__ __device__ __forceinline__ uint32_t e4m3_half_bits(uint32_t code) {
    return ((code & 0x7Fu) << 7) | ((code & 0x80u) << 8);
}

// An e4m3 block scale as a float, exact (0x7F and 0xFF, NaN, never occur).
__host__ __device__ __forceinline__ float e4m3_to_float(uint32_t code) {
    return half_bits_to_float(e4m3_half_bits(code)) * 256.0f;
}

// 16 bytes of a (32 codes). Each byte of a is read once per launch, so it is not kept in the L1
// (L1::no_allocate), which stays free for b; the read-only path (.nc): nothing writes a.
__host__ __device__ __forceinline__ uint4 load_codes(const uint4 *p) {
#ifdef __CUDA_ARCH__
    uint4 v;
    asm("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
        : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
        : "l"(p));
    return v;
#else
    return *p;
#endif
}

// Two bytes of sfa (the scales of one 16-byte chunk of a), streamed the same way.
__host__ __device__ __forceinline__ uint32_t load_scale_pair(const uint16_t *p) {
#ifdef __CUDA_ARCH__
    unsigned short v;
    asm("ld.global.nc.L1::no_allocate.u16 %0, [%1];" : "=h"(v) : "l"(p));
    return v;
#else
    return *p;
#endif
}

#endif
