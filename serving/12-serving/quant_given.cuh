// Session 12: what the quantised GEMVs (06 W4A16, 07 FP8) are given, on top of the GEMV frame's
// helpers (gemv_given.cuh: warp_sum, bf16x8_to_float, load_weights): one BF16 value to float and
// back. Shared by the skeletons and their solutions.
#ifndef SESSION12_QUANT_GIVEN_CUH
#define SESSION12_QUANT_GIVEN_CUH

#include <cuda_bf16.h>
#include <stdint.h>

#include "gemv_given.cuh"

// A BF16 value (as stored: the top half of a float32) as a float: a shift, exact.
__device__ __forceinline__ float bf16_to_float(uint16_t bits) { return __uint_as_float((uint32_t)bits << 16); }

// A float rounded to the nearest BF16 (ties to even), as stored.
__device__ __forceinline__ uint16_t float_to_bf16(float x) { return __bfloat16_as_ushort(__float2bfloat16_rn(x)); }

#endif
