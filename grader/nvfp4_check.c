/* Session 13's exercises as the check sees them: the buffers, the inputs shaped so that every case of
 * the formats occurs, the references (nvfp4.c does the maths), the tolerances and the byte counts.
 *   01 quantise / dequantise: shape (rows, K), K % 16 == 0
 *   02-06 batched GEMV:       shape (M, K, L), K % 64 == 0
 * blackwell/13-nvfp4/exercises.h has the layouts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nvfp4.h"

#define ROWS(s) ((s)->d[0])
#define QK(s) ((s)->d[1])
#define GM(s) ((s)->d[0])
#define GK(s) ((s)->d[1])
#define GL(s) ((s)->d[2])

static void refuse_shape(const char *what, const gr_shape *s) {
    fprintf(stderr, "grader: session 13 shape (%ld, %ld%s%ld) %s\n", s->d[0], s->d[1], s->rank > 2 ? ", " : "",
            s->rank > 2 ? s->d[2] : 0L, what);
    exit(70);
}

/* ==== 01: the quantiser ============================================================================== */

static void declare_blocks(gr_case *c) {
    const gr_shape *s = &c->shape;
    if (s->rank != 2 || ROWS(s) < 1 || QK(s) < FP4_BLOCK || QK(s) % FP4_BLOCK != 0)
        refuse_shape("is not (rows >= 1, K a positive multiple of 16)", s);
    c->rows = ROWS(s);
}

void fp4_quantize_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    declare_blocks(c);
    const long n = ROWS(s) * QK(s);
    gr_input(c, "X", GR_F32, (size_t)n, GR_FILL_SIGNED);
    gr_output(c, "q", GR_U8, (size_t)(n / 2), QK(s) / 2);
    gr_output(c, "scales", GR_U8, (size_t)(n / FP4_BLOCK), QK(s) / FP4_BLOCK);
}

/* Uniform noise alone would give every block a scale in a few binades and almost never a tie. So each
 * block of X becomes one of five kinds, drawn at random:
 *   zeros (10%): +0 and -0; the scale is 0 and every code +0;
 *   tiny (10%): below the smallest scale's reach, so the scale rounds to 0 and every code is +0,
 *     negative values included;
 *   code ties (20%): a random non-zero scale code sc and values j/4 of S = e4m3(sc) * gs (j = 0 .. 24,
 *     one value j = 24 so that amax / (6 gs) is e4m3(sc) exactly): every j of 1, 3, 5, 7, 10, 14, 20
 *     lands x / S on a midpoint of e2m1, where only ties-to-even gives the right code;
 *   scale ties (10%): amax / (6 gs) exactly halfway between two neighbouring e4m3 values (from 0 and
 *     2^-9 up), where only ties-to-even gives the right scale;
 *   spread (50%): uniform values times 2^-e, e uniform in [0, 20]: scales over twenty binades,
 *     subnormal scales (below 2^-6) among them.
 * The global scale is NVFP4's recipe, amax(X) / (6 * 448), computed here and passed to the launcher.
 * In three cases of four one element of X is +-2688 * 2^p (p in -12 .. 12), the largest |x|, so that
 * the global scale is 2^p exactly and the ties above are exact ties; in the fourth, the largest |x|
 * is whatever was drawn, and the global scale any float. */
#define BLOCK_ZEROS 0.10
#define BLOCK_TINY 0.20
#define BLOCK_CODE_TIES 0.40
#define BLOCK_SCALE_TIES 0.50

static double random_sign(gr_case *c) { return gr_random_uniform(c, 0, 1) < 0.5 ? -1.0 : 1.0; }
static int random_int(gr_case *c, int lo, int hi) {   /* lo .. hi, both included */
    int v = lo + (int)gr_random_uniform(c, 0, hi - lo + 1);
    return v > hi ? hi : v;
}

