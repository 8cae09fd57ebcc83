/* Session 13's formats and references as the grader sees them (grader/nvfp4.c, grader/nvfp4_check.c),
 * and the FP16 output type the GEMVs write (GR_F16 in compare.c).
 *   - e2m1: every code's value; every midpoint (ties to the even code), saturation, -0, the nearest
 *     code on either side of every midpoint;
 *   - e4m3: every code's value against a table written from the definition; every midpoint of two
 *     neighbours, subnormals included; saturation at 448;
 *   - FP16: every one of the 65536 codes decoded and, NaNs aside, encoded back to itself; ties in
 *     normals, subnormals, at the top and at the normal boundary;
 *   - the quantiser: every representable value comes back exactly, zero and tiny blocks, nibble order;
 *   - the check's inputs (every kind of block occurs, the global scale is the recipe's), the GEMV's
 *     inputs, reference, tolerance and byte counts.
 * Host only: no GPU. (tests/nvfp4-quantize-test.sh checks the given CUDA helpers and the solution's
 * arithmetic against these functions.) */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "internal.h"
#include "nvfp4.h"
#include "unit_helpers.h"
#include "../../blackwell/13-nvfp4/exercises.h"

static bool same_float(double a, double b) {   /* equal with the same sign, or both NaN */
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

/* ==== e2m1 ========================================================================================== */

Test(nvfp4, e2m1_all_16_codes) {
    /* s ee m: exponent 0 is 0 or 0.5 (subnormal), else (1 + m/2) 2^(e-1). */
    const double want[16] = {0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6};
    for (int c = 0; c < 16; c++) {
        cr_assert(same_float(fp4_e2m1_value((uint8_t)c), want[c]), "code %d: %g", c, fp4_e2m1_value((uint8_t)c));
        cr_assert_eq(fp4_e2m1_encode(fp4_e2m1_value((uint8_t)c)), c, "code %d does not encode back", c);
    }
    /* Only the low nibble counts. */
    cr_assert_eq(fp4_e2m1_value(0xF7), 6.0f);
}

Test(nvfp4, e2m1_ties_go_to_the_even_code) {
    /* Each midpoint and the code it gives (the even one of its two neighbours). */
    const struct { float v; int code; } ties[] = {{0.25f, 0}, {0.75f, 2}, {1.25f, 2}, {1.75f, 4},
                                                  {2.5f, 4},  {3.5f, 6},  {5.0f, 6}};
    for (size_t i = 0; i < sizeof ties / sizeof ties[0]; i++) {
        cr_assert_eq(fp4_e2m1_encode(ties[i].v), ties[i].code, "%g", ties[i].v);
        cr_assert_eq(fp4_e2m1_encode(-ties[i].v), ties[i].code | 8, "-%g", ties[i].v);
        /* A hair either side is no tie: the nearer neighbour wins. */
        const int below = ties[i].code % 2 == 0 && fp4_e2m1_value((uint8_t)ties[i].code) < ties[i].v ? ties[i].code
                                                                                                     : ties[i].code - 1;
        cr_assert_eq(fp4_e2m1_encode(nextafterf(ties[i].v, 0)), below, "just below %g", ties[i].v);
        cr_assert_eq(fp4_e2m1_encode(nextafterf(ties[i].v, 10)), below + 1, "just above %g", ties[i].v);
    }
}

Test(nvfp4, e2m1_saturates_and_keeps_the_sign) {
    cr_assert_eq(fp4_e2m1_encode(6.0f), 7);
    cr_assert_eq(fp4_e2m1_encode(6.5f), 7);
    cr_assert_eq(fp4_e2m1_encode(1e30f), 7);
    cr_assert_eq(fp4_e2m1_encode(INFINITY), 7);
    cr_assert_eq(fp4_e2m1_encode(-100.0f), 15);
    cr_assert_eq(fp4_e2m1_encode(-INFINITY), 15);
    cr_assert_eq(fp4_e2m1_encode(0.0f), 0);
    cr_assert_eq(fp4_e2m1_encode(-0.0f), 8, "-0 is code 8");
    cr_assert_eq(fp4_e2m1_encode(-0.1f), 8, "a small negative rounds to -0, code 8");
    cr_assert_eq(fp4_e2m1_encode(-0.25f), 8, "-0.25 ties to -0");
    cr_assert_eq(fp4_e2m1_encode(0.1f), 0);
    cr_assert_eq(fp4_e2m1_encode(NAN), 0);
}

/* ==== e4m3 ========================================================================================== */

/* The 127 finite non-negative values in code order: 0 eeee mmm. Exponent field 0: m * 2^-9; field e:
 * (8 + m) * 2^(e - 10). Written out for the first binades and the top; the middle follows the rule. */
static double e4m3_by_definition(int code) {
    const int e = code >> 3, m = code & 7;
    return e == 0 ? m * 0x1p-9 : (8 + m) * pow(2.0, e - 10);
}

Test(nvfp4, e4m3_all_256_codes) {
    for (int c = 0; c < 256; c++) {
        const double v = fp4_e4m3_value((uint8_t)c);
        if ((c & 0x7F) == 0x7F) { cr_assert(isnan(v), "0x%02X is NaN", c); continue; }
        const double want = (c & 0x80) ? -e4m3_by_definition(c & 0x7F) : e4m3_by_definition(c);
        cr_assert(same_float(v, want), "0x%02X: %a, want %a", c, v, want);
    }
    /* Landmarks by hand. */
    cr_assert_eq(fp4_e4m3_value(0x01), 0x1p-9f, "the smallest subnormal");
    cr_assert_eq(fp4_e4m3_value(0x07), 7 * 0x1p-9f, "the largest subnormal");
    cr_assert_eq(fp4_e4m3_value(0x08), 0x1p-6f, "the smallest normal");
    cr_assert_eq(fp4_e4m3_value(0x38), 1.0f);
    cr_assert_eq(fp4_e4m3_value(0x7E), 448.0f);
    cr_assert_eq(fp4_e4m3_value(0xFE), -448.0f);
    cr_assert(same_float(fp4_e4m3_value(0x80), -0.0));
}

Test(nvfp4, e4m3_every_value_encodes_back) {
    for (int c = 0; c <= 0x7E; c++) {
        cr_assert_eq(fp4_e4m3_encode(fp4_e4m3_value((uint8_t)c)), c, "code 0x%02X", c);
        if (c > 0) cr_assert_gt(fp4_e4m3_value((uint8_t)c), fp4_e4m3_value((uint8_t)(c - 1)), "increasing at 0x%02X", c);
    }
}

Test(nvfp4, e4m3_ties_go_to_the_even_code) {
    for (int c = 0; c < 0x7E; c++) {
        const float lo = fp4_e4m3_value((uint8_t)c), hi = fp4_e4m3_value((uint8_t)(c + 1));
        const float mid = 0.5f * (lo + hi);   /* exact: one more bit than e4m3 has */
        cr_assert_eq((double)mid, 0.5 * ((double)lo + hi));
        cr_assert_eq(fp4_e4m3_encode(mid), c % 2 == 0 ? c : c + 1, "midpoint of 0x%02X and 0x%02X", c, c + 1);
        cr_assert_eq(fp4_e4m3_encode(nextafterf(mid, 0)), c, "just below the midpoint of 0x%02X", c);
        cr_assert_eq(fp4_e4m3_encode(nextafterf(mid, 1000)), c + 1, "just above the midpoint of 0x%02X", c);
    }
    /* Subnormal ties by hand: 2^-10 is halfway from 0 to 2^-9 (even: 0); 3 * 2^-10 from code 1 to 2 (2). */
    cr_assert_eq(fp4_e4m3_encode(0x1p-10f), 0x00);
    cr_assert_eq(fp4_e4m3_encode(0x3p-10f), 0x02);
    cr_assert_eq(fp4_e4m3_encode(0x1p-20f), 0x00);
    /* 15 * 2^-10, halfway from 7 * 2^-9 (0x07) to 2^-6 (0x08): even, 0x08. */
    cr_assert_eq(fp4_e4m3_encode(0xFp-10f), 0x08);
}

Test(nvfp4, e4m3_saturates_at_448) {
    cr_assert_eq(fp4_e4m3_encode(448.0f), 0x7E);
    cr_assert_eq(fp4_e4m3_encode(464.0f), 0x7E, "the midpoint to the NaN slot saturates");
    cr_assert_eq(fp4_e4m3_encode(1e20f), 0x7E);
    cr_assert_eq(fp4_e4m3_encode(INFINITY), 0x7E);
    cr_assert_eq(fp4_e4m3_encode(432.0f), 0x7E, "432, halfway from 416 (0x7D) to 448 (0x7E): even is 0x7E");
    cr_assert_eq(fp4_e4m3_encode(0.0f), 0x00);
    cr_assert_eq(fp4_e4m3_encode(NAN), 0x00);
}

/* ==== FP16 (GR_F16) ================================================================================= */

Test(nvfp4, f16_every_code_decodes_and_encodes_back) {
    for (uint32_t h = 0; h < 0x10000; h++) {
        const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
        const double mag = e == 31 ? (m ? NAN : INFINITY) : e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
        const double want = (h & 0x8000) ? -mag : mag;
        const float v = gr_f16_value((uint16_t)h);
        cr_assert(same_float(v, want), "0x%04X: %a, want %a", h, v, want);
        cr_assert(same_float(gr_value(GR_F16, &(uint16_t){(uint16_t)h}, 0), want), "gr_value 0x%04X", h);
        if (!isnan(v)) cr_assert_eq(gr_f16_round(v), h, "0x%04X does not round back", h);
        else cr_assert(isnan(gr_f16_value(gr_f16_round(v))), "NaN 0x%04X stays NaN", h);
    }
}

Test(nvfp4, f16_rounds_to_nearest_even) {
    cr_assert_eq(gr_f16_round(1.0f + 0x1p-11f), 0x3C00, "1 + half an ulp: even, 1");
    cr_assert_eq(gr_f16_round(1.0f + 0x3p-11f), 0x3C02, "1 + 1.5 ulp: even, 1 + 2 ulp");
    cr_assert_eq(gr_f16_round(1.0f + 0x1p-11f + 0x1p-20f), 0x3C01, "above the tie: up");
    cr_assert_eq(gr_f16_round(2047.5f), 0x6800, "2047.5 ties to 2048 (even mantissa)");
    cr_assert_eq(gr_f16_round(65504.0f), 0x7BFF, "the largest");
    cr_assert_eq(gr_f16_round(65519.0f), 0x7BFF);
    cr_assert_eq(gr_f16_round(65520.0f), 0x7C00, "halfway to 65536: to even, infinity");
    cr_assert_eq(gr_f16_round(-1e10f), 0xFC00);
    cr_assert_eq(gr_f16_round(0x1p-25f), 0x0000, "half the smallest subnormal: even, 0");
    cr_assert_eq(gr_f16_round(0x3p-25f), 0x0002, "1.5 subnormal steps: even, 2");
    cr_assert_eq(gr_f16_round(0x7FFp-25f), 0x0400, "1023.5 steps: up to the smallest normal");
    cr_assert_eq(gr_f16_round(0x1p-14f), 0x0400);
    cr_assert_eq(gr_f16_round(-0.0f), 0x8000);
    cr_assert_eq(gr_f16_round(1e-30f), 0x0000);
    cr_assert(isnan(gr_f16_value(gr_f16_round(NAN))));
}

Test(nvfp4, f16_outputs_are_compared_and_nan_poison_is_unwritten) {
    /* FP16 1.0 = 0x3C00, 2.0 = 0x4000, 3.0 = 0x4200, poison 0xFFFF = NaN; the reference is float32. */
    const float ref[] = {1.0f, 2.0f, 3.0f};
    const uint16_t good[] = {0x3C00, 0x4000, 0x4200}, off[] = {0x3C00, 0x4001, 0x4200}, poisoned[] = {0x3C00, 0xFFFF, 0x4200};
    cr_assert_eq(gr_dtype_size(GR_F16), 2);
    cr_assert_eq(gr_ref_dtype(GR_F16), GR_F32);
    gr_comparison c;
    gr_compare(GR_F16, good, ref, 3, 1, NULL, 1e-4, &c);
    cr_assert(c.ok);
    gr_compare(GR_F16, off, ref, 3, 1, NULL, 1e-5, &c);
    cr_assert_not(c.ok, "an ulp off (2^-9 relative) is over a 1e-5 tolerance");
    cr_assert_eq(c.first_bad, 1);
    cr_assert_eq(c.got, 2.001953125);
    gr_compare(GR_F16, poisoned, ref, 3, 1, NULL, 1e-2, &c);
    cr_assert_not(c.ok);
    cr_assert_eq(c.n_unwritten, 1);
}

/* ==== 01: the block quantiser ====================================================================== */

/* Every representable value comes back exactly: for each non-zero scale code sc and global scales
 * that are powers of two, a block of e2m1 values times S = e4m3(sc) * gs, one of them -6 S (so that
 * amax / (6 gs) is e4m3(sc) exactly), quantises to scale sc and dequantises to itself, -0 included. */
Test(nvfp4, quantise_then_dequantise_reproduces_representable_values) {
    const float global_scales[] = {1.0f, 0x1p-12f, 0x1p12f, 0x1p-3f};
    for (size_t g = 0; g < sizeof global_scales / sizeof global_scales[0]; g++)
        for (int sc = 1; sc <= 0x7E; sc++) {
            const float gs = global_scales[g], S = fp4_e4m3_value((uint8_t)sc) * gs;
            float x[16], y[16];
            uint8_t codes[8];
            for (int k = 0; k < 16; k++) x[k] = fp4_e2m1_value((uint8_t)((k * 7 + sc) % 16)) * S;
            x[(sc * 5) % 16] = -6.0f * S;
            const uint8_t scale = fp4_quantize_block(x, gs, codes);
            cr_assert_eq(scale, sc, "scale code 0x%02X, gs %a: got 0x%02X", sc, gs, scale);
            fp4_dequantize_block(codes, scale, gs, y);
            for (int k = 0; k < 16; k++)
                cr_assert(same_float(y[k], x[k]), "sc 0x%02X gs %a k %d: %a -> %a", sc, gs, k, x[k], y[k]);
        }
}

Test(nvfp4, quantiser_by_hand) {
    /* gs = 2^-8 and amax = 6: amax / (6 gs) = 256, scale 0x78 (exponent 15, 2^8), S = 256 gs = 1, so
     * each x is its own x / S: the midpoints below are exact ties. */
    const float x[16] = {0.5f, 6, -1, 0.25f, 0.75f, -0.1f, 2.5f, 5, 0, -0.0f, 3, -6, 1.5f, 4, 1.75f, 2};
    uint8_t codes[8];
    const uint8_t scale = fp4_quantize_block(x, 0x1p-8f, codes);
    cr_assert_eq(scale, 0x78);
    /* codes: 0.5->1, 6->7 | -1->A, 0.25->0 | 0.75->2, -0.1->8 | 2.5->4, 5->6 | 0->0, -0->8 |
     * 3->5, -6->F | 1.5->3, 4->6 | 1.75->4, 2->4; the even value in the low nibble. */
    const uint8_t want[8] = {0x71, 0x0A, 0x82, 0x64, 0x80, 0xF5, 0x63, 0x44};
    for (int i = 0; i < 8; i++) cr_assert_eq(codes[i], want[i], "byte %d: 0x%02X, want 0x%02X", i, codes[i], want[i]);
}

Test(nvfp4, zero_and_tiny_blocks_give_scale_0_and_codes_plus_0) {
    float zeros[16], tiny[16];
    for (int k = 0; k < 16; k++) zeros[k] = k % 2 ? -0.0f : 0.0f, tiny[k] = (k % 2 ? -1.0f : 1.0f) * 0x1p-40f;
    uint8_t codes[8];
    cr_assert_eq(fp4_quantize_block(zeros, 1.0f, codes), 0);
    for (int i = 0; i < 8; i++) cr_assert_eq(codes[i], 0, "zeros: byte %d", i);
    cr_assert_eq(fp4_quantize_block(tiny, 1.0f, codes), 0);
    for (int i = 0; i < 8; i++) cr_assert_eq(codes[i], 0, "tiny: byte %d is 0x%02X, not +0 codes", i, codes[i]);
    /* A subnormal scale is kept: amax / (6 gs) = 3 * 2^-9 gives scale 0x03. */
    float small[16] = {0};
    small[4] = 6 * 0x3p-9f;
    cr_assert_eq(fp4_quantize_block(small, 1.0f, codes), 0x03);
    cr_assert_eq(codes[2], 0x07);
}

Test(nvfp4, global_scale_is_the_recipe) {
    const float x[4] = {1, -2688, 3, 0};
    cr_assert_eq(fp4_global_scale(x, 4), 1.0f);
    const float z[2] = {0, -0.0f};
    cr_assert_eq(fp4_global_scale(z, 2), 1.0f, "all zeros: any scale; 1");
}

/* ==== the check's side ============================================================================== */

static const gr_exercise QUANT_EX = {.name = "unit_quantize", .on_host = true, .adjust_inputs = fp4_quantize_adjust};
static const gr_exercise DEQUANT_EX = {.name = "unit_dequantize", .on_host = true, .adjust_inputs = fp4_dequantize_adjust};
static const gr_exercise GEMV_EX = {.name = "unit_gemv", .on_host = true, .adjust_inputs = fp4_gemv_adjust};

static void make_case(gr_case *c, const gr_exercise *ex, void (*declare)(gr_case *), gr_shape s, uint64_t seed) {
    char err[256] = "";
    gr_case_init(c, ex, s, seed);
    declare(c);
    cr_assert(gr_case_alloc(c, err, sizeof err), "alloc: %s", err);
    gr_case_fill_inputs(c);
}

Test(nvfp4, exercises_h_and_the_grader_agree) {
    cr_assert_eq(NVFP4_BLOCK, FP4_BLOCK);
}

Test(nvfp4, bad_shapes_are_refused, .exit_code = 70) {
    unit_quiet_stderr();
    gr_case c;
    gr_case_init(&c, &GEMV_EX, GR_SHAPE(7, 96, 1), 1);   /* K not a multiple of 64 */
    fp4_gemv_declare(&c);
}

Test(nvfp4, quantise_bad_k_is_refused, .exit_code = 70) {
    unit_quiet_stderr();
    gr_case c;
    gr_case_init(&c, &QUANT_EX, GR_SHAPE(3, 24), 1);
    fp4_quantize_declare(&c);
}

/* Over a few seeds: every kind of block occurs, the global scale is the recipe's, and the scales the
 * reference makes cover zero, subnormal and normal codes; the reference's ties happen. */
Test(nvfp4, quantise_inputs_cover_the_cases) {
    int zero_scales = 0, subnormal_scales = 0, normal_scales = 0, top_scales = 0, ties = 0, minus_zero = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        gr_case c;
        make_case(&c, &QUANT_EX, fp4_quantize_declare, GR_SHAPE(64, 256), seed);
        const float *X = gr_in(&c, "X");
        const long n = 64 * 256;
        cr_assert_eq((float)c.param[0], fp4_global_scale(X, (size_t)n), "seed %lu: the recipe's global scale", seed);
        fp4_quantize_reference(&c, 0, c.rows);
        const uint8_t *sc = gr_ref(&c, "scales"), *q = gr_ref(&c, "q");
        for (long b = 0; b < n / 16; b++) {
            zero_scales += sc[b] == 0;
            subnormal_scales += sc[b] > 0 && sc[b] < 0x08;
            normal_scales += sc[b] >= 0x08;
            top_scales += sc[b] == 0x7E;
            const float S = fp4_e4m3_value(sc[b]) * (float)c.param[0];
            for (int k = 0; k < 16 && S != 0; k++) {
                const float r = fabsf(X[b * 16 + k] / S);
                ties += r == 0.25f || r == 0.75f || r == 1.25f || r == 1.75f || r == 2.5f || r == 3.5f || r == 5.0f;
            }
        }
        for (long i = 0; i < n / 2; i++) minus_zero += (q[i] & 0xF) == 8 || (q[i] >> 4) == 8;
        gr_case_free(&c);
    }
    cr_assert_gt(zero_scales, 100, "%d zero scales", zero_scales);
    cr_assert_gt(subnormal_scales, 20, "%d subnormal scales", subnormal_scales);
    cr_assert_gt(normal_scales, 1000, "%d normal scales", normal_scales);
    cr_assert_gt(top_scales, 0, "the anchor's block has scale 448");
    cr_assert_gt(ties, 1000, "%d e2m1 ties", ties);
    cr_assert_gt(minus_zero, 100, "%d -0 codes", minus_zero);
}

