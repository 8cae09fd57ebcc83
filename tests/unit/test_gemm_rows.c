/* The matrix-product references (grader/ref/matmul.c) against plain per-element loops kept here, bit
 * for bit: C = alpha A B + beta C0 with the magnitudes behind each element, and C = A B^T, for row
 * ranges and for lists of rows (the grader's sampled rows), at sizes no strip, panel or row block
 * divides, with inputs that reach float's extremes, signed zeros and cancellations. Both of
 * matmul.c's builds are checked: the one the library chose for this processor (AVX2 on most x86-64
 * machines) and the baseline one (SSE2, and what other processors run), compiled again below. Then
 * the GEMM exercises' many-rows references against their row-range forms on host cases, and
 * Freivalds' check (grader/freivalds.c) against plain loops of its own. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "gemm.h"
#include "internal.h"
#include "ref/references.h"
#include "rng.h"

/* ---- matmul.c's baseline build, whatever this processor is ------------------------------------ */

#define ref_matmul baseline_matmul
#define ref_gemm baseline_gemm
#define ref_gemm_scaled baseline_gemm_scaled
#define ref_gemm_nt baseline_gemm_nt
#define ref_gemm_scaled_rows baseline_gemm_scaled_rows
#define ref_gemm_nt_rows baseline_gemm_nt_rows
void baseline_matmul(const float *A, const float *B, float *C, long M, long N, long K, long row_begin, long row_end);
void baseline_gemm(const float *A, const float *B, const float *C0, float alpha, float beta, float *C, long M, long N,
                   long K, long row_begin, long row_end);
void baseline_gemm_scaled(const float *A, const float *B, const float *C0, float alpha, float beta, float *C,
                          float *scale, long M, long N, long K, long row_begin, long row_end);
void baseline_gemm_nt(const float *A, const float *B, float *C, long M, long N, long K, long row_begin, long row_end);
void baseline_gemm_scaled_rows(const float *A, const float *B, const float *C0, float alpha, float beta, float *C,
                               float *scale, long N, long K, const long *rows, long n_rows);
void baseline_gemm_nt_rows(const float *A, const float *B, float *C, long N, long K, const long *rows, long n_rows);
#define REF_MATMUL_BASELINE_ONLY
#include "ref/matmul.c"
#undef ref_matmul
#undef ref_gemm
#undef ref_gemm_scaled
#undef ref_gemm_nt
#undef ref_gemm_scaled_rows
#undef ref_gemm_nt_rows

/* ---- the plain loops ---------------------------------------------------------------------------- */

/* Row i of C (and of scale, when given) one element at a time: the K terms added in k order in
 * float64, then alpha times the sum plus beta times C0 (where C0 is given and beta is not 0). */
static void plain_row(const float *A, const float *B, bool b_transposed, const float *C0, float alpha, float beta,
                      float *C, float *scale, long N, long K, long i) {
    for (long j = 0; j < N; j++) {
        double sum = 0, mag = 0;
        for (long k = 0; k < K; k++) {
            const double term = (double)A[i * K + k] * (b_transposed ? B[j * K + k] : B[k * N + j]);
            sum += term;
            mag += fabs(term);
        }
        const bool with_c0 = C0 && beta != 0.0f;
        double v = (double)alpha * sum, m = fabs((double)alpha) * mag;
        if (with_c0) {
            v += (double)beta * C0[i * N + j];
            m += fabs((double)beta * C0[i * N + j]);
        }
        C[i * N + j] = (float)v;
        if (scale) scale[i * N + j] = (float)m;
    }
}

/* ---- inputs ------------------------------------------------------------------------------------- */

/* Values of full 24-bit significands scaled by 2^e, e in [-24, 24], so that the float64 sums round
 * (values of one size would sum exactly in any order, and hide a change of order); one in eight with
 * e in [-140, 100] instead (float subnormals, and products beyond float's range), one in sixteen +0
 * or -0, one in sixteen the previous value with its sign turned (sums that cancel). */
