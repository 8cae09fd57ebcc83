/* Session 12's quantised GEMVs as the grader sees them (grader/serving_quant.c): 06 W4A16 and 07
 * FP8 e4m3. The two decoders against tables written from the formats' definitions, the references
 * by hand, the inputs' invariants (no NaN code, exponents in a window per group, scales positive and
 * weight-sized), the byte counts, and the tolerance's claims for quantised weights: a kernel that
 * sums each group in FP32 and applies its scale passes, and one that decodes subnormals as normals,
 * flushes them, misses the sign extension, swaps the nibbles or takes a neighbour's scale fails.
 * Host cases: no GPU. (tests/serving-quant-test.sh checks the e4m3 decoder against cuda_fp8.h.) */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "internal.h"
#include "gemm.h"
#include "serving.h"
#include "unit_helpers.h"
#include "../../serving/12-serving/exercises.h"

static const gr_exercise W4_EX = {.name = "unit_w4a16", .on_host = true, .adjust_inputs = sv_w4a16_adjust};
static const gr_exercise FP8_EX = {.name = "unit_fp8", .on_host = true, .adjust_inputs = sv_fp8_adjust};

static float bf(uint16_t h) { return (float)gr_value(GR_BF16, &h, 0); }
static uint16_t to_bf16(float x) {  /* round to nearest even (finite x) */
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

static void make_case(gr_case *c, const gr_exercise *ex, gr_shape s, uint64_t seed) {
    char err[256] = "";
    gr_case_init(c, ex, s, seed);
    if (ex == &W4_EX) sv_w4a16_declare(c);
    else sv_fp8_declare(c);
    cr_assert(gr_case_alloc(c, err, sizeof err), "alloc: %s", err);
    gr_case_fill_inputs(c);
}

/* ==== the formats ================================================================================ */

Test(serving_quant, int4_all_16_nibbles) {
    /* Two's complement in 4 bits: 0111 = 7 is the largest, 1000 = -8 the smallest, 1111 = -1. */
    const int want[16] = {0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1};
    for (int n = 0; n < 16; n++) cr_assert_eq(sv_int4_value((uint8_t)n), want[n], "nibble %X", n);
}

/* The 128 non-negative e4m3 codes, written from the definition: code = 0 eeee mmm. Exponent field
 * 0 is subnormal, m/8 * 2^-6 = m * 2^-9; field e >= 1 is (1 + m/8) * 2^(e-7), the mantissas 1 +
 * m/8 = 0x1.0 .. 0x1.e in hex. Field 15 with m = 7 is NaN, so the largest value is 0x1.cp8 = 448. */
static const double E4M3_POSITIVE[128] = {
    0.0,      0x1p-9,   0x2p-9,   0x3p-9,   0x4p-9,   0x5p-9,   0x6p-9,   0x7p-9,     /* e = 0: m * 2^-9 */
    0x1.0p-6, 0x1.2p-6, 0x1.4p-6, 0x1.6p-6, 0x1.8p-6, 0x1.ap-6, 0x1.cp-6, 0x1.ep-6,   /* e = 1 */
    0x1.0p-5, 0x1.2p-5, 0x1.4p-5, 0x1.6p-5, 0x1.8p-5, 0x1.ap-5, 0x1.cp-5, 0x1.ep-5,   /* e = 2 */
    0x1.0p-4, 0x1.2p-4, 0x1.4p-4, 0x1.6p-4, 0x1.8p-4, 0x1.ap-4, 0x1.cp-4, 0x1.ep-4,   /* e = 3 */
    0x1.0p-3, 0x1.2p-3, 0x1.4p-3, 0x1.6p-3, 0x1.8p-3, 0x1.ap-3, 0x1.cp-3, 0x1.ep-3,   /* e = 4 */
    0x1.0p-2, 0x1.2p-2, 0x1.4p-2, 0x1.6p-2, 0x1.8p-2, 0x1.ap-2, 0x1.cp-2, 0x1.ep-2,   /* e = 5 */
    0x1.0p-1, 0x1.2p-1, 0x1.4p-1, 0x1.6p-1, 0x1.8p-1, 0x1.ap-1, 0x1.cp-1, 0x1.ep-1,   /* e = 6 */
    0x1.0p0,  0x1.2p0,  0x1.4p0,  0x1.6p0,  0x1.8p0,  0x1.ap0,  0x1.cp0,  0x1.ep0,    /* e = 7 */
    0x1.0p1,  0x1.2p1,  0x1.4p1,  0x1.6p1,  0x1.8p1,  0x1.ap1,  0x1.cp1,  0x1.ep1,    /* e = 8 */
    0x1.0p2,  0x1.2p2,  0x1.4p2,  0x1.6p2,  0x1.8p2,  0x1.ap2,  0x1.cp2,  0x1.ep2,    /* e = 9 */
    0x1.0p3,  0x1.2p3,  0x1.4p3,  0x1.6p3,  0x1.8p3,  0x1.ap3,  0x1.cp3,  0x1.ep3,    /* e = 10 */
    0x1.0p4,  0x1.2p4,  0x1.4p4,  0x1.6p4,  0x1.8p4,  0x1.ap4,  0x1.cp4,  0x1.ep4,    /* e = 11 */
    0x1.0p5,  0x1.2p5,  0x1.4p5,  0x1.6p5,  0x1.8p5,  0x1.ap5,  0x1.cp5,  0x1.ep5,    /* e = 12 */
    0x1.0p6,  0x1.2p6,  0x1.4p6,  0x1.6p6,  0x1.8p6,  0x1.ap6,  0x1.cp6,  0x1.ep6,    /* e = 13 */
    0x1.0p7,  0x1.2p7,  0x1.4p7,  0x1.6p7,  0x1.8p7,  0x1.ap7,  0x1.cp7,  0x1.ep7,    /* e = 14 */
    0x1.0p8,  0x1.2p8,  0x1.4p8,  0x1.6p8,  0x1.8p8,  0x1.ap8,  0x1.cp8,  NAN,        /* e = 15 */
};

Test(serving_quant, e4m3_all_256_codes) {
    for (int code = 0; code < 256; code++) {
        const double want = (code & 0x80) ? -E4M3_POSITIVE[code & 0x7F] : E4M3_POSITIVE[code & 0x7F];
        const float got = sv_e4m3_value((uint8_t)code);
        if (isnan(want)) {
            cr_assert(isnan(got), "code 0x%02X: %g, expected NaN", code, got);
            continue;
        }
        cr_assert_eq((double)got, want, "code 0x%02X: %a, expected %a", code, got, want);
        cr_assert_eq(signbit(got) != 0, (code & 0x80) != 0, "code 0x%02X: the sign", code);
    }
}

Test(serving_quant, e4m3_landmarks) {
    cr_assert_eq(sv_e4m3_value(0x38), 1.0f);           /* e = 7: the bias */
    cr_assert_eq(sv_e4m3_value(0x7E), 448.0f);         /* the largest */
    cr_assert_eq(sv_e4m3_value(0xFE), -448.0f);
    cr_assert_eq(sv_e4m3_value(0x01), 0x1p-9f);        /* the smallest subnormal */
    cr_assert_eq(sv_e4m3_value(0x07), 0.013671875f);   /* the largest subnormal, 7/8 * 2^-6 */
    cr_assert_eq(sv_e4m3_value(0x08), 0x1p-6f);        /* the smallest normal */
    cr_assert(sv_e4m3_value(0x80) == 0.0f && signbit(sv_e4m3_value(0x80)));   /* -0 */
    cr_assert(isnan(sv_e4m3_value(0x7F)) && isnan(sv_e4m3_value(0xFF)));
    cr_assert(!isnan(sv_e4m3_value(0x77)) && !isinf(sv_e4m3_value(0x78)));    /* e = 15 is finite */
}

/* ==== buffers, references by hand ================================================================ */

Test(serving_quant, buffers_as_check_c_and_the_exercises_name_them) {
    gr_case c;
    make_case(&c, &W4_EX, GR_SHAPE(3, 5, 256), 1);
    cr_assert_eq(gr_find(&c, "W4")->dtype, GR_U8);
    cr_assert_eq(gr_find(&c, "W4")->count, 5 * 256 / 2);
    cr_assert_eq(gr_find(&c, "scales")->dtype, GR_BF16);
    cr_assert_eq(gr_find(&c, "scales")->count, 5 * 2);
    cr_assert_eq(gr_find(&c, "X")->count, 3 * 256);
    cr_assert_eq(gr_find(&c, "Y")->dtype, GR_BF16);
    cr_assert(gr_find(&c, "Y")->is_output);
    cr_assert_eq(gr_find(&c, "Y")->row_len, 5);
    cr_assert_eq(c.rows, 3);
    gr_case_free(&c);
    make_case(&c, &FP8_EX, GR_SHAPE(3, 5, 256), 1);
    cr_assert_eq(gr_find(&c, "W8")->dtype, GR_U8);
    cr_assert_eq(gr_find(&c, "W8")->count, 5 * 256);
    cr_assert_eq(gr_find(&c, "scales")->dtype, GR_F32);
    cr_assert_eq(gr_find(&c, "scales")->count, 5 * 2);
    cr_assert_eq(c.rows, 3);
    gr_case_free(&c);
    cr_assert_eq(QUANT_GROUP, 128);
}

Test(serving_quant, k_not_a_multiple_of_the_group_is_refused, .exit_code = 70) {
    unit_quiet_stderr();   /* the refusal's line is expected */
    gr_case c;
    gr_case_init(&c, &W4_EX, GR_SHAPE(1, 4, 200), 1);
    sv_w4a16_declare(&c);
}

/* M = 2, N = 2, K = 256 (two groups). Row 0 of W: every byte 0x21 (k even: 1, k odd: 2), scales 0.5
 * and 0.25; row 1: bytes 0xF8 (k even: -8, k odd: -1), scales 1 and 2. X row 0 all ones, row 1
 * +1 at even k and -1 at odd k: it tells the nibbles apart.
 *   Y[0][0] = 64 (0.5 * 1 + 0.5 * 2) + 64 (0.25 * 1 + 0.25 * 2) = 96 + 48 = 144
 *   Y[0][1] = 64 (-8 - 1) * 1 + 64 (-8 - 1) * 2 = -576 - 1152 = -1728
 *   Y[1][0] = 64 (0.5 - 1) + 64 (0.25 - 0.5) = -32 - 16 = -48
 *   Y[1][1] = 64 (-8 + 1) + 64 (-8 + 1) * 2 = -448 - 896 = -1344 */
Test(serving_quant, w4a16_reference_by_hand) {
    gr_case c;
    make_case(&c, &W4_EX, GR_SHAPE(2, 2, 256), 3);
    uint8_t *w = (uint8_t *)gr_in(&c, "W4");
    uint16_t *sc = (uint16_t *)gr_in(&c, "scales"), *x = (uint16_t *)gr_in(&c, "X");
    for (int j = 0; j < 128; j++) w[j] = 0x21, w[128 + j] = 0xF8;
    sc[0] = to_bf16(0.5f), sc[1] = to_bf16(0.25f), sc[2] = to_bf16(1.0f), sc[3] = to_bf16(2.0f);
    for (int k = 0; k < 256; k++) x[k] = to_bf16(1.0f), x[256 + k] = to_bf16(k % 2 ? -1.0f : 1.0f);
    sv_w4a16_reference(&c, 0, 2);
    const float *y = gr_ref(&c, "Y"), want[4] = {144, -1728, -48, -1344};
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], want[i], "Y[%d] = %g, expected %g", i, y[i], want[i]);
    gr_case_free(&c);
}

