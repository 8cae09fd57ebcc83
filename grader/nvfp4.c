/* NVFP4 on the CPU: the e2m1 and e4m3 formats, 01's block quantiser and dequantiser, and the exact
 * sum behind 02-06's GEMV. The encoders here search the formats' value lists for the nearest value
 * on purpose: the kernels round with bit tricks, and two different methods that agree on every case
 * the unit tests try are worth more than one method checked against itself. */
#include <math.h>

#include "nvfp4.h"

/* ---- e2m1: sign, 2 exponent bits (bias 1), 1 mantissa bit ---------------------------------------- */

/* The eight magnitudes in code order: code c and c + 8 are +-E2M1_MAGNITUDE[c]. */
static const float E2M1_MAGNITUDE[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};

float fp4_e2m1_value(uint8_t code) {
    const float m = E2M1_MAGNITUDE[code & 7];
    return (code & 8) ? -m : m;
}

/* The nearest of the eight magnitudes; at a midpoint the even code (its mantissa bit 0). Magnitudes
 * above 6 are clamped to 6 first (an infinity would be equally far from all eight). */
uint8_t fp4_e2m1_encode(float v) {
    if (isnan(v)) return 0;
    const float a = fminf(fabsf(v), FP4_E2M1_MAX);
    int best = 0;
    for (int c = 1; c < 8; c++) {
        const float d = fabsf(a - E2M1_MAGNITUDE[c]), d_best = fabsf(a - E2M1_MAGNITUDE[best]);
        if (d < d_best || (d == d_best && c % 2 == 0)) best = c;
    }
    return (uint8_t)(signbit(v) ? best | 8 : best);
}

/* ---- e4m3 ("fn"): sign, 4 exponent bits (bias 7), 3 mantissa bits --------------------------------- */

/* Exponent 0 is subnormal, (m / 8) 2^-6; otherwise (1 + m / 8) 2^(e - 7), up to 1.75 * 2^8 = 448.
 * The only NaN is e = 15, m = 7; no infinities. */
float fp4_e4m3_value(uint8_t byte) {
    const int e = (byte >> 3) & 0xF, m = byte & 7;
    float v;
    if (e == 15 && m == 7) v = NAN;
    else if (e == 0) v = ldexpf((float)m, -9);
    else v = ldexpf((float)(8 + m), e - 10);
    return (byte & 0x80) ? -v : v;
}

/* Codes 0x00 .. 0x7E are the non-negative values in increasing order, so a binary search finds the
 * first code at or above s; the nearest is it or the one below, and a tie goes to the even code. */
uint8_t fp4_e4m3_encode(float s) {
    if (!(s >= 0)) return 0x00;
    if (s >= FP4_E4M3_MAX) return 0x7E;
    int lo = 0, hi = 0x7E;   /* value(hi) >= s throughout */
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (fp4_e4m3_value((uint8_t)mid) >= s) hi = mid;
        else lo = mid + 1;
    }
    if (hi == 0) return 0x00;
    const float above = fp4_e4m3_value((uint8_t)hi) - s, below = s - fp4_e4m3_value((uint8_t)(hi - 1));
    if (below < above || (below == above && (hi - 1) % 2 == 0)) return (uint8_t)(hi - 1);
    return (uint8_t)hi;
}

/* ---- 01: one block of 16 ---------------------------------------------------------------------------- */

uint8_t fp4_quantize_block(const float *x, float global_scale, uint8_t *codes) {
    float amax = 0.0f;
    for (int k = 0; k < FP4_BLOCK; k++) amax = fmaxf(amax, fabsf(x[k]));
    const float denominator = 6.0f * global_scale;   /* exercises.h: amax / (6 * global_scale) */
    const uint8_t scale = fp4_e4m3_encode(amax / denominator);
    const float S = fp4_e4m3_value(scale) * global_scale;
    for (int i = 0; i < FP4_BLOCK / 2; i++) {
        const uint8_t lo = S == 0.0f ? 0 : fp4_e2m1_encode(x[2 * i] / S);
        const uint8_t hi = S == 0.0f ? 0 : fp4_e2m1_encode(x[2 * i + 1] / S);
        codes[i] = (uint8_t)(lo | hi << 4);
    }
    return scale;
}

void fp4_dequantize_block(const uint8_t *codes, uint8_t scale, float global_scale, float *y) {
    const float s = fp4_e4m3_value(scale);
    for (int i = 0; i < FP4_BLOCK / 2; i++) {
        y[2 * i] = (fp4_e2m1_value(codes[i] & 0xF) * s) * global_scale;
        y[2 * i + 1] = (fp4_e2m1_value(codes[i] >> 4) * s) * global_scale;
    }
}

float fp4_global_scale(const float *x, size_t n) {
    float amax = 0.0f;
    for (size_t i = 0; i < n; i++) amax = fmaxf(amax, fabsf(x[i]));
    return amax > 0.0f ? amax / (FP4_E2M1_MAX * FP4_E4M3_MAX) : 1.0f;
}

/* ---- 02-06: one output of the GEMV ----------------------------------------------------------------- */

/* Twice each e2m1 magnitude is an integer, so the product of two codes' doubled magnitudes is 4 times
 * their product, exactly: each block's sum of products stays an integer. */
static const int E2M1_TWICE[8] = {0, 1, 2, 3, 4, 6, 8, 12};

/* For a byte of a and a byte of b (two codes each, low nibble first): the sum of the two products,
 * times 4, and the sum of their magnitudes, times 4: 8 lookups a block instead of 16 decodings. A
 * block's integer sums are exact in any order, so they are the same sums. Made on first use. */
typedef struct {
    int16_t sum, abs;
} pair_products;
static pair_products PAIRS[256 * 256];
/* The 256 scale bytes' values (fp4_e4m3_value), likewise. */
static float E4M3[256];
static int tables_ready;

static void make_tables(void) {
    for (int ab = 0; ab < 256; ab++)
        for (int bb = 0; bb < 256; bb++) {
            int sum = 0, abs = 0;
            for (int half = 0; half < 2; half++) {
                const int ca = (ab >> (4 * half)) & 0xF, cb = (bb >> (4 * half)) & 0xF;
                const int p = E2M1_TWICE[ca & 7] * E2M1_TWICE[cb & 7];
                sum += ((ca ^ cb) & 8) ? -p : p;
                abs += p;
            }
            PAIRS[ab << 8 | bb] = (pair_products){(int16_t)sum, (int16_t)abs};
        }
    for (int v = 0; v < 256; v++) E4M3[v] = fp4_e4m3_value((uint8_t)v);
    tables_ready = 1;
}

double fp4_gemv_dot(const uint8_t *a, const uint8_t *sfa, const uint8_t *b, const uint8_t *sfb, long K,
                    double *magnitude) {
    if (!tables_ready) make_tables();
    double sum = 0, abs_sum = 0;
    for (long blk = 0; blk < K / FP4_BLOCK; blk++) {
        long block_x4 = 0, block_abs_x4 = 0;   /* the block's sum of e2m1 products, times 4 */
        for (int i = 0; i < FP4_BLOCK / 2; i++) {
            const pair_products p = PAIRS[a[blk * 8 + i] << 8 | b[blk * 8 + i]];
            block_x4 += p.sum;
            block_abs_x4 += p.abs;
        }
        const double scales = (double)E4M3[sfa[blk]] * E4M3[sfb[blk]];
        sum += 0.25 * (double)block_x4 * scales;
        abs_sum += 0.25 * (double)block_abs_x4 * fabs(scales);
    }
    if (magnitude) *magnitude = abs_sum;
    return sum;
}
