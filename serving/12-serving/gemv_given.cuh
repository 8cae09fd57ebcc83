// Session 12: what the GEMV exercises (01, 02) are given, shared by the skeletons and their
// solutions: a warp sum, eight BF16 weights unpacked to float, and the load that streams weights
// past the L1.
#ifndef SESSION12_GEMV_GIVEN_CUH
#define SESSION12_GEMV_GIVEN_CUH

#include <cuda_bf16.h>
#include <stdint.h>

#define FULL_MASK 0xffffffffu

// Every lane gets the sum of the 32 lanes' values (xor butterfly, five steps).
__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) x += __shfl_xor_sync(FULL_MASK, x, offset);
    return x;
}

// Eight BF16 values (one 16-byte chunk, k ascending) as floats. A BF16 is the top half of a float,
// and the element at the lower address is the low half of each 32-bit word (little-endian): so
// f[2i] = word i shifted up 16 bits, f[2i + 1] = word i with its low 16 bits cleared. Exact.
__device__ __forceinline__ void bf16x8_to_float(uint4 v, float f[8]) {
    const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        f[2 * i] = __uint_as_float(w[i] << 16);
        f[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
    }
}

// One 16-byte chunk of a weight row. Each weight is read once per launch, so it is not kept in the
// L1 (L1::no_allocate): the L1 stays free for the activations x, which every warp reads again.
// The read-only path (.nc): the launcher never writes W.
__device__ __forceinline__ uint4 load_weights(const uint4 *p) {
    uint4 v;
    asm("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
        : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
        : "l"(p));
    return v;
}

#endif