/* M = 1, N = 2, K = 128. Row 0: 1.0 (0x38) for k < 64, the smallest subnormal 2^-9 (0x01) after,
 * scale 2: 64 * 2 + 64 * 2^-9 * 2 = 128.25. Row 1: -448 (0xFE) at even k, 2^-6 (0x08) at odd,
 * scale 0.5: 64 * -224 + 64 * 2^-7 = -14335.5. X all ones. */
Test(serving_quant, fp8_reference_by_hand) {
    gr_case c;
    make_case(&c, &FP8_EX, GR_SHAPE(1, 2, 128), 3);
    uint8_t *w = (uint8_t *)gr_in(&c, "W8");
    float *sc = (float *)gr_in(&c, "scales");
    uint16_t *x = (uint16_t *)gr_in(&c, "X");
    for (int k = 0; k < 128; k++) {
        w[k] = k < 64 ? 0x38 : 0x01;
        w[128 + k] = k % 2 ? 0x08 : 0xFE;
        x[k] = to_bf16(1.0f);
    }
    sc[0] = 2.0f, sc[1] = 0.5f;
    sv_fp8_reference(&c, 0, 1);
    const float *y = gr_ref(&c, "Y");
    cr_assert_eq(y[0], 128.25f, "Y[0] = %g", y[0]);
    cr_assert_eq(y[1], -14335.5f, "Y[1] = %g", y[1]);
    gr_case_free(&c);
}

