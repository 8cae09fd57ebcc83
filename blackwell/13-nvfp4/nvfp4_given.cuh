// Session 13, exercise 01: what the quantiser is given, skeleton and solution alike: the values of
// e2m1 and e4m3 codes, and the rounding of a float to the nearest e4m3 scale. (The rounding to e2m1
// is yours.) __host__ __device__: the same functions run on the CPU in the tests.
#ifndef SESSION13_NVFP4_GIVEN_CUH
#define SESSION13_NVFP4_GIVEN_CUH

#include <math.h>
#include <stdint.h>
#include <string.h>

// The value of an e2m1 code (its low 4 bits): bit 3 the sign, then 2 exponent bits and 1 mantissa
// bit. Magnitudes in code order: 0, 0.5, 1, 1.5, 2, 3, 4, 6.
// Twice each magnitude is a whole number below 16, so the eight fit in the nibbles of one word:
// 0xC8643210 holds 0, 1, 2, 3, 4, 6, 8, 12 from the low nibble up (no table in memory).
__host__ __device__ inline float e2m1_value(uint32_t code) {
    const float m = 0.5f * (float)((0xC8643210u >> (4 * (code & 7))) & 0xF);
    return (code & 8) ? -m : m;
}

// The value of an e4m3 code: bit 7 the sign, 4 exponent bits (bias 7), 3 mantissa bits. Exponent 0
// is subnormal, m/8 * 2^-6; else (1 + m/8) * 2^(e-7), up to 448 (0x7E). 0x7F and 0xFF are NaN and
// never occur here.
__host__ __device__ inline float e4m3_value(uint32_t code) {
    const int e = (code >> 3) & 0xF, m = code & 7;
    const float v = e == 0 ? ldexpf((float)m, -9) : ldexpf((float)(8 + m), e - 10);
    return (code & 0x80) ? -v : v;
}

// The e4m3 code nearest to s >= 0, ties to even, saturating at 448 (0x7E).
__host__ __device__ inline uint8_t e4m3_round(float s) {
    if (!(s < 448.0f)) return 0x7E;            // 448 and above (the scales never reach NaN)
    if (s < 0.015625f)                         // below 2^-6: a subnormal, a whole number of 2^-9
        return (uint8_t)rintf(s * 512.0f);     // exact scaling; rintf rounds ties to even; 8 is 2^-6
    // Normal: keep 3 of float's 23 mantissa bits, rounding to nearest even (a carry moves into the
    // exponent, as it should), then move the exponent's bias from float's 127 to e4m3's 7.
    uint32_t bits;
    memcpy(&bits, &s, sizeof bits);
    bits += 0x7FFFFu + ((bits >> 20) & 1u);
    return (uint8_t)((bits >> 20) - ((127u - 7u) << 3));
}

#endif
