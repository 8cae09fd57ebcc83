/* Session 12's quantised GEMVs (06 W4A16, 07 FP8 e4m3) as the grader sees them: the formats
 * decoded, the inputs shaped like quantised weights, the float64 references, the byte counts.
 * Shapes are (M, N, K) with K % 128 == 0; Y = X W^T, W N x K stored quantised with one scale per
 * 128 weights of a row (serving/12-serving/exercises.h has the layouts). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving.h"

#define QM(s) ((s)->d[0])
#define QN(s) ((s)->d[1])
#define QK(s) ((s)->d[2])
#define GROUP 128   /* QUANT_GROUP of exercises.h: weights of a row that share one scale */

/* ---- the formats ------------------------------------------------------------------------------ */

/* A 4-bit two's-complement integer: nibbles 0..7 are themselves, 8..15 are -8..-1. Flipping bit 3
 * maps -8..7 onto 0..15 in order, so subtracting 8 afterwards sign-extends. */
int sv_int4_value(uint8_t nibble) { return ((nibble & 0xF) ^ 8) - 8; }

/* e4m3 ("fn": finite, no infinities): sign s, exponent e (4 bits, bias 7), mantissa m (3 bits).
 * e = 0 is subnormal, (m / 8) * 2^-6; otherwise (1 + m / 8) * 2^(e - 7), up to 1.75 * 2^8 = 448.
 * The one NaN pattern is e = 15, m = 7 (0x7F, 0xFF). Every value is exact in float32. */
float sv_e4m3_value(uint8_t byte) {
    const int e = (byte >> 3) & 0xF, m = byte & 7;
    float v;
    if (e == 15 && m == 7) v = NAN;
    else if (e == 0) v = ldexpf((float)m, -9);          /* m/8 * 2^-6 */
    else v = ldexpf((float)(8 + m), e - 10);            /* (8+m)/8 * 2^(e-7) */
    return (byte & 0x80) ? -v : v;
}