/* The reference of batch rows [1, 2) writes that row only. */
Test(serving_quant, reference_writes_only_its_rows) {
    for (int f = 0; f < 2; f++) {
        gr_case c;
        make_case(&c, f ? &FP8_EX : &W4_EX, GR_SHAPE(3, 7, 128), 5);
        float *y = gr_ref(&c, "Y");
        for (int i = 0; i < 21; i++) y[i] = -999;
        if (f) sv_fp8_reference(&c, 1, 2);
        else sv_w4a16_reference(&c, 1, 2);
        for (int i = 0; i < 21; i++)
            if (i / 7 == 1) cr_assert_neq(y[i], -999, "row 1 element %d not written", i);
            else cr_assert_eq(y[i], -999, "element %d of another row written", i);
        gr_case_free(&c);
    }
}

/* The case's reference is the definition: Y[m][n] = sum_k X[m][k] q[n][k] scales[n][k / 128]. */
Test(serving_quant, reference_is_the_definition) {
    for (int f = 0; f < 2; f++) {
        gr_case c;
        const long M = 3, N = 9, K = 384;
        make_case(&c, f ? &FP8_EX : &W4_EX, GR_SHAPE(M, N, K), 11);
        if (f) sv_fp8_reference(&c, 0, M);
        else sv_w4a16_reference(&c, 0, M);
        const float *x = gr_in_f32(&c, "X"), *y = gr_ref(&c, "Y");
        const uint8_t *w = gr_in(&c, f ? "W8" : "W4");
        for (long m = 0; m < M; m++)
            for (long n = 0; n < N; n++) {
                double want = 0;
                for (long k = 0; k < K; k++) {
                    double v, s;
                    if (f) {
                        v = sv_e4m3_value(w[n * K + k]);
                        s = ((const float *)gr_in(&c, "scales"))[n * (K / 128) + k / 128];
                    } else {
                        const uint8_t byte = w[n * (K / 2) + k / 2];
                        v = sv_int4_value(k % 2 ? byte >> 4 : byte & 0xF);
                        s = bf(((const uint16_t *)gr_in(&c, "scales"))[n * (K / 128) + k / 128]);
                    }
                    want += x[m * K + k] * v * s;
                }
                cr_assert_float_eq(y[m * N + n], (float)want, 1e-5 * fabs(want) + 1e-30, "%s Y[%ld][%ld]",
                                   f ? "fp8" : "w4a16", m, n);
            }
        gr_case_free(&c);
    }
}

