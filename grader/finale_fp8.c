/* Session 14's FP8 grouped GEMM (03) as the grader sees it: buffers, inputs, the float64 reference,
 * the tolerance, FLOP and byte counts, for both layouts of finale/14-deepseek/exercises.h:
 *
 *   D[m][n] = sum over K blocks kb of sa[m][kb] * sb[g][n / 128][kb] * (sum over k in kb of A[m][k] B[g][n][k])
 *
 * with g the group of row m. The e4m3 decoder and the folding of codes into a block's window are
 * session 12's (serving_quant.c). */
#include "finale_fp8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving.h"

#define F_G(s) ((s)->d[0])
#define F_M(s) ((s)->d[1])   /* contiguous: M; masked: M_max */
#define F_N(s) ((s)->d[2])
#define F_K(s) ((s)->d[3])
#define BLK FM_FP8_BLOCK
#define BLOCKS(x) (((x) + BLK - 1) / BLK)

static void *checked_malloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) { fprintf(stderr, "finale_fp8: out of host memory (%zu bytes)\n", bytes); exit(70); }
    return p;
}
static long draw_below(gr_case *c, long n) {
    long k = (long)gr_random_uniform(c, 0.0, (double)n);
    return k < n ? k : n - 1;
}
static float bf16_value(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* ---- the reference's maths ----------------------------------------------------------------------- */

/* The 256 codes' values (sv_e4m3_value), made once: a lookup is far faster than a decode. */
static double e4m3[256];
static int e4m3_ready;
static void e4m3_table(void) {
    if (e4m3_ready) return;
    for (int b = 0; b < 256; b++) e4m3[b] = sv_e4m3_value((uint8_t)b);
    e4m3_ready = 1;
}

/* A product of two e4m3 values has at most 8 significant bits between 2^-18 and 2^17, so a block's
 * 128 of them sum exactly in float64: the block sum is the exact one the FP32 tensor cores round. */
double fm_fp8_dot(const uint8_t *a, const uint8_t *b, const float *sa_row, const float *sb_col, long K) {
    e4m3_table();
    double d = 0;
    for (long k0 = 0, kb = 0; k0 < K; k0 += BLK, kb++) {
        const long k1 = k0 + BLK < K ? k0 + BLK : K;
        double block = 0;
        for (long k = k0; k < k1; k++) block += e4m3[a[k]] * e4m3[b[k]];
        d += (double)sa_row[kb] * (double)sb_col[kb] * block;
    }
    return d;
}

/* ---- buffers ------------------------------------------------------------------------------------- */

static void check_shape(const gr_shape *s, const char *layout) {
    if (F_G(s) < 1 || F_M(s) < 1 || F_N(s) < 1 || F_K(s) < 16 || F_K(s) % 16 != 0) {
        fprintf(stderr, "grader: FP8 grouped GEMM (%s) shape G %ld, M %ld, N %ld, K %ld: want G, M, N >= 1 and K a "
                "positive multiple of 16\n", layout, F_G(s), F_M(s), F_N(s), F_K(s));
        exit(70);
    }
}

static void declare_operands(gr_case *c, long rows) {
    const gr_shape *s = &c->shape;
    const long G = F_G(s), N = F_N(s), K = F_K(s);
    gr_input(c, "A", GR_U8, (size_t)(rows * K), GR_FILL_BYTES);
    gr_input(c, "sa", GR_F32, (size_t)(rows * BLOCKS(K)), GR_FILL_UNIT);
    gr_input(c, "B", GR_U8, (size_t)(G * N * K), GR_FILL_BYTES);
    gr_input(c, "sb", GR_F32, (size_t)(G * BLOCKS(N) * BLOCKS(K)), GR_FILL_UNIT);
    c->rows = rows;
}

void fm_fp8_contiguous_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    check_shape(s, "contiguous");
    declare_operands(c, F_M(s));
    gr_input(c, "group_offset", GR_I32, (size_t)(F_G(s) + 1), GR_FILL_SIGNED);
    gr_output(c, "D", GR_BF16, (size_t)(F_M(s) * F_N(s)), F_N(s));
}

