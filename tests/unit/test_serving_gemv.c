/* Session 12's GEMV exercises as the grader sees them (grader/serving_gemv.c): 01, Y = X W^T, and
 * 02, Y = RMSNorm(X) W^T. The references by hand (eps included), the inputs that make eps count,
 * the tolerances' claims (what a correct kernel writes passes, however it orders its sums; a term
 * left out, a batch row mixed up, a lowered precision, a misplaced eps fail), the byte and FLOP
 * counts. Host cases: buffers and references without a GPU. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "gemm.h"
#include "serving.h"
#include "unit_helpers.h"

static const gr_exercise GEMV_EX = {.name = "unit_gemv", .on_host = true};
static const gr_exercise NORM_EX = {.name = "unit_rmsnorm_qkv", .on_host = true};
/* As the check runs 02: with the inputs that make eps count. */
static const gr_exercise NORM_ADJ_EX = {.name = "unit_rmsnorm_qkv", .on_host = true,
                                        .adjust_inputs = sv_rmsnorm_qkv_adjust};

/* x rounded to nearest (ties to even) with `bits` significant bits (at most 8), as BF16 bits. */
static uint16_t round_to_bits(float x, int bits) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    int drop = 24 - bits;
    u += (1u << (drop - 1)) - 1 + ((u >> drop) & 1);
    u &= ~((1u << drop) - 1);
    return (uint16_t)(u >> 16);
}