Test(nvfp4, dequantise_inputs_are_valid_and_the_reference_is_the_block_function) {
    gr_case c;
    make_case(&c, &DEQUANT_EX, fp4_dequantize_declare, GR_SHAPE(5, 64), 3);
    const uint8_t *sc = gr_in(&c, "scales"), *q = gr_in(&c, "q");
    for (int b = 0; b < 5 * 4; b++) cr_assert(sc[b] < 0x7F, "scale %d is 0x%02X", b, sc[b]);
    const float gs = (float)c.param[0];
    cr_assert(gs > 0 && (double)gs == c.param[0]);
    fp4_dequantize_reference(&c, 0, c.rows);
    const float *Y = gr_ref(&c, "Y");
    for (int k = 0; k < 5 * 64; k++) {
        const uint8_t code = (uint8_t)((q[k / 2] >> (4 * (k % 2))) & 0xF);
        const float want = (fp4_e2m1_value(code) * fp4_e4m3_value(sc[k / 16])) * gs;
        cr_assert(same_float(Y[k], want), "Y[%d]", k);
    }
    cr_assert_eq(fp4_exact_tolerance(&c.shape), 0);
    gr_case_free(&c);
}

Test(nvfp4, byte_counts) {
    /* 01 at (4096, 7168): 4 bytes a float in, half a byte of code and 1/16 byte of scale out. */
    const gr_shape q = GR_SHAPE(4096, 7168);
    cr_assert_eq(fp4_quantize_bytes(&q), 4096.0 * 7168 * (4 + 0.5 + 1.0 / 16));
    cr_assert_eq(fp4_dequantize_bytes(&q), 4096.0 * 7168 * (4 + 0.5 + 1.0 / 16));
    /* The competition's first shape: a 7168 x 16384 matrix of codes (58.7 MB) and its scales (7.3 MB),
     * the vector (8 KB + 1 KB), 7168 FP16 outputs. */
    const gr_shape g = GR_SHAPE(7168, 16384, 1);
    cr_assert_eq(fp4_gemv_bytes(&g), 7168.0 * 8192 + 7168.0 * 1024 + 8192 + 1024 + 2 * 7168);
    cr_assert_eq(fp4_gemv_flops(&g), 2.0 * 7168 * 16384);
    const gr_shape g8 = GR_SHAPE(4096, 7168, 8);
    cr_assert_eq(fp4_gemv_bytes(&g8), 8 * (4096.0 * 3584 + 4096.0 * 448 + 3584 + 448 + 2 * 4096));
    char note[160];
    fp4_gemv_note(&g, note, sizeof note);
    cr_assert(strstr(note, "8.622 us"), "%s", note);
}

