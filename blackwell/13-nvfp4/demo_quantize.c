/* Board demo: one block of 16 floats quantised to NVFP4 and back, step by step, on the CPU.
 *
 *   make demo-quantize              a block of activation-like values (seed 1)
 *   make demo-quantize N=7          another block (the seed); N=0: values that land on ties
 *
 * It prints the block's largest magnitude, the e4m3 scale chosen for it (bits and value), then for
 * each value its e2m1 code (bits), the value it comes back as, and the error. The point to make:
 * four bits alone hold only 0, 0.5, 1, 1.5, 2, 3, 4, 6, but with one shared scale per 16 values
 * each block keeps its own range: a value's error is at most half a step of that grid in units of
 * S, so at most 1/6 of the block's largest value (between 4 and 6) and much less near zero, however
 * large or small the block is. Runs the grader's CPU version of exercise 01 (grader/nvfp4.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nvfp4.h"

/* Deterministic pseudo-random numbers (xorshift), so a seed shows the same block every time. */
static unsigned long long state;
static double next_unit(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (double)(state >> 11) / 9007199254740992.0;
}

static void bits(unsigned value, int width, char *out) {
    for (int i = 0; i < width; i++) out[i] = (value >> (width - 1 - i)) & 1 ? '1' : '0';
    out[width] = '\0';
}

int main(int argc, char **argv) {
    long seed = 1;
    if (argc > 1) {
        char *end;
        seed = strtol(argv[1], &end, 10);
        if (*end || seed < 0) {
            fprintf(stderr, "demo-quantize: the seed must be a whole number >= 0, not '%s'\n", argv[1]);
            return 64;
        }
    }
    float x[FP4_BLOCK];
    if (seed == 0) {   /* every value x / S a midpoint of e2m1 (S = 1 here), or 6 itself */
        static const float ties[FP4_BLOCK] = {6, 0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5,
                                              -0.25f, -0.75f, -1.25f, -1.75f, -2.5f, -3.5f, -5, -6};
        for (int k = 0; k < FP4_BLOCK; k++) x[k] = ties[k];
    } else {           /* activation-like: mostly small, one or two large */
        state = 0x9E3779B97F4A7C15ull ^ (unsigned long long)seed * 0xBF58476D1CE4E5B9ull;
        for (int k = 0; k < FP4_BLOCK; k++) {
            const double u = 2 * next_unit() - 1;
            x[k] = (float)(u * u * u * 3.0);
        }
    }
    /* One block stands for the tensor here, so the global scale is NVFP4's recipe on it:
     * amax / (6 * 448). Then the block's scale is 448 or near it: e4m3's full precision. */
    const float gs = seed == 0 ? 1.0f / 448.0f : fp4_global_scale(x, FP4_BLOCK);
    uint8_t codes[FP4_BLOCK / 2];
    const uint8_t scale = fp4_quantize_block(x, gs, codes);
    float y[FP4_BLOCK];
    fp4_dequantize_block(codes, scale, gs, y);

    float amax = 0;
    for (int k = 0; k < FP4_BLOCK; k++) amax = fmaxf(amax, fabsf(x[k]));
    char sb[9], cb[5];
    bits(scale, 8, sb);
    const float S = fp4_e4m3_value(scale) * gs;
    printf("NVFP4: one block of 16 values, one e4m3 scale, 16 four-bit e2m1 codes (seed %ld)\n\n", seed);
    printf("  largest |x| of the block (amax)   %.6g\n", amax);
    printf("  global scale gs                   %.6g   (the tensor's amax / (6 * 448))\n", gs);
    printf("  block scale = e4m3(amax / (6 gs))  bits %s (sign, exponent %c%c%c%c, mantissa %c%c%c) = %g\n", sb,
           sb[1], sb[2], sb[3], sb[4], sb[5], sb[6], sb[7], fp4_e4m3_value(scale));
    printf("  S = scale * gs                    %.6g   (each code counts in steps of S)\n\n", S);
    printf("   k          x   x / S   code (s ee m)   e2m1   back as x'   error x' - x   (of amax)\n");
    double err_sq = 0, x_sq = 0;
    for (int k = 0; k < FP4_BLOCK; k++) {
        const uint8_t code = (uint8_t)((codes[k / 2] >> (4 * (k % 2))) & 0xF);
        bits(code, 4, cb);
        const float err = y[k] - x[k];
        err_sq += (double)err * err;
        x_sq += (double)x[k] * x[k];
        printf("  %2d  %9.4f  %6.3f   %2u (%c %c%c %c)  %6.1f   %10.4f   %+12.4f   %6.2f%%\n", k, x[k],
               S > 0 ? x[k] / S : 0.0f, code, cb[0], cb[1], cb[2], cb[3], fp4_e2m1_value(code), y[k], err,
               amax > 0 ? 100.0 * fabsf(err) / amax : 0.0);
    }
    printf("\n  relative error of the block ||x' - x|| / ||x|| = %.2f%%   (stored: 8 code bytes + 1 scale byte)\n",
           x_sq > 0 ? 100.0 * sqrt(err_sq / x_sq) : 0.0);
    if (seed == 0)
        printf("  every x / S above is a midpoint: the even code wins (0.25 -> 0, 0.75 -> 1, 2.5 -> 2, 5 -> 4)\n");
    return 0;
}
