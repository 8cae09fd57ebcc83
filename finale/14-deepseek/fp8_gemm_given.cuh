// Session 14, exercise 3's given pieces: e4m3 bytes widened to BF16 for the m16n8k16 tensor-core
// product of GPUs before sm_89 (session 12's 07 did the same for its weights), and BF16 rounding.
// Shared by the skeleton and its solution; all of it runs on the host too, for the CPU tests.
#ifndef SESSION14_FP8_GEMM_GIVEN_CUH
#define SESSION14_FP8_GEMM_GIVEN_CUH

#include <cuda_bf16.h>
#include <stdint.h>
#include <string.h>

#include "mma_ptx.cuh"

#include <cuda.h>  // CUtensorMap

// Given on the host (given/tensor_map_e4m3.cu): describe a rows x cols e4m3 row-major matrix at
// `base` for TMA, moved in boxes of box_rows rows x 128 bytes landing in shared memory in the
// 128-byte swizzled layout wgmma reads (128 bytes = one 128-value scale block of K). Returns 0, or
// -1 when TMA cannot describe it (cols % 16, a misaligned base, box_rows outside 1..256, no CUDA
// driver entry point).
extern "C" int tma_map_e4m3(CUtensorMap *map, const void *base, long rows, int cols, int box_rows);

// "#pragma unroll" for loops in functions that are compiled for the host too (the CPU emulation in
// the tests): the host compiler does not know the pragma and would warn.
#ifdef __CUDA_ARCH__
#define DEVICE_UNROLL _Pragma("unroll")
#else
#define DEVICE_UNROLL
#endif

// A float rounded to the nearest BF16 (ties to even), as stored.
__host__ __device__ __forceinline__ uint16_t float_to_bf16(float x) {
#ifdef __CUDA_ARCH__
    return __bfloat16_as_ushort(__float2bfloat16_rn(x));
#else
    uint32_t u;
    memcpy(&u, &x, 4);
    return (uint16_t)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
#endif
}

// Four e4m3 codes of a word (byte i is element i) as two BF16 pairs: even = (0, 2), odd = (1, 3),
// exactly. The code's low 7 bits moved to bits 4..10 of a 16-bit half (its sign to bit 15) make the
// BF16 with the same exponent field and mantissa bits: the value times 2^-120 (BF16's bias is 127,
// e4m3's 7), subnormals included; one BF16 multiply by 2^120 restores it.
__host__ __device__ __forceinline__ void e4m3x4_to_bf16(uint32_t w, uint32_t &even, uint32_t &odd) {
    const uint32_t odd_bits = (w & 0x80008000u) | ((w >> 4) & 0x07F007F0u);          // bytes 1, 3
    const uint32_t even_bits = ((w << 8) & 0x80008000u) | ((w << 4) & 0x07F007F0u);  // bytes 0, 2
    const __nv_bfloat162 two_pow_120 = __halves2bfloat162(__ushort_as_bfloat16(0x7B80), __ushort_as_bfloat16(0x7B80));
    __nv_bfloat162 e, o;
    memcpy((void *)&e, &even_bits, 4);
    memcpy((void *)&o, &odd_bits, 4);
    e = __hmul2(e, two_pow_120);
    o = __hmul2(o, two_pow_120);
    memcpy(&even, (const void *)&e, 4);
    memcpy(&odd, (const void *)&o, 4);
}

// The m16n8k32 e4m3 product (operands as mma_e4m3_16832 takes them) as two m16n8k16 BF16 products
// (mma16: mma_bf16_16816 on the GPU, an emulation in the CPU test). The order of k inside a dot
// product is free as long as A and B agree: the first product takes k 4t .. 4t + 3 of every lane,
// its mma k 2t, 2t + 1 the even pair (4t, 4t + 2) and k 2t + 8, 2t + 9 the odd one (4t + 1, 4t + 3);
// the second the same of k 16 + 4t ...
template <class Mma16>
__host__ __device__ __forceinline__ void mma_e4m3_as_bf16(float d[4], const uint32_t a[4], const uint32_t b[2],
                                                          const Mma16 &mma16) {
    DEVICE_UNROLL
    for (int h = 0; h < 2; h++) {
        uint32_t ae, ao, ae8, ao8, be, bo;
        e4m3x4_to_bf16(a[2 * h], ae, ao);       // row g
        e4m3x4_to_bf16(a[2 * h + 1], ae8, ao8); // row g + 8
        e4m3x4_to_bf16(b[h], be, bo);
        const uint32_t af[4] = {ae, ae8, ao, ao8}, bf[2] = {be, bo};
        mma16(d, af, bf);
    }
}

// The tensor-core products on the GPU: BF16 m16n8k16, and e4m3 m16n8k32, which runs as FP8 on
// sm_89 and later and as two BF16 products before.
struct TensorCoreBf16 {
    __device__ __forceinline__ void operator()(float d[4], const uint32_t a[4], const uint32_t b[2]) const {
        mma_bf16_16816(d, a, b);
    }
};
struct TensorCoreE4m3 {
    __device__ __forceinline__ void operator()(float d[4], const uint32_t a[4], const uint32_t b[2]) const {
#if __CUDA_ARCH__ >= 890
        mma_e4m3_16832(d, a, b);
#else
        mma_e4m3_as_bf16(d, a, b, TensorCoreBf16());
#endif
    }
};

#endif