static void fill(float *x, long n, uint64_t *rng) {
    for (long i = 0; i < n; i++) {
        const uint64_t pick = gr_rng_next(rng) % 16;
        const float significand = (float)((gr_rng_next(rng) >> 40) | (1u << 23)) * 0x1p-23f;   /* [1, 2) */
        const int e = pick < 2 ? (int)(gr_rng_next(rng) % 241) - 140 : (int)(gr_rng_next(rng) % 49) - 24;
        float v = ldexpf((gr_rng_next(rng) & 1) ? -significand : significand, e);
        if (pick == 2) v = (gr_rng_next(rng) & 1) ? 0.0f : -0.0f;
        else if (pick == 3 && i > 0) v = -x[i - 1];
        x[i] = v;
    }
}

typedef struct {
    long M, N, K;
} dims;

/* Sizes around every edge of matmul.c's blocking: STRIP 8, PANEL_COLS 128, PANEL_K 256, row blocks
 * of 1 to 4 and ROW_CHUNK 256 rows; K = 0 (no terms: C is beta C0). */
static const dims SIZES[] = {
    {1, 1, 1},    {2, 1, 7},     {1, 8, 1},     {3, 7, 5},     {5, 9, 3},    {17, 17, 17},  {33, 127, 1},
    {4, 129, 257}, {7, 136, 300}, {2, 257, 513}, {3, 1000, 33}, {6, 8, 0},    {300, 9, 20},  {9, 24, 256},
};
#define N_SIZES ((int)(sizeof SIZES / sizeof SIZES[0]))

typedef struct {
    dims d;
    float *A, *B, *Bt, *C0;
} operands;

static operands make_operands(dims d, uint64_t seed) {
    operands o = {.d = d};
    uint64_t rng = seed;
    o.A = malloc(sizeof(float) * (size_t)(d.M * d.K + 1));
    o.B = malloc(sizeof(float) * (size_t)(d.K * d.N + 1));
    o.Bt = malloc(sizeof(float) * (size_t)(d.N * d.K + 1));
    o.C0 = malloc(sizeof(float) * (size_t)(d.M * d.N + 1));
    cr_assert(o.A && o.B && o.Bt && o.C0);
    fill(o.A, d.M * d.K, &rng);
    fill(o.B, d.K * d.N, &rng);
    fill(o.Bt, d.N * d.K, &rng);
    fill(o.C0, d.M * d.N, &rng);
    /* In most rows the first and last terms cancel exactly: A[i][K-1] = -A[i][0] with A[i][0] made
     * 2^30 times larger, B[K-1][j] = B[0][j]. The terms between them are then added to a sum some
     * 2^30 times their size, which keeps only their high bits, and which of their bits survive
     * depends on the order they come in: a result off in its last float64 bit would round to the
     * same float, but this one would not. */
    for (long i = 0; i < d.M && d.K >= 2; i++)
        if (i % 4 != 3) {
            o.A[i * d.K] = ldexpf(o.A[i * d.K], 30);
            o.A[i * d.K + d.K - 1] = -o.A[i * d.K];
        }
    for (long j = 0; j < d.N && d.K >= 2; j++) {
        o.B[(d.K - 1) * d.N + j] = o.B[j];
        o.Bt[j * d.K + d.K - 1] = o.Bt[j * d.K];
    }
    return o;
}

static void free_operands(operands *o) {
    free(o->A);
    free(o->B);
    free(o->Bt);
    free(o->C0);
}