/* D is read and written: the rows past a group's count must keep the values they had. */
void fm_fp8_masked_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    check_shape(s, "masked");
    const long rows = F_G(s) * F_M(s);
    declare_operands(c, rows);
    gr_input(c, "masked_m", GR_I32, (size_t)F_G(s), GR_FILL_SIGNED);
    gr_inout(c, "D", GR_BF16, (size_t)(rows * F_N(s)), F_N(s), GR_FILL_SIGNED);
}

/* ---- inputs -------------------------------------------------------------------------------------- */

/* A block's window: one block in four holds subnormals (e_lo 0), the others e_lo 1 .. 12, up to 448.
 * Its scale, (0.5 + u) / 4 * 2^(4 - e_lo) with u the uniform fill in [0, 1), brings the window's
 * largest magnitude, 1.875 * 2^(e_lo - 4), below 0.71 (session 12's 07), and neighbouring blocks'
 * scales differ by up to 3x besides the powers of two: a scale taken from the wrong block, or a
 * block's sum scaled once too often or never, is off by far more than the tolerance. */
static int draw_window(gr_case *c) {
    return gr_random_uniform(c, 0, 1) < 0.25 ? 0 : 1 + (int)draw_below(c, 12);
}
static float window_scale(float u, int e_lo) { return ldexpf((0.5f + u) * 0.25f, 4 - e_lo); }

/* Every block of A (a row's 128 values) and of B (a 128 x 128 tile, all its rows one window). D's
 * elements are then sums of K products below 0.5 each, of random signs: about sqrt(K) / 10, well
 * inside BF16's range and far from its subnormals. */
static void fold_operands(gr_case *c, long rows) {
    const gr_shape *s = &c->shape;
    const long G = F_G(s), N = F_N(s), K = F_K(s), KB = BLOCKS(K), NB = BLOCKS(N);
    uint8_t *A = (uint8_t *)gr_in(c, "A"), *B = (uint8_t *)gr_in(c, "B");
    float *sa = (float *)gr_in(c, "sa"), *sb = (float *)gr_in(c, "sb");
    for (long r = 0; r < rows; r++)
        for (long kb = 0; kb < KB; kb++) {
            const long k0 = kb * BLK, len = k0 + BLK < K ? BLK : K - k0;
            const int e_lo = draw_window(c);
            sv_e4m3_fold(A + r * K + k0, len, e_lo);
            sa[r * KB + kb] = window_scale(sa[r * KB + kb], e_lo);
        }
    for (long g = 0; g < G; g++)
        for (long nb = 0; nb < NB; nb++)
            for (long kb = 0; kb < KB; kb++) {
                const long k0 = kb * BLK, len = k0 + BLK < K ? BLK : K - k0;
                const long n1 = (nb + 1) * BLK < N ? (nb + 1) * BLK : N;
                const int e_lo = draw_window(c);
                for (long n = nb * BLK; n < n1; n++) sv_e4m3_fold(B + (g * N + n) * K + k0, len, e_lo);
                float *scale = sb + (g * NB + nb) * KB + kb;
                *scale = window_scale(*scale, e_lo);
            }
}

/* Group sizes: with G >= 2 one group (drawn) is empty, with G >= 3 another holds a single row; the
 * rest share the remaining rows at uniformly drawn cut points, so sizes are uneven and may be 0. */