Test(nvfp4, gemv_inputs_cover_every_code_and_valid_scales) {
    gr_case c;
    make_case(&c, &GEMV_EX, fp4_gemv_declare, GR_SHAPE(64, 1024, 2), 5);
    int seen[16] = {0};
    const gr_buffer *a = gr_find(&c, "a");
    const uint8_t *av = gr_in(&c, "a");
    for (size_t i = 0; i < a->count; i++) seen[av[i] & 0xF]++, seen[av[i] >> 4]++;
    for (int k = 0; k < 16; k++) cr_assert_gt(seen[k], 100, "code %d drawn %d times", k, seen[k]);
    const char *names[2] = {"sfa", "sfb"};
    for (int n = 0; n < 2; n++) {
        const gr_buffer *b = gr_find(&c, names[n]);
        const uint8_t *s = gr_in(&c, names[n]);
        int exps[16] = {0};
        for (size_t i = 0; i < b->count; i++) {
            cr_assert(!(s[i] & 0x80), "%s[%zu] negative", names[n], i);
            const int e = s[i] >> 3;
            cr_assert(e >= FP4_GEMV_SCALE_E_MIN && e <= FP4_GEMV_SCALE_E_MAX, "%s[%zu] = 0x%02X", names[n], i, s[i]);
            exps[e]++;
        }
        for (int e = FP4_GEMV_SCALE_E_MIN; e <= FP4_GEMV_SCALE_E_MAX; e++) cr_assert_gt(exps[e], 0, "%s exponent %d", names[n], e);
    }
    cr_assert_eq(gr_find(&c, "c")->dtype, GR_F16);
    cr_assert_eq(c.rows, 2);
    gr_case_free(&c);
}