Test(serving_quant, bytes_are_the_packed_weights_scales_x_and_y) {
    const gr_shape s = GR_SHAPE(1, 14336, 4096), s8 = GR_SHAPE(8, 14336, 4096);
    /* 4 bits a weight, a BF16 scale per 128, X and Y in BF16. */
    cr_assert_eq(sv_w4a16_bytes(&s), 14336.0 * 4096 / 2 + 2.0 * 14336 * 32 + 2.0 * 4096 + 2.0 * 14336);
    cr_assert_eq(sv_w4a16_bytes(&s), 30314496.0);
    cr_assert_eq(sv_w4a16_bytes(&s8), 30314496.0 + 2.0 * 7 * (4096 + 14336));
    /* 8 bits a weight, a float32 scale per 128. */
    cr_assert_eq(sv_fp8_bytes(&s), 14336.0 * 4096 + 4.0 * 14336 * 32 + 2.0 * 4096 + 2.0 * 14336);
    cr_assert_eq(sv_fp8_bytes(&s), 60592128.0);
}

/* ==== the inputs ================================================================================ */

/* W4A16: scales positive BF16 in [1/16, 3/16] (the top by rounding); the bytes untouched (every nibble is valid) and
 * every nibble value present. */
Test(serving_quant, w4a16_inputs) {
    gr_case c;
    make_case(&c, &W4_EX, GR_SHAPE(1, 64, 1024), 21);
    const gr_buffer *sb = gr_find(&c, "scales");
    const uint16_t *sc = gr_in(&c, "scales");
    float lo = 1, hi = 0;
    for (size_t i = 0; i < sb->count; i++) {
        const float v = bf(sc[i]);
        cr_assert(isfinite(v) && v >= 0.0625f && v <= 0.1875f, "scale %zu = %g", i, v);
        lo = fminf(lo, v), hi = fmaxf(hi, v);
    }
    cr_assert(lo < 0.07f && hi > 0.18f, "scales span [%g, %g]: the whole range", lo, hi);
    int seen[16] = {0};
    const uint8_t *w = gr_in(&c, "W4");
    for (size_t i = 0; i < gr_find(&c, "W4")->count; i++) seen[w[i] & 15]++, seen[w[i] >> 4]++;
    for (int n = 0; n < 16; n++) cr_assert_gt(seen[n], 0, "nibble %X never occurs", n);
    gr_case_free(&c);
}