/* Bit for bit, or the first element that differs. */
static void assert_same_bits(const float *got, const float *want, long n, const char *what, dims d) {
    for (long i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
            cr_assert_fail("%s, M %ld N %ld K %ld: element %ld (row %ld, column %ld) is %a, the plain loops give %a",
                           what, d.M, d.N, d.K, i, d.N ? i / d.N : 0, d.N ? i % d.N : 0, got[i], want[i]);
}

/* Rows 0 .. M-1 shuffled: its first n are a sample of n rows in no particular order. */
static long *shuffled_rows(long M, uint64_t seed) {
    long *rows = malloc(sizeof(long) * (size_t)(M + 1));
    cr_assert(rows);
    for (long r = 0; r < M; r++) rows[r] = r;
    uint64_t rng = seed;
    for (long r = M - 1; r > 0; r--) {
        const long j = (long)(gr_rng_next(&rng) % (uint64_t)(r + 1)), t = rows[r];
        rows[r] = rows[j];
        rows[j] = t;
    }
    return rows;
}

typedef void (*scaled_rows_fn)(const float *, const float *, const float *, float, float, float *, float *, long,
                               long, const long *, long);
typedef void (*scaled_range_fn)(const float *, const float *, const float *, float, float, float *, float *, long,
                                long, long, long, long);
typedef void (*nt_rows_fn)(const float *, const float *, float *, long, long, const long *, long);
typedef void (*nt_range_fn)(const float *, const float *, float *, long, long, long, long, long);

typedef struct {
    const char *name;
    scaled_range_fn scaled;
    scaled_rows_fn scaled_rows;
    nt_range_fn nt;
    nt_rows_fn nt_rows;
} build;

static const build BUILDS[] = {
    {"the library's build", ref_gemm_scaled, ref_gemm_scaled_rows, ref_gemm_nt, ref_gemm_nt_rows},
    {"the baseline build", baseline_gemm_scaled, baseline_gemm_scaled_rows, baseline_gemm_nt, baseline_gemm_nt_rows},
};

/* The values the references are tried with: sgemm's (C0 counts), matmul's (no C0), beta 0 with a C0
 * (which must then not count), and a negative alpha. */
static const struct {
    float alpha, beta;
    bool with_c0;
} SCALARS[] = {{1.25f, -0.375f, true}, {1.0f, 0.0f, false}, {0.75f, 0.0f, true}, {-2.0f, 0.5f, true}};

/* Every size, every scalar choice: all rows as a range, a row sub-range, a shuffled sample of rows,
 * one row; C and scale (and C with scale NULL) bit for bit the plain loops'. Elements the call was
 * not asked for keep what they held. */
static void check_scaled(const build *b) {
    for (int s = 0; s < N_SIZES; s++) {
        const dims d = SIZES[s];
        operands o = make_operands(d, 0x5CA1ED + (uint64_t)s);
        const long n = d.M * d.N + 1;
        float *want = malloc(sizeof(float) * n), *want_scale = malloc(sizeof(float) * n);
        float *got = malloc(sizeof(float) * n), *got_scale = malloc(sizeof(float) * n);
        cr_assert(want && want_scale && got && got_scale);
        for (int v = 0; v < 4; v++) {
            const float alpha = SCALARS[v].alpha, beta = SCALARS[v].beta;
            const float *C0 = SCALARS[v].with_c0 ? o.C0 : NULL;
            for (long i = 0; i < d.M; i++) plain_row(o.A, o.B, false, C0, alpha, beta, want, want_scale, d.N, d.K, i);

            b->scaled(o.A, o.B, C0, alpha, beta, got, got_scale, d.M, d.N, d.K, 0, d.M);
            assert_same_bits(got, want, d.M * d.N, "C, all rows", d);
            assert_same_bits(got_scale, want_scale, d.M * d.N, "scale, all rows", d);
            b->scaled(o.A, o.B, C0, alpha, beta, got, NULL, d.M, d.N, d.K, 0, d.M);
            assert_same_bits(got, want, d.M * d.N, "C without scale", d);

            /* A sub-range and a sample: the other rows keep a marker. */
            const long lo = d.M / 3, hi = d.M - d.M / 4, n_sample = (d.M + 1) / 2;
            for (long i = 0; i < d.M * d.N; i++) got[i] = got_scale[i] = -7.0f;
            b->scaled(o.A, o.B, C0, alpha, beta, got, got_scale, d.M, d.N, d.K, lo, hi);
            for (long i = 0; i < d.M; i++)
                for (long j = 0; j < d.N; j++) {
                    const long at = i * d.N + j;
                    if (i >= lo && i < hi) {
                        assert_same_bits(&got[at], &want[at], 1, "C, a sub-range", d);
                        assert_same_bits(&got_scale[at], &want_scale[at], 1, "scale, a sub-range", d);
                    } else {
                        cr_assert_eq(got[at], -7.0f, "row %ld is outside [%ld, %ld) but was written", i, lo, hi);
                    }
                }
            long *rows = shuffled_rows(d.M, 0x5A3B + (uint64_t)s);
            for (long i = 0; i < d.M * d.N; i++) got[i] = got_scale[i] = -7.0f;
            b->scaled_rows(o.A, o.B, C0, alpha, beta, got, got_scale, d.N, d.K, rows, n_sample);
            for (long r = 0; r < d.M; r++) {
                const long i = rows[r], at = i * d.N;
                if (r < n_sample) {
                    assert_same_bits(&got[at], &want[at], d.N, "C, sampled rows", d);
                    assert_same_bits(&got_scale[at], &want_scale[at], d.N, "scale, sampled rows", d);
                } else {
                    for (long j = 0; j < d.N; j++) cr_assert_eq(got[at + j], -7.0f, "row %ld was not asked for", i);
                }
            }
            b->scaled_rows(o.A, o.B, C0, alpha, beta, got, got_scale, d.N, d.K, rows, 0);   /* no rows: nothing */
            free(rows);
        }
        free(want);
        free(want_scale);
        free(got);
        free(got_scale);
        free_operands(&o);
    }
}

/* The same for C = A B^T (no scalars, no scale). */
static void check_nt(const build *b) {
    for (int s = 0; s < N_SIZES; s++) {
        const dims d = SIZES[s];
        operands o = make_operands(d, 0x4E7 + (uint64_t)s);
        const long n = d.M * d.N + 1;
        float *want = malloc(sizeof(float) * n), *got = malloc(sizeof(float) * n);
        cr_assert(want && got);
        for (long i = 0; i < d.M; i++) plain_row(o.A, o.Bt, true, NULL, 1.0f, 0.0f, want, NULL, d.N, d.K, i);
        b->nt(o.A, o.Bt, got, d.M, d.N, d.K, 0, d.M);
        assert_same_bits(got, want, d.M * d.N, "A B^T, all rows", d);
        const long n_sample = (d.M + 2) / 3;
        long *rows = shuffled_rows(d.M, 0x5A3C + (uint64_t)s);
        for (long i = 0; i < d.M * d.N; i++) got[i] = -7.0f;
        b->nt_rows(o.A, o.Bt, got, d.N, d.K, rows, n_sample);
        for (long r = 0; r < d.M; r++) {
            const long i = rows[r], at = i * d.N;
            if (r < n_sample) assert_same_bits(&got[at], &want[at], d.N, "A B^T, sampled rows", d);
            else for (long j = 0; j < d.N; j++) cr_assert_eq(got[at + j], -7.0f, "row %ld was not asked for", i);
        }
        free(rows);
        free(want);
        free(got);
        free_operands(&o);
    }
}

Test(gemm_rows, scaled_product_is_the_plain_loops_bit_for_bit) {
    for (int b = 0; b < 2; b++) check_scaled(&BUILDS[b]);
}

Test(gemm_rows, transposed_product_is_the_plain_loops_bit_for_bit) {
    for (int b = 0; b < 2; b++) check_nt(&BUILDS[b]);
}

/* The row-range forms that other references call (session 08's P V, one row at a time). */
Test(gemm_rows, matmul_and_gemm_are_the_scaled_product) {
    const dims d = {5, 19, 11};
    operands o = make_operands(d, 99);
    float want[5 * 19], got[5 * 19];
    for (long i = 0; i < d.M; i++) plain_row(o.A, o.B, false, NULL, 1.0f, 0.0f, want, NULL, d.N, d.K, i);
    ref_matmul(o.A, o.B, got, d.M, d.N, d.K, 0, d.M);
    assert_same_bits(got, want, d.M * d.N, "ref_matmul", d);
    for (long i = 0; i < d.M; i++) plain_row(o.A, o.B, false, o.C0, 2.0f, -1.5f, want, NULL, d.N, d.K, i);
    for (long i = 0; i < d.M; i++) ref_gemm(o.A + i * d.K, o.B, o.C0 + i * d.N, 2.0f, -1.5f, got + i * d.N, 1, d.N, d.K, 0, 1);
    assert_same_bits(got, want, d.M * d.N, "ref_gemm a row at a time", d);
    free_operands(&o);
}

/* ---- the GEMM exercises' references, row lists against row ranges ------------------------------- */

static const gr_exercise HOST_EX = {.name = "unit_gemm_rows", .on_host = true};

typedef struct {
    const char *name;
    void (*declare)(gr_case *c);
    void (*reference)(gr_case *c, long r0, long r1);
    gr_reference_rows_fn rows;
    gr_exercise named;  /* the fields an exercise gets from gemm.h's macro for this reference */
} gemm_exercise;

static const gemm_exercise GEMMS[] = {
    {"matmul", gr_matmul_declare, gr_matmul_reference, gr_matmul_reference_rows, {GR_MATMUL_REF}},
    {"sgemm", gr_sgemm_declare, gr_sgemm_reference, gr_sgemm_reference_rows, {GR_SGEMM_REF}},
    {"bf16 gemm", gr_bf16_gemm_declare, gr_matmul_reference, gr_matmul_reference_rows, {GR_MATMUL_REF}},
    {"bf16 gemm nt", gr_bf16_gemm_nt_declare, gr_bf16_gemm_nt_reference, gr_bf16_gemm_nt_reference_rows,
     {GR_BF16_GEMM_NT_REF}},
};

Test(gemm_rows, exercises_sampled_rows_are_their_full_reference) {
    const long M = 37, N = 131, K = 70;
    for (int e = 0; e < 4; e++) {
        const gemm_exercise *g = &GEMMS[e];
        cr_assert(g->named.reference == g->reference && g->named.reference_rows == g->rows,
                  "%s: gemm.h names the reference with its many-rows form", g->name);
        gr_case c;
        char err[256] = "";
        gr_case_init(&c, &HOST_EX, GR_SHAPE(M, N, K), 0x6E33 + (uint64_t)e);
        g->declare(&c);
        cr_assert(gr_case_alloc(&c, err, sizeof err), "alloc: %s", err);
        gr_case_fill_inputs(&c);
        const gr_buffer *C = gr_find(&c, "C");
        g->reference(&c, 0, c.rows);
        float *full = malloc(sizeof(float) * M * N), *full_scale = malloc(sizeof(float) * M * N);
        cr_assert(full && full_scale);
        memcpy(full, C->ref, sizeof(float) * M * N);
        if (C->scale) memcpy(full_scale, C->scale, sizeof(float) * M * N);
        const long rows[] = {36, 0, 17, 5, 18};
        memset(C->ref, 0, sizeof(float) * M * N);
        g->rows(&c, rows, 5);
        for (int r = 0; r < 5; r++) {
            const long at = rows[r] * N;
            cr_assert_eq(memcmp((float *)C->ref + at, full + at, sizeof(float) * N), 0, "%s: row %ld", g->name, rows[r]);
            if (C->scale)
                cr_assert_eq(memcmp(C->scale + at, full_scale + at, sizeof(float) * N), 0, "%s: scale of row %ld",
                             g->name, rows[r]);
        }
        free(full);
        free(full_scale);
        gr_case_free(&c);
    }
    cr_assert_null(HOST_EX.reference_rows, "an exercise that names no rows form has none (the grader goes row by row)");
}

/* ---- Freivalds' check (grader/freivalds.c), which the same large checks run after the sampled rows */

/* The check as plain loops, one vector at a time and one row at a time: its sums are the ones
 * freivalds.c forms side by side. */
static double plain_freivalds(const float *A, const float *B, bool b_transposed, const float *C0, float alpha,
                              float beta, const void *C, gr_dtype c_dtype, long M, long N, long K, uint64_t seed) {
    double *x = malloc(sizeof(double) * (size_t)(N + 1)), *bx = malloc(sizeof(double) * (size_t)(K + 1)), worst = 0;
    cr_assert(x && bx);
    for (int round = 0; round < 2; round++) {
        uint64_t s = gr_derive_seed(seed, 0xF7E1, (uint64_t)round);
        for (long j = 0; j < N; j++) x[j] = (gr_rng_next(&s) & 1) ? 1.0 : -1.0;
        for (long k = 0; k < K; k++) {
            bx[k] = 0;
            for (long j = 0; j < N; j++) bx[k] += (double)(b_transposed ? B[j * K + k] : B[k * N + j]) * x[j];
        }
        double diff_sq = 0, ref_sq = 0;
        for (long i = 0; i < M; i++) {
            double abx = 0, cx = 0;
            for (long k = 0; k < K; k++) abx += (double)A[i * K + k] * bx[k];
            abx *= alpha;
            if (C0 && beta != 0.0f)
                for (long j = 0; j < N; j++) abx += (double)beta * C0[i * N + j] * x[j];
            for (long j = 0; j < N; j++) cx += gr_value(c_dtype, C, (size_t)(i * N + j)) * x[j];
            diff_sq += (cx - abx) * (cx - abx);
            ref_sq += abx * abx;
        }
        const double rel = ref_sq > 0 ? sqrt(diff_sq / ref_sq) : sqrt(diff_sq);
        if (!(rel <= worst)) worst = rel;
    }
    free(x);
    free(bx);
    return worst;
}

/* The same bits as the plain loops for C = alpha A B + beta C0 (float32 C) and C = A B^T (float32 and
 * bfloat16 C), for a right C and a C with one wrong element, at sizes no block of rows divides. */
/* Values past 2^40 brought down, so that no product overflows and every figure is finite (which NaN
 * comes out of a sum with several is not a matter of bits worth checking). */
static void tame(float *x, long n) {
    for (long i = 0; i < n; i++)
        if (fabsf(x[i]) > 0x1p40f) x[i] = ldexpf(x[i], -64);
}

/* bfloat16 bits of a finite float, rounded to nearest even. */
static uint16_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

Test(gemm_rows, freivalds_is_the_plain_loops_bit_for_bit) {
    for (int s = 0; s < N_SIZES; s++) {
        const dims d = SIZES[s];
        operands o = make_operands(d, 0xF7E1 + (uint64_t)s);
        tame(o.A, d.M * d.K);
        tame(o.B, d.K * d.N);
        tame(o.Bt, d.N * d.K);
        tame(o.C0, d.M * d.N);
        const long n = d.M * d.N + 1;
        float *C = malloc(sizeof(float) * n);
        uint16_t *C16 = malloc(sizeof(uint16_t) * n);
        cr_assert(C && C16);
        for (int wrong = 0; wrong < 2; wrong++) {
            for (long i = 0; i < d.M; i++) plain_row(o.A, o.B, false, o.C0, 1.25f, -0.375f, C, NULL, d.N, d.K, i);
            if (wrong) C[n / 2] += 1.0f;
            double got = gr_freivalds_gemm_f32(o.A, o.B, o.C0, 1.25f, -0.375f, C, d.M, d.N, d.K, 7 + wrong);
            double want = plain_freivalds(o.A, o.B, false, o.C0, 1.25f, -0.375f, C, GR_F32, d.M, d.N, d.K, 7 + wrong);
            cr_assert_eq(memcmp(&got, &want, sizeof got), 0, "A B, M %ld N %ld K %ld: %a, plain loops %a", d.M, d.N,
                         d.K, got, want);
            for (long i = 0; i < d.M; i++) plain_row(o.A, o.Bt, true, NULL, 1.0f, 0.0f, C, NULL, d.N, d.K, i);
            if (wrong) C[n / 2] += 1.0f;
            for (long i = 0; i < d.M * d.N; i++) C16[i] = to_bf16(C[i]);
            got = gr_freivalds_nt(o.A, o.Bt, C, GR_F32, d.M, d.N, d.K, 9 + wrong);
            want = plain_freivalds(o.A, o.Bt, true, NULL, 1.0f, 0.0f, C, GR_F32, d.M, d.N, d.K, 9 + wrong);
            cr_assert_eq(memcmp(&got, &want, sizeof got), 0, "A B^T, M %ld N %ld K %ld: %a, plain loops %a", d.M,
                         d.N, d.K, got, want);
            got = gr_freivalds_nt(o.A, o.Bt, C16, GR_BF16, d.M, d.N, d.K, 11 + wrong);
            want = plain_freivalds(o.A, o.Bt, true, NULL, 1.0f, 0.0f, C16, GR_BF16, d.M, d.N, d.K, 11 + wrong);
            cr_assert_eq(memcmp(&got, &want, sizeof got), 0, "A B^T, BF16 C, M %ld N %ld K %ld: %a, plain loops %a",
                         d.M, d.N, d.K, got, want);
        }
        free(C);
        free(C16);
        free_operands(&o);
    }
}