Test(nvfp4, gemv_reference_by_hand) {
    /* K = 64: a's row all bytes 0x71 (k even 0.5, k odd 6), b all 0x2A (k even -1, k odd 1): each pair
     * gives -0.5 + 6 = 5.5, 8 pairs a block: 44; scales 1 (0x38) and 2 (0x40) for a, 0.5 (0x30) for b:
     * blocks 44 * 0.5 * (1, 2, 1, 2) = 22 + 44 + 22 + 44 = 132. */
    uint8_t a[32], b[32], sfa[4] = {0x38, 0x40, 0x38, 0x40}, sfb[4] = {0x30, 0x30, 0x30, 0x30};
    memset(a, 0x71, sizeof a);
    memset(b, 0x2A, sizeof b);
    double mag;
    cr_assert_eq(fp4_gemv_dot(a, sfa, b, sfb, 64, &mag), 132.0);
    /* |terms|: 0.5 + 6 = 6.5 a pair, 52 a block: 52 * 0.5 * (1, 2, 1, 2) = 156. */
    cr_assert_eq(mag, 156.0, "sum of |terms|: %g", mag);
}

/* The tolerance's claims: a kernel that sums in FP32 in k order and rounds once to FP16 passes at
 * every check shape; one that reads a's nibbles the wrong way round, or the neighbouring block's
 * scale, fails. (Swapping the nibbles of a and b alike pairs the same codes: that is still right.) */