/* FP8: no NaN code; each group's exponents within four binades from its e_lo; e_lo = 0 (subnormals)
 * in about a quarter of the groups, e_lo = 12 (up to 448) in some; the scale undoes the window:
 * scale * 2^(e_lo - 4) in [1/8, 3/8), so every weight is below 0.71 in magnitude; every fill new. */
Test(serving_quant, fp8_inputs) {
    gr_case c;
    const long N = 256, K = 1024, groups = N * K / 128;
    make_case(&c, &FP8_EX, GR_SHAPE(1, N, K), 22);
    const uint8_t *w = gr_in(&c, "W8");
    const float *sc = gr_in(&c, "scales");
    long subnormal_groups = 0, top_groups = 0, subnormal_codes = 0, max_codes = 0;
    for (long g = 0; g < groups; g++) {
        int e_min = 15, e_max = 0;
        for (int k = 0; k < 128; k++) {
            const uint8_t b = w[g * 128 + k];
            cr_assert_neq(b & 0x7F, 0x7F, "group %ld: a NaN code", g);
            const int e = (b >> 3) & 15;
            e_min = e < e_min ? e : e_min, e_max = e > e_max ? e : e_max;
            subnormal_codes += e == 0;
            max_codes += (b & 0x7F) == 0x7E;
        }
        cr_assert_leq(e_max - e_min, 3, "group %ld: exponents %d .. %d", g, e_min, e_max);
        cr_assert_leq(e_min, 12);
        /* 128 codes fill a window of 4 binades but for a chance of 4 * (3/4)^128: its floor is e_min. */
        const float r = ldexpf(sc[g], e_min - 4);
        cr_assert(isfinite(sc[g]) && r >= 0.125f && r < 0.375f, "group %ld (e_lo %d): scale %g", g, e_min, sc[g]);
        for (int k = 0; k < 128; k++)
            cr_assert_lt(fabsf(sv_e4m3_value(w[g * 128 + k]) * sc[g]), 0.71f, "group %ld: weight %d", g, k);
        subnormal_groups += e_min == 0;
        top_groups += e_min == 12;
    }
    cr_log_info("fp8 inputs: %ld of %ld groups subnormal, %ld reach 448; %ld subnormal codes, %ld codes +-448",
                subnormal_groups, groups, top_groups, subnormal_codes, max_codes);
    cr_assert(subnormal_groups > groups / 5 && subnormal_groups < groups * 3 / 10, "%ld subnormal groups",
              subnormal_groups);
    cr_assert_gt(top_groups, 0);
    cr_assert_gt(max_codes, 0);
    uint8_t first[64];
    memcpy(first, w, sizeof first);
    gr_case_fill_inputs(&c);
    cr_assert_neq(memcmp(first, gr_in(&c, "W8"), sizeof first), 0, "a new fill, new codes");
    for (size_t i = 0; i < gr_find(&c, "W8")->count; i++)
        cr_assert_neq(((const uint8_t *)gr_in(&c, "W8"))[i] & 0x7F, 0x7F, "NaN code after a refill");
    gr_case_free(&c);
}

/* ==== the tolerance, for quantised weights ========================================================= */

/* What a kernel writes: per output, each group summed in float32 (x times the decoded code), the
 * sum times the group's scale added into a float32 accumulator, the total rounded to BF16. The
 * decoders are the grader's or deliberately wrong ones. */
typedef float (*code_fn)(const gr_case *c, long n, long k);