void fm_fp8_contiguous_adjust(gr_case *c) {
    const gr_shape *s = &c->shape;
    const long G = F_G(s), M = F_M(s);
    fold_operands(c, M);
    int *offset = (int *)gr_in(c, "group_offset");
    long *size = checked_malloc(sizeof(long) * (size_t)G), *cut = checked_malloc(sizeof(long) * (size_t)G);
    const long empty = G >= 2 ? draw_below(c, G) : -1;
    long single = -1;
    if (G >= 3) {
        single = draw_below(c, G - 1);
        if (single >= empty) single++;
    }
    long free_groups = 0, rest = M - (single >= 0 ? 1 : 0);
    for (long g = 0; g < G; g++) free_groups += g != empty && g != single;
    /* free_groups - 1 cut points in 0 .. rest, sorted (insertion: G is small). */
    for (long i = 0; i + 1 < free_groups; i++) {
        long v = draw_below(c, rest + 1), j = i;
        for (; j > 0 && cut[j - 1] > v; j--) cut[j] = cut[j - 1];
        cut[j] = v;
    }
    for (long g = 0, f = 0; g < G; g++) {
        if (g == empty) size[g] = 0;
        else if (g == single) size[g] = 1;
        else {
            const long lo = f == 0 ? 0 : cut[f - 1], hi = f + 1 == free_groups ? rest : cut[f];
            size[g] = hi - lo;
            f++;
        }
    }
    offset[0] = 0;
    for (long g = 0; g < G; g++) offset[g + 1] = offset[g] + (int)size[g];
    free(cut);
    free(size);
}

long fm_fp8_masked_rows(const gr_shape *s, long j) {
    const long M_max = F_M(s);
    if (j == 0) return M_max;
    if (j == 1) return 0;
    if (j == 2) return 1;
    return ((j - 3) * 37 + 11) % (M_max + 1);
}

void fm_fp8_masked_adjust(gr_case *c) {
    const gr_shape *s = &c->shape;
    const long G = F_G(s);
    fold_operands(c, G * F_M(s));
    int *masked_m = (int *)gr_in(c, "masked_m");
    for (long j = 0; j < G; j++) masked_m[j] = (int)fm_fp8_masked_rows(s, j);
    for (long j = G - 1; j > 0; j--) {   /* dealt to the groups at random */
        const long k = draw_below(c, j + 1);
        const int t = masked_m[j];
        masked_m[j] = masked_m[k];
        masked_m[k] = t;
    }
}

/* ---- references ---------------------------------------------------------------------------------- */

/* fm_fp8_dot over decoded values: a and w the K values of a row of A and of a row of B as doubles.
 * A block's sum is exact in whatever order its products come (see fm_fp8_dot), so eight partial
 * sums keep the adds in flight; the blocks' scaled sums are added in order, as fm_fp8_dot adds them:
 * the same bits. */
static double decoded_dot(const double *a, const double *w, const float *sa_row, const float *sb_col, long K) {
    double d = 0;
    for (long k0 = 0, kb = 0; k0 < K; k0 += BLK, kb++) {
        const long k1 = k0 + BLK < K ? k0 + BLK : K;
        double p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        long k = k0;
        for (; k + 8 <= k1; k += 8)
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++) p[i] += a[k + i] * w[k + i];   /* unrolled: the sums in registers */
        for (; k < k1; k++) p[0] += a[k] * w[k];
        const double block = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
        d += (double)sa_row[kb] * (double)sb_col[kb] * block;
    }
    return d;
}

#define GROUP_ROWS 64   /* rows of one group decoded together: each row of B is decoded once for them */

/* Rows rows[0 .. n) of D (n <= GROUP_ROWS), all of group g: A's rows decoded once, then each row of
 * B[g] decoded once and dotted with all of them. */
static void group_rows(gr_case *c, long g, const long *rows, long n) {
    const gr_shape *s = &c->shape;
    const long N = F_N(s), K = F_K(s), KB = BLOCKS(K), NB = BLOCKS(N);
    const uint8_t *A = gr_in(c, "A"), *B = gr_in(c, "B");
    const float *sa = gr_in(c, "sa"), *sb = gr_in(c, "sb");
    float *D = gr_ref(c, "D");
    e4m3_table();
    double *a = checked_malloc(sizeof(double) * (size_t)(n * K)), *w = checked_malloc(sizeof(double) * (size_t)K);
    for (long t = 0; t < n; t++)
        for (long k = 0; k < K; k++) a[t * K + k] = e4m3[A[rows[t] * K + k]];
    for (long col = 0; col < N; col++) {
        const uint8_t *b = B + (g * N + col) * K;
        for (long k = 0; k < K; k++) w[k] = e4m3[b[k]];
        const float *sb_col = sb + (g * NB + col / BLK) * KB;
        for (long t = 0; t < n; t++)
            D[rows[t] * N + col] = (float)decoded_dot(a + t * K, w, sa + rows[t] * KB, sb_col, K);
    }
    free(w);
    free(a);
}