void fp4_quantize_adjust(gr_case *c) {
    const gr_shape *s = &c->shape;
    float *X = (float *)gr_in(c, "X");
    const long n_blocks = ROWS(s) * QK(s) / FP4_BLOCK;
    const int p = random_int(c, -12, 12);
    const double unit = ldexp(1.0, p);                  /* the global scale the anchor makes */
    const double top = FP4_E2M1_MAX * FP4_E4M3_MAX * unit;
    for (long blk = 0; blk < n_blocks; blk++) {
        float *x = X + blk * FP4_BLOCK;
        const double kind = gr_random_uniform(c, 0, 1);
        const int at = random_int(c, 0, FP4_BLOCK - 1);   /* where a block's largest value goes */
        if (kind < BLOCK_ZEROS) {
            for (int k = 0; k < FP4_BLOCK; k++) x[k] = (float)(0.0 * random_sign(c));
        } else if (kind < BLOCK_TINY) {
            /* amax / (6 gs) < 2^-11, under half the smallest scale 2^-9: the scale rounds to 0 */
            for (int k = 0; k < FP4_BLOCK; k++) x[k] = (float)(x[k] * FP4_E2M1_MAX * unit * ldexp(1.0, -11));
        } else if (kind < BLOCK_CODE_TIES) {
            const uint8_t sc = (uint8_t)random_int(c, 0x01, 0x7E);
            const double S = fp4_e4m3_value(sc) * unit;
            for (int k = 0; k < FP4_BLOCK; k++) x[k] = (float)(random_sign(c) * random_int(c, 0, 24) / 4.0 * S);
            x[at] = (float)(random_sign(c) * 6.0 * S);
        } else if (kind < BLOCK_SCALE_TIES) {
            const uint8_t sc = (uint8_t)random_int(c, 0x00, 0x7D);
            const double mid = 0.5 * ((double)fp4_e4m3_value(sc) + fp4_e4m3_value((uint8_t)(sc + 1)));
            const double amax = FP4_E2M1_MAX * mid * unit;
            for (int k = 0; k < FP4_BLOCK; k++) x[k] = (float)(x[k] * amax);
            x[at] = (float)(random_sign(c) * amax);
        } else {
            const double size = top * pow(2.0, -gr_random_uniform(c, 0, 20));
            for (int k = 0; k < FP4_BLOCK; k++) x[k] = (float)(x[k] * size);
        }
    }
    if (gr_random_uniform(c, 0, 1) < 0.75)
        X[random_int(c, 0, (int)(n_blocks * FP4_BLOCK - 1))] = (float)(random_sign(c) * top);
    c->param[0] = fp4_global_scale(X, (size_t)(n_blocks * FP4_BLOCK));
}

void fp4_quantize_reference(gr_case *c, long r0, long r1) {
    const long blocks_per_row = QK(&c->shape) / FP4_BLOCK;
    const float *X = (const float *)gr_in(c, "X");
    uint8_t *q = gr_ref(c, "q"), *scales = gr_ref(c, "scales");
    for (long blk = r0 * blocks_per_row; blk < r1 * blocks_per_row; blk++)
        scales[blk] = fp4_quantize_block(X + blk * FP4_BLOCK, (float)c->param[0], q + blk * (FP4_BLOCK / 2));
}

/* X read once, the codes and scales written once. */
double fp4_quantize_bytes(const gr_shape *s) {
    const double n = (double)ROWS(s) * QK(s);
    return 4 * n + n / 2 + n / FP4_BLOCK;
}

/* ==== 01: the dequantiser =========================================================================== */

void fp4_dequantize_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    declare_blocks(c);
    const long n = ROWS(s) * QK(s);
    gr_input(c, "q", GR_U8, (size_t)(n / 2), GR_FILL_BYTES);
    gr_input(c, "scales", GR_U8, (size_t)(n / FP4_BLOCK), GR_FILL_BYTES);
    gr_output(c, "Y", GR_F32, (size_t)n, QK(s));
}

/* Every code byte is two valid codes, so the uniform bytes stay. A scale is any non-negative e4m3
 * value, 0 and the subnormals included (the quantiser makes no negative scale): the sign bit is
 * cleared, and the NaN left, 0x7F, becomes 448 (0x7E). The global scale is 2^e (1 + u), e in -20 .. 4:
 * every value stays a normal float. */
void fp4_dequantize_adjust(gr_case *c) {
    const gr_buffer *b = gr_find(c, "scales");
    uint8_t *sc = (uint8_t *)gr_in(c, "scales");
    for (size_t i = 0; i < b->count; i++) {
        sc[i] &= 0x7F;
        if (sc[i] == 0x7F) sc[i] = 0x7E;
    }
    c->param[0] = (float)ldexp(1.0 + gr_random_uniform(c, 0, 1), random_int(c, -20, 4));
}

void fp4_dequantize_reference(gr_case *c, long r0, long r1) {
    const long blocks_per_row = QK(&c->shape) / FP4_BLOCK;
    const uint8_t *q = (const uint8_t *)gr_in(c, "q"), *scales = (const uint8_t *)gr_in(c, "scales");
    float *Y = gr_ref(c, "Y");
    for (long blk = r0 * blocks_per_row; blk < r1 * blocks_per_row; blk++)
        fp4_dequantize_block(q + blk * (FP4_BLOCK / 2), scales[blk], (float)c->param[0], Y + blk * FP4_BLOCK);
}

/* The codes and scales read once, Y written once. */
double fp4_dequantize_bytes(const gr_shape *s) {
    const double n = (double)ROWS(s) * QK(s);
    return n / 2 + n / FP4_BLOCK + 4 * n;
}

/* Both directions are exact: the same float operations as the reference give the same bits. */
double fp4_exact_tolerance(const gr_shape *s) {
    (void)s;
    return 0;
}

/* ==== 02-06: the batched GEMV ======================================================================== */