static float w4_code(const gr_case *c, long n, long k) {
    const uint8_t byte = ((const uint8_t *)gr_in(c, "W4"))[n * (c->shape.d[2] / 2) + k / 2];
    return (float)sv_int4_value(k % 2 ? byte >> 4 : byte & 0xF);
}
static float w4_unsigned(const gr_case *c, long n, long k) {   /* no sign extension */
    const uint8_t byte = ((const uint8_t *)gr_in(c, "W4"))[n * (c->shape.d[2] / 2) + k / 2];
    return (float)(k % 2 ? byte >> 4 : byte & 0xF);
}
static float w4_swapped(const gr_case *c, long n, long k) {   /* the high nibble first */
    return w4_code(c, n, k ^ 1);
}
static float fp8_code(const gr_case *c, long n, long k) {
    return sv_e4m3_value(((const uint8_t *)gr_in(c, "W8"))[n * c->shape.d[2] + k]);
}
/* Subnormals decoded wrongly, three ways; normals right. */
static float fp8_variant(const gr_case *c, long n, long k, int how) {
    const uint8_t b = ((const uint8_t *)gr_in(c, "W8"))[n * c->shape.d[2] + k];
    const int e = (b >> 3) & 15, m = b & 7;
    if (e != 0) return fp8_code(c, n, k);
    float v = how == 0 ? ldexpf(1.0f + m / 8.0f, -7)   /* as if normal: (1 + m/8) 2^(0-7) */
            : how == 1 ? 0.0f                         /* flushed to zero */
                       : ldexpf((float)m, -10);       /* m/8 * 2^-7: off by 2 */
    return (b & 0x80) ? -v : v;
}
static float fp8_as_normal(const gr_case *c, long n, long k) { return fp8_variant(c, n, k, 0); }
static float fp8_flushed(const gr_case *c, long n, long k) { return fp8_variant(c, n, k, 1); }
static float fp8_half(const gr_case *c, long n, long k) { return fp8_variant(c, n, k, 2); }

typedef enum { SCALE_RIGHT, SCALE_NEXT_GROUP, SCALE_TRANSPOSED } scale_mode;

static float scale_at(const gr_case *c, long n, long g, scale_mode mode) {
    const long N = c->shape.d[1], G = c->shape.d[2] / 128;
    long i = n * G + g;
    if (mode == SCALE_NEXT_GROUP) i = n * G + (g + 1) % G;   /* off by one group, wrapping */
    if (mode == SCALE_TRANSPOSED) i = g * N + n;              /* K/128 x N instead of N x K/128 */
    const gr_buffer *b = gr_find(c, "scales");
    return b->dtype == GR_F32 ? ((const float *)b->host)[i] : bf(((const uint16_t *)b->host)[i]);
}

static void kernel_output(gr_case *c, code_fn code, scale_mode mode) {
    const long M = c->shape.d[0], N = c->shape.d[1], K = c->shape.d[2];
    const float *x = gr_in_f32(c, "X");
    uint16_t *y = gr_find(c, "Y")->host;
    for (long m = 0; m < M; m++)
        for (long n = 0; n < N; n++) {
            float acc = 0;
            for (long g = 0; g < K / 128; g++) {
                float s = 0;
                for (long k = g * 128; k < g * 128 + 128; k++) s += x[m * K + k] * code(c, n, k);
                acc += scale_at(c, n, g, mode) * s;
            }
            y[m * N + n] = to_bf16(acc);
        }
}

static gr_comparison judge(gr_case *c) {
    const gr_buffer *b = gr_find(c, "Y");
    gr_comparison cmp;
    gr_compare_scaled(b->dtype, b->host, b->ref, NULL, b->count, b->row_len, NULL, gr_bf16_gemm_nt_tolerance(&c->shape), &cmp);
    return cmp;
}

/* check.c's shapes that are not tiny, and one like the bench's K. */
static const gr_shape TOL_SHAPES[] = {{3, {3, 127, 1024}}, {3, {8, 250, 384}}, {3, {2, 64, 4096}}, {3, {16, 200, 640}}};
#define N_TOL (sizeof TOL_SHAPES / sizeof TOL_SHAPES[0])

static void full_case(gr_case *c, const gr_exercise *ex, gr_shape s, uint64_t seed) {
    make_case(c, ex, s, seed);
    if (ex == &W4_EX) sv_w4a16_reference(c, 0, c->rows);
    else sv_fp8_reference(c, 0, c->rows);
}