/* The rows of the list that group[] puts in each group, GROUP_ROWS at a time (group -1: none). */
static void rows_by_group(gr_case *c, const long *rows, const long *group, long n) {
    long *mine = checked_malloc(sizeof(long) * GROUP_ROWS);
    for (long g = 0; g < F_G(&c->shape); g++) {
        long m = 0;
        for (long i = 0; i < n; i++) {
            if (group[i] != g) continue;
            mine[m++] = rows[i];
            if (m == GROUP_ROWS) { group_rows(c, g, mine, m); m = 0; }
        }
        if (m) group_rows(c, g, mine, m);
    }
    free(mine);
}

void fm_fp8_contiguous_reference_rows(gr_case *c, const long *rows, long n) {
    const long G = F_G(&c->shape);
    const int *offset = gr_in(c, "group_offset");
    long *group = checked_malloc(sizeof(long) * (size_t)n);
    for (long i = 0; i < n; i++) {   /* the last group whose rows begin at or before the row */
        long g = 0;
        while (g + 1 < G && offset[g + 1] <= rows[i]) g++;
        group[i] = g;
    }
    rows_by_group(c, rows, group, n);
    free(group);
}

/* Rows past their group's count keep the values D had. */
void fm_fp8_masked_reference_rows(gr_case *c, const long *rows, long n) {
    const gr_shape *s = &c->shape;
    const long M_max = F_M(s), N = F_N(s);
    const int *masked_m = gr_in(c, "masked_m");
    const uint16_t *D_before = gr_in(c, "D");
    float *D = gr_ref(c, "D");
    long *group = checked_malloc(sizeof(long) * (size_t)n);
    for (long i = 0; i < n; i++) {
        const long r = rows[i], g = r / M_max;
        group[i] = r % M_max < masked_m[g] ? g : -1;
        if (group[i] < 0)
            for (long col = 0; col < N; col++) D[r * N + col] = bf16_value(D_before[r * N + col]);
    }
    rows_by_group(c, rows, group, n);
    free(group);
}

/* The rows [r0, r1) as a list, for the forms above. */
static void reference_range(gr_case *c, long r0, long r1, void (*by_rows)(gr_case *, const long *, long)) {
    const long n = r1 > r0 ? r1 - r0 : 0;
    long *rows = checked_malloc(sizeof(long) * (size_t)n);
    for (long i = 0; i < n; i++) rows[i] = r0 + i;
    by_rows(c, rows, n);
    free(rows);
}

void fm_fp8_contiguous_reference(gr_case *c, long r0, long r1) {
    reference_range(c, r0, r1, fm_fp8_contiguous_reference_rows);
}

void fm_fp8_masked_reference(gr_case *c, long r0, long r1) { reference_range(c, r0, r1, fm_fp8_masked_reference_rows); }

