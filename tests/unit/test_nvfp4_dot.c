/* The NVFP4 dot product (grader/nvfp4.c, fp4_gemv_dot: the reference of session 13's GEMV and of its
 * tcgen05 GEMM), which looks up each pair of code bytes' products in a table, against the plain
 * loops kept here, code by code, bit for bit: every pair of code bytes, every scale byte (but pairs
 * of NaN scales, whose product's sign no C expression fixes), long rows of random codes. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "nvfp4.h"
#include "rng.h"

/* One output as the contract says: each block's integer sum of doubled e2m1 products (exact), times
 * a quarter and the two scales, added block after block in float64; the magnitudes likewise. */
static double plain_dot(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, long K,
                        double *magnitude) {
    static const int twice[8] = {0, 1, 2, 3, 4, 6, 8, 12};
    double sum = 0, abs_sum = 0;
    for (long blk = 0; blk < K / FP4_BLOCK; blk++) {
        long block_x4 = 0, block_abs_x4 = 0;
        for (int k = 0; k < FP4_BLOCK; k++) {
            const int ca = (a[blk * 8 + k / 2] >> (4 * (k % 2))) & 0xF, cb = (b[blk * 8 + k / 2] >> (4 * (k % 2))) & 0xF;
            const int p = twice[ca & 7] * twice[cb & 7];
            block_x4 += ((ca ^ cb) & 8) ? -p : p;
            block_abs_x4 += p;
        }
        const double scales = (double)fp4_e4m3_value(sfa[blk]) * fp4_e4m3_value(sfb[blk]);
        sum += 0.25 * (double)block_x4 * scales;
        abs_sum += 0.25 * (double)block_abs_x4 * fabs(scales);
    }
    *magnitude = abs_sum;
    return sum;
}

static void assert_same(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, long K) {
    double mag, want_mag;
    const double got = fp4_gemv_dot(a, sfa, b, sfb, K, &mag), want = plain_dot(a, sfa, b, sfb, K, &want_mag);
    cr_assert_eq(memcmp(&got, &want, sizeof got), 0, "K %ld: %a, the plain loops give %a", K, got, want);
    cr_assert_eq(memcmp(&mag, &want_mag, sizeof mag), 0, "K %ld: magnitude %a, the plain loops give %a", K, mag, want_mag);
    const double alone = fp4_gemv_dot(a, sfa, b, sfb, K, NULL);
    cr_assert_eq(memcmp(&alone, &got, sizeof got), 0, "without the magnitude: %a, with it %a", alone, got);
}

/* One block: byte 0 of a and b runs over every pair of bytes (the others random), the scales over
 * every byte. */
Test(nvfp4_dot, every_code_pair_and_scale_is_the_plain_loops) {
    uint64_t rng = 0xF4;
    uint8_t a[8], b[8];
    for (int ab = 0; ab < 256; ab++)
        for (int bb = 0; bb < 256; bb++) {
            for (int i = 1; i < 8; i++) {
                a[i] = (uint8_t)gr_rng_next(&rng);
                b[i] = (uint8_t)gr_rng_next(&rng);
            }
            a[0] = (uint8_t)ab;
            b[0] = (uint8_t)bb;
            const uint8_t sfa = (uint8_t)ab, sfb = (uint8_t)(bb ^ 0x5A);
            if ((sfa & 0x7F) == 0x7F && (sfb & 0x7F) == 0x7F) continue;   /* NaN times NaN */
            assert_same(a, &sfa, b, &sfb, FP4_BLOCK);
        }
}

/* Rows of up to 16384 values with the scales the check draws from (finite, over e4m3's range). */
Test(nvfp4_dot, long_rows_are_the_plain_loops) {
    uint64_t rng = 0xD07;
    enum { K = 16384 };
    static uint8_t a[K / 2], b[K / 2], sfa[K / FP4_BLOCK], sfb[K / FP4_BLOCK];
    for (int trial = 0; trial < 40; trial++) {
        const long k = FP4_BLOCK * (1 + (long)(gr_rng_next(&rng) % (K / FP4_BLOCK)));
        for (long i = 0; i < k / 2; i++) {
            a[i] = (uint8_t)gr_rng_next(&rng);
            b[i] = (uint8_t)gr_rng_next(&rng);
        }
        for (long i = 0; i < k / FP4_BLOCK; i++) {
            sfa[i] = (uint8_t)(gr_rng_next(&rng) % 0x7F);
            sfb[i] = (uint8_t)(gr_rng_next(&rng) % 0x7F) | (uint8_t)(gr_rng_next(&rng) & 0x80);
        }
        assert_same(a, sfa, b, sfb, k);
    }
}