Test(serving_quant, correct_kernels_pass) {
    for (size_t i = 0; i < N_TOL; i++)
        for (int f = 0; f < 2; f++) {
            gr_case c;
            full_case(&c, f ? &FP8_EX : &W4_EX, TOL_SHAPES[i], 0x70 + i);
            kernel_output(&c, f ? fp8_code : w4_code, SCALE_RIGHT);
            gr_comparison cmp = judge(&c);
            cr_log_info("%s (%ld, %ld, %ld): a correct kernel errs by %.2e, tolerance %.2e", f ? "fp8  " : "w4a16",
                        TOL_SHAPES[i].d[0], TOL_SHAPES[i].d[1], TOL_SHAPES[i].d[2], cmp.rel_l2, cmp.tol);
            cr_assert(cmp.ok, "%s shape %zu: error %.3e, tolerance %.3e, %ld bad", f ? "fp8" : "w4a16", i, cmp.rel_l2,
                      cmp.tol, cmp.n_bad);
            gr_case_free(&c);
        }
}

/* One output alone, over many seeds: within 2^-8 of itself however it rounds. */
Test(serving_quant, a_single_correct_output_passes) {
    for (uint64_t seed = 1; seed <= 100; seed++)
        for (int f = 0; f < 2; f++) {
            gr_case c;
            full_case(&c, f ? &FP8_EX : &W4_EX, GR_SHAPE(1, 1, 128), seed);
            kernel_output(&c, f ? fp8_code : w4_code, SCALE_RIGHT);
            gr_comparison cmp = judge(&c);
            cr_assert(cmp.ok, "seed %llu %s: error %.3e", (unsigned long long)seed, f ? "fp8" : "w4a16", cmp.rel_l2);
            gr_case_free(&c);
        }
}

/* Each wrong kernel fails at every shape, by a margin (3x the tolerance at least). */
static void must_fail(const gr_exercise *ex, code_fn code, scale_mode mode, const char *what) {
    double least = INFINITY;
    for (size_t i = 0; i < N_TOL; i++) {
        gr_case c;
        full_case(&c, ex, TOL_SHAPES[i], 0x70 + i);
        kernel_output(&c, code, mode);
        gr_comparison cmp = judge(&c);
        cr_assert_not(cmp.ok, "%s passed at shape %zu (error %.3e, tolerance %.3e)", what, i, cmp.rel_l2, cmp.tol);
        least = fmin(least, cmp.rel_l2 / cmp.tol);
        gr_case_free(&c);
    }
    cr_log_info("%-40s fails by %.1fx the tolerance at least", what, least);
    cr_assert_gt(least, 3.0, "%s: fails by only %.1fx the tolerance", what, least);
}

Test(serving_quant, w4a16_without_sign_extension_fails) {
    must_fail(&W4_EX, w4_unsigned, SCALE_RIGHT, "w4a16: nibbles unsigned");
}
Test(serving_quant, w4a16_nibbles_swapped_fails) { must_fail(&W4_EX, w4_swapped, SCALE_RIGHT, "w4a16: high nibble first"); }
Test(serving_quant, w4a16_scale_of_the_next_group_fails) {
    must_fail(&W4_EX, w4_code, SCALE_NEXT_GROUP, "w4a16: the next group's scale");
}
Test(serving_quant, w4a16_scales_transposed_fails) {
    must_fail(&W4_EX, w4_code, SCALE_TRANSPOSED, "w4a16: scales read transposed");
}
Test(serving_quant, fp8_subnormals_as_normals_fails) {
    must_fail(&FP8_EX, fp8_as_normal, SCALE_RIGHT, "fp8: subnormals decoded as normals");
}
Test(serving_quant, fp8_subnormals_flushed_fails) {
    must_fail(&FP8_EX, fp8_flushed, SCALE_RIGHT, "fp8: subnormals flushed to zero");
}
Test(serving_quant, fp8_subnormals_halved_fails) {
    must_fail(&FP8_EX, fp8_half, SCALE_RIGHT, "fp8: subnormals half their value");
}
Test(serving_quant, fp8_scale_of_the_next_group_fails) {
    must_fail(&FP8_EX, fp8_code, SCALE_NEXT_GROUP, "fp8: the next group's scale");
}