static uint16_t bf16(float x) { return round_to_bits(x, 8); }
static float widen(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* A case with fresh inputs (adjusted where the exercise says so); no reference yet. */
static void make_case(gr_case *c, const gr_exercise *ex, long M, long N, long K, uint64_t seed) {
    char err[256] = "";
    gr_case_init(c, ex, GR_SHAPE(M, N, K), seed);
    if (ex == &GEMV_EX) sv_gemv_declare(c);
    else sv_rmsnorm_qkv_declare(c);
    cr_assert(gr_case_alloc(c, err, sizeof err), "alloc: %s", err);
    gr_case_fill_inputs(c);
}

static void reference(gr_case *c) {
    if (c->ex == &GEMV_EX) sv_gemv_reference(c, 0, c->rows);
    else sv_rmsnorm_qkv_reference(c, 0, c->rows);
}

/* Overwrite an input with the given values (before anything has widened it). */
static void set_input(gr_case *c, const char *name, const float *v, size_t n) {
    const gr_buffer *b = gr_find(c, name);
    cr_assert_eq(b->count, n, "%s holds %zu elements, not %zu", name, b->count, n);
    for (size_t i = 0; i < n; i++) ((uint16_t *)b->host)[i] = bf16(v[i]);
}

/* The comparison run.c makes, at the exercise's tolerance. */
static gr_comparison judge(gr_case *c) {
    const gr_buffer *b = gr_find(c, "Y");
    double tol = c->ex == &GEMV_EX ? gr_bf16_gemm_nt_tolerance(&c->shape) : sv_rmsnorm_qkv_tolerance(&c->shape);
    gr_comparison cmp;
    gr_compare_scaled(b->dtype, b->host, b->ref, b->scale, b->count, b->row_len, NULL, tol, &cmp);
    return cmp;
}

/* ---- what a kernel writes: FP32 sums in a kernel's order, one rounding to BF16 ----------------- */

enum { LANES = 32 };

/* The dot product of x (FP32) and row w (BF16) as a warp sums it: lane l adds terms k = l, l + 32,
 * ... in order, then the 32 lane sums are added pairwise (the butterfly). skip_tail: the last
 * K % 8 terms left out (a kernel that forgets the scalar tail). */
static float warp_dot(const float *x, const float *w, long K, bool skip_tail) {
    float lane_sum[LANES] = {0};
    long end = skip_tail ? K - K % 8 : K;
    for (long k = 0; k < end; k++) lane_sum[k % LANES] = fmaf(x[k], w[k], lane_sum[k % LANES]);
    for (int width = LANES / 2; width > 0; width /= 2)
        for (int l = 0; l < width; l++) lane_sum[l] += lane_sum[l + width];
    return lane_sum[0];
}

typedef enum {
    GEMV_RIGHT,
    GEMV_TAIL_DROPPED,   /* the K % 8 elements after the last 16-byte chunk left out */
    GEMV_ROWS_SWAPPED,   /* batch rows 0 and 1 of X exchanged */
} gemv_variant;

static void gemv_output(gr_case *c, gemv_variant v, int bits) {
    const gr_shape *s = &c->shape;
    long M = s->d[0], N = s->d[1], K = s->d[2];
    const float *X = gr_in_f32(c, "X"), *W = gr_in_f32(c, "W");
    uint16_t *Y = gr_find(c, "Y")->host;
    for (long m = 0; m < M; m++) {
        long xm = v == GEMV_ROWS_SWAPPED && M > 1 && m < 2 ? 1 - m : m;
        for (long n = 0; n < N; n++)
            Y[m * N + n] = round_to_bits(warp_dot(X + xm * K, W + n * K, K, v == GEMV_TAIL_DROPPED), bits);
    }
}

typedef enum {
    NORM_RIGHT,          /* x * gamma * inv_rms in FP32, the product from there */
    NORM_STAGED_BF16,    /* right, with the normalised row rounded to BF16 first (the unfused pipeline) */
    NORM_NO_EPS,         /* 1 / sqrt(mean(x^2)) */
    NORM_EPS_OUTSIDE,    /* 1 / (sqrt(mean(x^2)) + eps) */
    NORM_NO_GAMMA,       /* gamma left out */
    NORM_K_MINUS_1,      /* the mean over K - 1 */
    NORM_SUM_NOT_MEAN,   /* sum(x^2) instead of its mean */
    NORM_NONE,           /* no norm at all: x W^T */
} norm_variant;

static void norm_output(gr_case *c, norm_variant v) {
    const gr_shape *s = &c->shape;
    long M = s->d[0], N = s->d[1], K = s->d[2];
    const float *X = gr_in_f32(c, "X"), *W = gr_in_f32(c, "W"), *gamma = gr_in_f32(c, "gamma");
    const float eps = (float)c->param[0];
    uint16_t *Y = gr_find(c, "Y")->host;
    float *xn = malloc(sizeof(float) * (size_t)K);
    for (long m = 0; m < M; m++) {
        const float *x = X + m * K;
        float ss = 0;
        for (long k = 0; k < K; k++) ss = fmaf(x[k], x[k], ss);
        float inv;
        switch (v) {
        case NORM_NO_EPS: inv = 1.0f / sqrtf(ss / (float)K); break;
        case NORM_EPS_OUTSIDE: inv = 1.0f / (sqrtf(ss / (float)K) + eps); break;
        case NORM_K_MINUS_1: inv = 1.0f / sqrtf(ss / (float)(K - 1) + eps); break;
        case NORM_SUM_NOT_MEAN: inv = 1.0f / sqrtf(ss + eps); break;
        case NORM_NONE: inv = 1.0f; break;
        default: inv = 1.0f / sqrtf(ss / (float)K + eps);
        }
        for (long k = 0; k < K; k++) {
            float g = v == NORM_NO_GAMMA || v == NORM_NONE ? 1.0f : gamma[k];
            xn[k] = x[k] * g * inv;
            if (v == NORM_STAGED_BF16) xn[k] = widen(bf16(xn[k]));
        }
        for (long n = 0; n < N; n++) Y[m * N + n] = bf16(warp_dot(xn, W + n * K, K, false));
    }
    free(xn);
}

/* ---- the references by hand ----------------------------------------------------------------- */

/* M = 2, N = 3, K = 5: Y[m][n] = sum_k X[m][k] W[n][k]. */
Test(serving_gemv, gemv_reference_by_hand) {
    gr_case c;
    make_case(&c, &GEMV_EX, 2, 3, 5, 1);
    const float X[] = {1, 2, -1, 0.5f, 4,
                       -2, 0, 3, 1, 0.25f};
    const float W[] = {1, 0, 0, 0, 0,      /* row n: the weights of output n */
                       1, 1, 1, 1, 1,
                       0.5f, -1, 2, 0, -4};
    set_input(&c, "X", X, 10);
    set_input(&c, "W", W, 15);
    reference(&c);
    const float want[] = {1, 6.5f, -19.5f,
                          -2, 2.25f, 4};
    const float *ref = gr_ref(&c, "Y");
    for (int i = 0; i < 6; i++) cr_assert_eq(ref[i], want[i], "Y[%d] = %g, expected %g", i, ref[i], want[i]);
    gr_case_free(&c);
}

Test(serving_gemv, gemv_buffers_as_the_contract_says) {
    gr_case c;
    make_case(&c, &GEMV_EX, 3, 1000, 127, 2);
    cr_assert_eq(gr_find(&c, "W")->count, 1000 * 127);
    cr_assert_eq(gr_find(&c, "X")->count, 3 * 127);
    cr_assert_eq(gr_find(&c, "Y")->count, 3 * 1000);
    cr_assert_eq(gr_find(&c, "Y")->dtype, GR_BF16);
    cr_assert_eq(gr_find(&c, "Y")->row_len, 1000);
    cr_assert_eq(c.rows, 3);
    gr_case_free(&c);
}

/* Rows [3, -1, 1, 1] and [2, 2, 2, 2], eps = 1: mean squares 3 and 4, so 1 / rms = 1/2 and
 * 1 / sqrt(5); gamma = [2, 1, -1, 0.5]. Row 0 normalised: [3, -0.5, -0.5, 0.25]; row 1:
 * (2 / sqrt 5) [2, 1, -1, 0.5]. */
Test(serving_gemv, rmsnorm_reference_by_hand) {
    gr_case c;
    make_case(&c, &NORM_EX, 2, 3, 4, 3);
    const float X[] = {3, -1, 1, 1,
                       2, 2, 2, 2};
    const float gamma[] = {2, 1, -1, 0.5f};
    const float W[] = {1, 0, 0, 0,
                       1, 1, 1, 1,
                       0, 2, 0, -4};
    set_input(&c, "X", X, 8);
    set_input(&c, "gamma", gamma, 4);
    set_input(&c, "W", W, 12);
    c.param[0] = 1.0;
    reference(&c);
    const double want[] = {3, 2.25, -2,
                           4 / sqrt(5), sqrt(5), 0};
    const float *ref = gr_ref(&c, "Y");
    for (int i = 0; i < 6; i++)
        cr_assert(fabs(ref[i] - want[i]) <= 1e-6 * (1 + fabs(want[i])), "Y[%d] = %.9g, expected %.9g", i, ref[i],
                  want[i]);
    gr_case_free(&c);
}

/* The same rows with eps = 0: 1 / rms is 1 / sqrt 3 and 1/2, and every output moves. */
Test(serving_gemv, rmsnorm_reference_uses_eps) {
    gr_case c;
    make_case(&c, &NORM_EX, 2, 3, 4, 3);
    const float X[] = {3, -1, 1, 1, 2, 2, 2, 2}, gamma[] = {2, 1, -1, 0.5f};
    const float W[] = {1, 0, 0, 0, 1, 1, 1, 1, 0, 2, 0, -4};
    set_input(&c, "X", X, 8);
    set_input(&c, "gamma", gamma, 4);
    set_input(&c, "W", W, 12);
    c.param[0] = 0.0;
    reference(&c);
    const double want[] = {6 / sqrt(3), 4.5 / sqrt(3), -4 / sqrt(3), 2, 2.5, 0};
    const float *ref = gr_ref(&c, "Y");
    for (int i = 0; i < 6; i++)
        cr_assert(fabs(ref[i] - want[i]) <= 1e-6 * (1 + fabs(want[i])), "Y[%d] = %.9g, expected %.9g", i, ref[i],
                  want[i]);
    gr_case_free(&c);
}

/* eps is drawn per case as models use it, and is exactly the float32 the launcher receives. */
Test(serving_gemv, eps_is_drawn_like_a_model_s) {
    for (uint64_t seed = 1; seed <= 50; seed++) {
        gr_case c;
        make_case(&c, &NORM_EX, 1, 4, 8, seed);
        double eps = c.param[0];
        cr_assert(eps >= 0.99e-6 && eps <= 1.01e-5, "eps %g", eps);
        cr_assert_eq(eps, (double)(float)eps, "eps %.17g is not a float32", eps);
        gr_case_free(&c);
    }
}

/* ---- the inputs that make eps count ---------------------------------------------------------- */

/* The even rows are the drawn rows times an exact power of two, with a mean square within a
 * factor of 4 of eps; the odd rows are as drawn. Same seed with and without the adjustment. */
Test(serving_gemv, adjust_brings_even_rows_near_eps) {
    const long M = 5, K = 300;
    gr_case plain, adj;
    make_case(&plain, &NORM_EX, M, 7, K, 0xE95);
    make_case(&adj, &NORM_ADJ_EX, M, 7, K, 0xE95);
    const uint16_t *xp = gr_find(&plain, "X")->host, *xa = gr_find(&adj, "X")->host;
    const double eps = adj.param[0];
    cr_assert_eq(eps, plain.param[0]);
    for (long m = 0; m < M; m++) {
        double ms = 0, ratio = 0;
        for (long k = 0; k < K; k++) {
            float p = widen(xp[m * K + k]), a = widen(xa[m * K + k]);
            ms += (double)a * a;
            if (p != 0) {
                double r = (double)a / p;
                if (ratio == 0) ratio = r;
                cr_assert_eq(r, ratio, "row %ld: not one factor for the whole row", m);
            }
        }
        ms /= K;
        if (m % 2) {
            cr_assert_eq(ratio, 1.0, "odd row %ld changed", m);
        } else {
            int e;
            cr_assert_eq(frexp(ratio, &e), 0.5, "row %ld: factor %g is not a power of two", m, ratio);
            cr_assert(ms >= eps / 4 && ms <= 4 * eps, "row %ld: mean square %g, eps %g", m, ms, eps);
        }
    }
    gr_case_free(&plain);
    gr_case_free(&adj);
}

/* ---- the tolerances --------------------------------------------------------------------------- */

Test(serving_gemv, tolerances_by_formula) {
    gr_shape s1 = GR_SHAPE(1, 1, 1), s4096 = GR_SHAPE(1, 14336, 4096);
    cr_assert_eq(gr_bf16_gemm_nt_tolerance(&s1), 0x1p-8 + GR_EPS_F32);
    cr_assert_eq(gr_bf16_gemm_nt_tolerance(&s4096), 0x1p-8 + 4096 * GR_EPS_F32);
    cr_assert_eq(sv_rmsnorm_qkv_tolerance(&s1), 0x1p-7 + 2 * GR_EPS_F32);
    cr_assert_eq(sv_rmsnorm_qkv_tolerance(&s4096), 0x1p-7 + 2 * 4096 * GR_EPS_F32);
}

/* (M, K) pairs: a batch of 3 against K = 1, 17, 1003 (odd: a tail after the last chunk), 4096. */
static const long TOL_M[] = {3, 3, 3, 2}, TOL_K[] = {1, 17, 1003, 4096};
enum { TOL_N = 37, TOL_CASES = 4 };

Test(serving_gemv, gemv_correct_output_passes) {
    for (int t = 0; t < TOL_CASES; t++) {
        gr_case c;
        make_case(&c, &GEMV_EX, TOL_M[t], TOL_N, TOL_K[t], 0x61 + (uint64_t)t);
        reference(&c);
        gemv_output(&c, GEMV_RIGHT, 8);
        gr_comparison cmp = judge(&c);
        cr_log_info("gemv K = %4ld: a correct BF16 output errs by %.2e, tolerance %.2e", TOL_K[t], cmp.rel_l2, cmp.tol);
        cr_assert(cmp.ok, "K = %ld: error %.3e, tolerance %.3e", TOL_K[t], cmp.rel_l2, cmp.tol);
        gr_case_free(&c);
    }
}

/* One output with K = 1 is within 2^-8 of itself, whatever the draw. */
Test(serving_gemv, gemv_single_output_passes) {
    for (uint64_t seed = 1; seed <= 200; seed++) {
        gr_case c;
        make_case(&c, &GEMV_EX, 1, 1, 1, seed);
        reference(&c);
        gemv_output(&c, GEMV_RIGHT, 8);
        gr_comparison cmp = judge(&c);
        cr_assert(cmp.ok, "seed %llu: error %.3e, tolerance %.3e", (unsigned long long)seed, cmp.rel_l2, cmp.tol);
        gr_case_free(&c);
    }
}

Test(serving_gemv, gemv_wrong_outputs_fail) {
    for (int t = 0; t < TOL_CASES; t++) {
        gr_case c;
        make_case(&c, &GEMV_EX, TOL_M[t], TOL_N, TOL_K[t], 0x61 + (uint64_t)t);
        reference(&c);
        gemv_output(&c, GEMV_RIGHT, 4);   /* 4 significant bits: the precision lowered */
        gr_comparison cmp = judge(&c);
        cr_assert_not(cmp.ok, "K = %ld: 4-bit outputs passed (error %.3e)", TOL_K[t], cmp.rel_l2);
        gemv_output(&c, GEMV_ROWS_SWAPPED, 8);
        cmp = judge(&c);
        cr_assert_not(cmp.ok, "K = %ld: batch rows 0 and 1 swapped passed (error %.3e)", TOL_K[t], cmp.rel_l2);
        if (TOL_K[t] % 8) {
            gemv_output(&c, GEMV_TAIL_DROPPED, 8);
            cmp = judge(&c);
            cr_log_info("gemv K = %4ld: the last %ld terms left out err by %.2e", TOL_K[t], TOL_K[t] % 8, cmp.rel_l2);
            cr_assert_not(cmp.ok, "K = %ld: the tail left out passed (error %.3e)", TOL_K[t], cmp.rel_l2);
        }
        gemv_output(&c, GEMV_RIGHT, 8);
        uint16_t *Y = gr_find(&c, "Y")->host;
        long last = TOL_M[t] * TOL_N - 1;
        Y[last] = bf16(-widen(Y[last]));
        cmp = judge(&c);
        cr_assert_not(cmp.ok, "K = %ld: the last output negated passed", TOL_K[t]);
        cr_assert_eq(cmp.first_bad, last);
        gr_case_free(&c);
    }
}

/* 02 at the check's shapes' K, with the adjusted inputs: the FP32 kernel and the one that stages
 * the normalised row in BF16 both pass. */
static const long NORM_K[] = {1, 8, 72, 1003, 4096};
enum { NORM_CASES = 5 };

Test(serving_gemv, rmsnorm_correct_outputs_pass) {
    for (int t = 0; t < NORM_CASES; t++)
        for (int staged = 0; staged < 2; staged++) {
            gr_case c;
            make_case(&c, &NORM_ADJ_EX, 3, TOL_N, NORM_K[t], 0x70 + (uint64_t)t);
            reference(&c);
            norm_output(&c, staged ? NORM_STAGED_BF16 : NORM_RIGHT);
            gr_comparison cmp = judge(&c);
            cr_log_info("rmsnorm K = %4ld%s: errs by %.2e, tolerance %.2e", NORM_K[t], staged ? " (BF16 row)" : "",
                        cmp.rel_l2, cmp.tol);
            cr_assert(cmp.ok, "K = %ld, staged %d: error %.3e, tolerance %.3e", NORM_K[t], staged, cmp.rel_l2, cmp.tol);
            gr_case_free(&c);
        }
}

Test(serving_gemv, rmsnorm_single_output_passes) {
    for (uint64_t seed = 1; seed <= 200; seed++)
        for (int staged = 0; staged < 2; staged++) {
            gr_case c;
            make_case(&c, &NORM_ADJ_EX, 1, 1, 1, seed);
            reference(&c);
            norm_output(&c, staged ? NORM_STAGED_BF16 : NORM_RIGHT);
            gr_comparison cmp = judge(&c);
            cr_assert(cmp.ok, "seed %llu, staged %d: error %.3e, tolerance %.3e", (unsigned long long)seed, staged,
                      cmp.rel_l2, cmp.tol);
            gr_case_free(&c);
        }
}

/* Each mistake fails at every K of the check where it changes anything: eps dropped or outside
 * the root (the adjusted even rows), gamma or the norm left out, the sum for the mean; the mean
 * over K - 1 at the small K (at K = 4096 it moves the result by 1/8192: invisible, and harmless). */
Test(serving_gemv, rmsnorm_mistakes_fail) {
    const norm_variant wrong[] = {NORM_NO_EPS, NORM_EPS_OUTSIDE, NORM_NO_GAMMA, NORM_SUM_NOT_MEAN, NORM_NONE,
                                  NORM_K_MINUS_1};
    const char *names[] = {"eps dropped", "eps outside the root", "gamma left out", "sum, not mean", "no norm",
                           "mean over K - 1"};
    for (int t = 0; t < NORM_CASES; t++)
        for (int v = 0; v < 6; v++) {
            if (wrong[v] == NORM_K_MINUS_1 && (NORM_K[t] == 1 || NORM_K[t] > 8)) continue;
            if (wrong[v] == NORM_SUM_NOT_MEAN && NORM_K[t] == 1) continue;  /* the same thing at K = 1 */
            gr_case c;
            make_case(&c, &NORM_ADJ_EX, 3, TOL_N, NORM_K[t], 0x70 + (uint64_t)t);
            reference(&c);
            norm_output(&c, wrong[v]);
            gr_comparison cmp = judge(&c);
            cr_assert_not(cmp.ok, "K = %ld: %s passed (error %.3e, tolerance %.3e)", NORM_K[t], names[v], cmp.rel_l2,
                          cmp.tol);
            gr_case_free(&c);
        }
}

/* Without the adjusted rows, a dropped eps would pass: why the check scales them. */
Test(serving_gemv, without_the_adjustment_eps_would_not_show) {
    gr_case c;
    make_case(&c, &NORM_EX, 3, TOL_N, 4096, 0x71);
    reference(&c);
    norm_output(&c, NORM_NO_EPS);
    gr_comparison cmp = judge(&c);
    cr_assert(cmp.ok, "eps dropped failed even on unadjusted rows (error %.3e)", cmp.rel_l2);
    gr_case_free(&c);
}

/* ---- counts ----------------------------------------------------------------------------------- */

Test(serving_gemv, byte_and_flop_counts) {
    gr_shape s = GR_SHAPE(1, 14336, 4096), b8 = GR_SHAPE(8, 14336, 4096), q = GR_SHAPE(1, 6144, 4096);
    cr_assert_eq(gr_bf16_gemm_nt_bytes(&s), 2.0 * (14336.0 * 4096 + 4096 + 14336));
    cr_assert_eq(gr_bf16_gemm_nt_bytes(&b8), 2.0 * (14336.0 * 4096 + 8 * 4096 + 8 * 14336));
    cr_assert_eq(gr_gemm_flops(&b8), 2.0 * 8 * 14336 * 4096);
    cr_assert_eq(sv_rmsnorm_qkv_bytes(&q), 2.0 * (6144.0 * 4096 + 4096 + 4096 + 6144));
    cr_assert_eq(sv_rmsnorm_qkv_flops(&q), 2.0 * 6144 * 4096 + 4.0 * 4096);
    /* Decode is W: at M = 1 the weights are 99.9% of the bytes. */
    cr_assert_gt(2.0 * 14336 * 4096 / gr_bf16_gemm_nt_bytes(&s), 0.999);
}