static float bf16_value(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Round to nearest, ties to even (the values here are finite). */
static uint16_t bf16_round(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return (uint16_t)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

/* ---- buffers ------------------------------------------------------------------------------------ */

/* A reference row is a row of Y (one batch row, N outputs), as in the BF16 GEMV. */
static void declare_quant(gr_case *c, const char *weights, size_t weight_bytes, gr_dtype scale_type) {
    const gr_shape *s = &c->shape;
    if (QK(s) % GROUP != 0) {
        fprintf(stderr, "grader: quantised GEMV shape with K = %ld, not a multiple of %d\n", QK(s), GROUP);
        exit(70);
    }
    gr_input(c, weights, GR_U8, weight_bytes, GR_FILL_BYTES);
    gr_input(c, "scales", scale_type, (size_t)(QN(s) * (QK(s) / GROUP)), GR_FILL_UNIT);
    gr_input(c, "X", GR_BF16, (size_t)(QM(s) * QK(s)), GR_FILL_SIGNED);
    gr_output(c, "Y", GR_BF16, (size_t)(QM(s) * QN(s)), QN(s));
    c->rows = QM(s);
}

void sv_w4a16_declare(gr_case *c) {
    declare_quant(c, "W4", (size_t)(QN(&c->shape) * QK(&c->shape) / 2), GR_BF16);
}

void sv_fp8_declare(gr_case *c) { declare_quant(c, "W8", (size_t)(QN(&c->shape) * QK(&c->shape)), GR_F32); }

/* ---- inputs -------------------------------------------------------------------------------------- */

/* Any byte is two valid nibbles, so the uniform bytes stay. The scales, uniform in [0, 1), become
 * (0.5 + u) / 8 in BF16, in [1/16, 3/16]: positive, and a weight q * scale spans about [-1.5, 1.3],
 * the size of the other exercises' BF16 weights. Neighbouring groups differ by up to 3x, so a
 * scale taken from the wrong group is off by tens of percent. */
void sv_w4a16_adjust(gr_case *c) {
    const gr_buffer *b = gr_find(c, "scales");
    uint16_t *sc = (uint16_t *)gr_in(c, "scales");
    for (size_t i = 0; i < b->count; i++) sc[i] = bf16_round((0.5f + bf16_value(sc[i])) * 0.125f);
}

void sv_e4m3_fold(uint8_t *code, long n, int e_lo) {
    for (long k = 0; k < n; k++) {
        int e = e_lo + ((code[k] >> 3) & 3), m = code[k] & 7;
        if (e == 15 && m == 7) m = 6;
        code[k] = (uint8_t)((code[k] & 0x80) | (e << 3) | m);
    }
}

/* Uniform bytes would make every sum hang on its few weights near 448: the subnormals (2^-9 ..
 * 7 * 2^-9) and small normals would weigh nothing, and a kernel that decoded them wrongly would
 * still pass. Real FP8 weights are quantised per block instead, each block's scale placing its
 * values where the format is dense. So each group of 128 codes keeps its signs and mantissas but
 * has its exponents folded into a window of four binades, e_lo .. e_lo + 3, and its scale brings
 * the window back to weight size (|W| < 0.71). One group in four has e_lo = 0: a quarter of its
 * codes are subnormals (zeros included); the others draw e_lo from 1 .. 12, and e_lo = 12 reaches
 * 448. The two NaN codes (0x7F, 0xFF) left by the folding become +-448 (mantissa 6). */
#define FP8_SUBNORMAL_GROUPS 0.25
void sv_fp8_adjust(gr_case *c) {
    const gr_shape *s = &c->shape;
    uint8_t *w = (uint8_t *)gr_in(c, "W8");
    float *sc = (float *)gr_in(c, "scales");
    const long groups = QN(s) * (QK(s) / GROUP);
    for (long g = 0; g < groups; g++) {
        int e_lo = 0;
        if (gr_random_uniform(c, 0, 1) >= FP8_SUBNORMAL_GROUPS) e_lo = 1 + (int)gr_random_uniform(c, 0, 12);
        sv_e4m3_fold(w + g * GROUP, GROUP, e_lo);   /* groups are consecutive: row n's group j is group n*K/128 + j */
        /* The window's largest magnitude, 1.875 * 2^(e_lo - 4), times 2^(4 - e_lo) is 1.875, and
         * times (0.5 + u) / 4 (u the uniform fill, in [0, 1)) below 0.71. */
        sc[g] = ldexpf((0.5f + sc[g]) * 0.25f, 4 - e_lo);
    }
}

/* ---- references -------------------------------------------------------------------------------- */

/* Y[m][n] = sum_k X[m][k] W[n][k] in float64 over the decoded weights, for the batch rows
 * [r0, r1). Each row of W is decoded once (into float64: an e4m3 value times a float32 scale has
 * up to 28 significant bits) and dotted with every batch row; four partial sums keep the adds in
 * flight. The exact sum is kept in float32, not rounded to BF16 (see gr_bf16_gemm_nt_tolerance). */
typedef void (*decode_row_fn)(gr_case *c, long n, double *w);

static void quant_reference(gr_case *c, long r0, long r1, decode_row_fn decode_row) {
    const gr_shape *s = &c->shape;
    const long N = QN(s), K = QK(s);
    const float *X = gr_in_f32(c, "X");
    float *Y = gr_ref(c, "Y");
    double *w = malloc(sizeof(double) * (size_t)K);
    if (!w) { fprintf(stderr, "grader: out of host memory\n"); exit(70); }
    for (long n = 0; n < N; n++) {
        decode_row(c, n, w);
        for (long m = r0; m < r1; m++) {
            const float *x = X + m * K;
            double p[4] = {0, 0, 0, 0};
            for (long k = 0; k < K; k += 4)   /* K % 128 == 0 */
                for (int i = 0; i < 4; i++) p[i] += (double)x[k + i] * w[k + i];
            Y[m * N + n] = (float)((p[0] + p[1]) + (p[2] + p[3]));
        }
    }
    free(w);
}

static void decode_w4_row(gr_case *c, long n, double *w) {
    const long K = QK(&c->shape), groups = K / GROUP;
    const uint8_t *row = (const uint8_t *)gr_in(c, "W4") + n * (K / 2);
    const uint16_t *scale = (const uint16_t *)gr_in(c, "scales") + n * groups;
    for (long j = 0; j < K / 2; j++) {   /* byte j: k = 2j in the low nibble, 2j + 1 in the high */
        const double sc = bf16_value(scale[2 * j / GROUP]);
        w[2 * j] = sv_int4_value(row[j] & 0xF) * sc;
        w[2 * j + 1] = sv_int4_value(row[j] >> 4) * sc;
    }
}

/* The 256 codes' values, made once (a table lookup is 6x faster than decoding each weight). */
static float e4m3_table[256];
static int e4m3_table_ready;

static void decode_fp8_row(gr_case *c, long n, double *w) {
    const long K = QK(&c->shape), groups = K / GROUP;
    const uint8_t *row = (const uint8_t *)gr_in(c, "W8") + n * K;
    const float *scale = (const float *)gr_in(c, "scales") + n * groups;
    if (!e4m3_table_ready) {
        for (int b = 0; b < 256; b++) e4m3_table[b] = sv_e4m3_value((uint8_t)b);
        e4m3_table_ready = 1;
    }
    for (long k = 0; k < K; k++) w[k] = (double)e4m3_table[row[k]] * scale[k / GROUP];
}

void sv_w4a16_reference(gr_case *c, long r0, long r1) { quant_reference(c, r0, r1, decode_w4_row); }
void sv_fp8_reference(gr_case *c, long r0, long r1) { quant_reference(c, r0, r1, decode_fp8_row); }

/* ---- bytes ------------------------------------------------------------------------------------- */

/* The least a kernel moves: the packed weights and their scales once, X once, Y once. */
double sv_w4a16_bytes(const gr_shape *s) {
    const double nk = (double)QN(s) * QK(s);
    return nk / 2 + 2.0 * nk / GROUP + 2.0 * QM(s) * QK(s) + 2.0 * QM(s) * QN(s);
}

double sv_fp8_bytes(const gr_shape *s) {
    const double nk = (double)QN(s) * QK(s);
    return nk + 4.0 * nk / GROUP + 2.0 * QM(s) * QK(s) + 2.0 * QM(s) * QN(s);
}