typedef enum { RIGHT, NIBBLES_SWAPPED, NEXT_SCALE } gemv_kind;

static void emulate_gemv(gr_case *c, gemv_kind kind) {
    const long M = c->shape.d[0], K = c->shape.d[1], L = c->shape.d[2];
    const uint8_t *a = gr_in(c, "a"), *sfa = gr_in(c, "sfa"), *b = gr_in(c, "b"), *sfb = gr_in(c, "sfb");
    uint16_t *out = gr_find(c, "c")->host;
    for (long l = 0; l < L; l++)
        for (long m = 0; m < M; m++) {
            const long row = l * M + m;
            float acc = 0;
            for (long k = 0; k < K; k++) {
                const int shift_b = (k % 2) * 4, shift_a = ((k % 2) ^ (kind == NIBBLES_SWAPPED)) * 4;
                const long blk = kind == NEXT_SCALE ? (k / 16 + 1) % (K / 16) : k / 16;
                acc += fp4_e2m1_value((uint8_t)(a[row * K / 2 + k / 2] >> shift_a)) * fp4_e4m3_value(sfa[row * K / 16 + blk]) *
                       fp4_e2m1_value((uint8_t)(b[l * K / 2 + k / 2] >> shift_b)) * fp4_e4m3_value(sfb[l * K / 16 + blk]);
            }
            out[row] = gr_f16_round(acc);
        }
}