/* Against |D| + rms(D) (compare.h), an element may be off by:
 *  - its BF16 rounding: half an ulp, up to 2^-8 of itself just above a power of two (the H200 found
 *    this: a one-element D off by 3.1e-3 was its exact rounding);
 *  - the FP32 block sums: products of e4m3 values are exact and 128 of them (the promotion's
 *    point) err by at most 128 eps of their magnitudes, about sqrt(128) times the sum: 2^-16;
 *  - the FP8 tensor cores of Hopper and Ada, which align a k32 step's products to the accumulator
 *    with about 14 bits kept (DeepSeek-V3's report, why DeepGEMM promotes each block to FP32):
 *    four steps a block, a few 2^-14 of the block's partial sums, summed over the blocks;
 *  - the promotion sa * sb * block added in FP32: K / 128 additions, a few eps.
 * 2^-10 covers the three sums (the H200 measured 2.1e-3 in norm at the bench shapes, rounding
 * included). A scale from a neighbouring block or tile, or a block sum scaled twice, moves D by tens
 * of percent of that block's share: far above this in norm. */
double fm_fp8_tolerance(const gr_shape *s) {
    (void)s;
    return 0x1p-8 + 0x1p-10;
}

/* ---- counts -------------------------------------------------------------------------------------- */

static double masked_sum(const gr_shape *s, long *groups_used) {
    double rows = 0;
    long used = 0;
    for (long j = 0; j < F_G(s); j++) {
        const long m = fm_fp8_masked_rows(s, j);
        rows += (double)m;
        used += m > 0;
    }
    if (groups_used) *groups_used = used;
    return rows;
}

/* A multiply and an add per product: 2 M N K, every row of D one dot product of length K. */
double fm_fp8_contiguous_flops(const gr_shape *s) { return 2.0 * F_M(s) * F_N(s) * F_K(s); }
double fm_fp8_masked_flops(const gr_shape *s) { return 2.0 * masked_sum(s, NULL) * F_N(s) * F_K(s); }

/* The least a kernel moves: each used row of A (1 byte a value) and its scales (4 bytes per 128)
 * once; each used group's weights and their tile scales once; each used row of D (2 bytes a value)
 * written once; the group table. The empty group's weights (G >= 2) need not be read. */
static double bytes_of(const gr_shape *s, double rows, double groups_used, double table) {
    const double N = F_N(s), K = F_K(s), KB = BLOCKS(F_K(s)), NB = BLOCKS(F_N(s));
    return rows * (K + 4 * KB + 2 * N) + groups_used * (N * K + 4 * NB * KB) + 4 * table;
}
double fm_fp8_contiguous_bytes(const gr_shape *s) {
    return bytes_of(s, (double)F_M(s), (double)(F_G(s) - (F_G(s) >= 2)), (double)F_G(s) + 1);
}
double fm_fp8_masked_bytes(const gr_shape *s) {
    long used;
    const double rows = masked_sum(s, &used);
    return bytes_of(s, rows, (double)used, (double)F_G(s));
}

/* The FLOP per byte against the FP8 ridge: an H200's dense FP8 rate over its HBM bandwidth,
 * 1979 TFLOP/s / 4.8 TB/s, is about 412 FLOP a byte (the BF16 ridge half that). */
static void note(const gr_shape *s, double flops, double bytes, double rows, char *buf, size_t len) {
    const double intensity = flops / bytes;
    snprintf(buf, len,
             "%.0f rows over %ld experts of %ld x %ld FP8 weights (%.0f MB); %.2f TFLOP in %.0f MB: %.0f FLOP/B, %s "
             "(the FP8 ridge of an H200 is about 412 FLOP/B; GPUs before sm_89 have no FP8 roof)",
             rows, F_G(s), F_N(s), F_K(s), (double)F_G(s) * F_N(s) * F_K(s) / 1e6, flops / 1e12, bytes / 1e6,
             intensity, intensity < 412 ? "memory-bound: the weights' bytes are the target" : "compute-bound: the FP8 tensor roof holds");
}
void fm_fp8_contiguous_note(const gr_shape *s, char *buf, size_t len) {
    note(s, fm_fp8_contiguous_flops(s), fm_fp8_contiguous_bytes(s), (double)F_M(s), buf, len);
}
void fm_fp8_masked_note(const gr_shape *s, char *buf, size_t len) {
    note(s, fm_fp8_masked_flops(s), fm_fp8_masked_bytes(s), masked_sum(s, NULL), buf, len);
}