void fp4_gemv_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    if (s->rank != 3 || GM(s) < 1 || GL(s) < 1 || GK(s) < 64 || GK(s) % 64 != 0)
        refuse_shape("is not (M >= 1, K a positive multiple of 64, L >= 1)", s);
    const long M = GM(s), K = GK(s), L = GL(s);
    gr_input(c, "a", GR_U8, (size_t)(L * M * K / 2), GR_FILL_BYTES);
    gr_input(c, "sfa", GR_U8, (size_t)(L * M * K / FP4_BLOCK), GR_FILL_BYTES);
    gr_input(c, "b", GR_U8, (size_t)(L * K / 2), GR_FILL_BYTES);
    gr_input(c, "sfb", GR_U8, (size_t)(L * K / FP4_BLOCK), GR_FILL_BYTES);
    gr_output(c, "c", GR_F16, (size_t)(L * M), M);
    c->rows = L;
}

/* The codes stay uniform bytes: all 16 codes, -0 included, in both nibbles. A scale becomes a
 * positive e4m3 value with its exponent field in 3 .. 7, 2^-4 to 1.875: five binades, so a scale
 * decoded with a wrong exponent or taken from a neighbouring block is off by 2x or more. With them
 * an output's typical size is about 5 sqrt(K) (a few tens to a few hundred, far inside FP16's
 * range and its normal numbers), and the exact sum stays within double's 53 bits (nvfp4.h). */
static void make_gemv_scales(gr_case *c, const char *name) {
    const gr_buffer *b = gr_find(c, name);
    uint8_t *sc = (uint8_t *)gr_in(c, name);
    const int span = FP4_GEMV_SCALE_E_MAX - FP4_GEMV_SCALE_E_MIN + 1;
    for (size_t i = 0; i < b->count; i++) {
        const int e = FP4_GEMV_SCALE_E_MIN + sc[i] % span, m = (sc[i] >> 4) & 7;
        sc[i] = (uint8_t)(e << 3 | m);
    }
}

void fp4_gemv_adjust(gr_case *c) {
    make_gemv_scales(c, "sfa");
    make_gemv_scales(c, "sfb");
}

/* One reference row is one batch l: its M outputs, each the exact sum kept in float32 (not rounded to
 * FP16: the tolerance allows for that rounding). */
void fp4_gemv_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    const long M = GM(s), K = GK(s);
    const uint8_t *a = (const uint8_t *)gr_in(c, "a"), *sfa = (const uint8_t *)gr_in(c, "sfa");
    const uint8_t *b = (const uint8_t *)gr_in(c, "b"), *sfb = (const uint8_t *)gr_in(c, "sfb");
    float *out = gr_ref(c, "c");
    for (long l = r0; l < r1; l++)
        for (long m = 0; m < M; m++) {
            const long row = l * M + m;
            out[row] = (float)fp4_gemv_dot(a + row * (K / 2), sfa + row * (K / FP4_BLOCK), b + l * (K / 2),
                                           sfb + l * (K / FP4_BLOCK), K, NULL);
        }
}

/* A right kernel's error: the FP16 rounding of each output, at most 2^-11 of it (half an FP16 ulp),
 * plus its sums' rounding. FP32 sums of K terms are off by about sqrt(K) 2^-24 of the output, far
 * less; a kernel that sums each 16-value block in FP16 (packed half2 FMAs) rounds each block sum
 * once more, up to 2^-12 of the output in norm. So 1.5 * 2^-11, 7.3e-4 of ||c||: tighter than the
 * competition's 1e-3 relative (and 1e-3 absolute) per element, in norm. */
double fp4_gemv_tolerance(const gr_shape *s) {
    (void)s;
    return 1.5 * ldexp(1.0, -11);
}

/* A multiply and an add per element of a. */
double fp4_gemv_flops(const gr_shape *s) { return 2.0 * GL(s) * GM(s) * GK(s); }

/* Every byte of a, sfa, b and sfb read once, c written once (2 bytes an output). */
double fp4_gemv_bytes(const gr_shape *s) {
    const double L = (double)GL(s), M = (double)GM(s), K = (double)GK(s);
    return L * M * K / 2 + L * M * K / FP4_BLOCK + L * K / 2 + L * K / FP4_BLOCK + 2 * L * M;
}

/* gpu-mode's nvfp4_gemv benchmark shapes and their speed of light on a B200, in microseconds. */
static const struct { long M, K, L; double us; } COMPETITION[] = {
    {7168, 16384, 1, 8.622}, {4096, 7168, 8, 17.275}, {7168, 2048, 4, 4.317}};

void fp4_gemv_note(const gr_shape *s, char *buf, size_t len) {
    const double mb = fp4_gemv_bytes(s) / 1e6;
    for (size_t i = 0; i < sizeof COMPETITION / sizeof COMPETITION[0]; i++)
        if (COMPETITION[i].M == GM(s) && COMPETITION[i].K == GK(s) && COMPETITION[i].L == GL(s)) {
            snprintf(buf, len, "%.1f MB moved; the competition's speed of light on a B200 at this shape: %.3f us",
                     mb, COMPETITION[i].us);
            return;
        }
    snprintf(buf, len, "%.1f MB moved", mb);
}