static gr_comparison judge_gemv(gr_shape s, uint64_t seed, gemv_kind kind) {
    gr_case c;
    make_case(&c, &GEMV_EX, fp4_gemv_declare, s, seed);
    fp4_gemv_reference(&c, 0, c.rows);
    emulate_gemv(&c, kind);
    const gr_buffer *b = gr_find(&c, "c");
    gr_comparison cmp;
    gr_compare(b->dtype, b->host, b->ref, b->count, b->row_len, NULL, fp4_gemv_tolerance(&s), &cmp);
    gr_case_free(&c);
    return cmp;
}

static const gr_shape GEMV_SHAPES[] = {{3, {1, 64, 1}},   {3, {7, 128, 3}},   {3, {129, 192, 2}}, {3, {33, 2048, 3}},
                                       {3, {128, 3072, 1}}, {3, {64, 7168, 1}}, {3, {16, 16384, 2}}};
#define N_GEMV_SHAPES (sizeof GEMV_SHAPES / sizeof GEMV_SHAPES[0])

Test(nvfp4, gemv_tolerance_passes_fp32_sums_rounded_to_fp16) {
    cr_assert_leq(fp4_gemv_tolerance(&GEMV_SHAPES[0]), 1e-3, "no looser than the competition");
    for (size_t i = 0; i < N_GEMV_SHAPES; i++)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            const gr_comparison cmp = judge_gemv(GEMV_SHAPES[i], seed, RIGHT);
            cr_assert(cmp.ok, "shape %zu seed %lu: rel %.2e, %ld bad", i, seed, cmp.rel_l2, cmp.n_bad);
        }
}

Test(nvfp4, gemv_wrong_kernels_fail) {
    for (size_t i = 0; i < N_GEMV_SHAPES; i++) {
        const gr_comparison swapped = judge_gemv(GEMV_SHAPES[i], 7, NIBBLES_SWAPPED);
        cr_assert_not(swapped.ok, "shape %zu: swapped nibbles pass (rel %.2e)", i, swapped.rel_l2);
        const gr_comparison next = judge_gemv(GEMV_SHAPES[i], 7, NEXT_SCALE);
        if (GEMV_SHAPES[i].d[1] > 16) cr_assert_not(next.ok, "shape %zu: the next block's scale passes (rel %.2e)", i, next.rel_l2);
    }
}
