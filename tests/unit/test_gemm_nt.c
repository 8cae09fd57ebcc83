/* Session 10's GEMM as the grader sees it (grader/gemm.c): C = A * B^T with A M x K, B N x K and C
 * M x N, all BF16, FP32 accumulation. The reference by hand, the tolerance's claims (a correct
 * kernel's BF16 output passes, a wrong element or a coarser rounding fails), Freivalds' check, the
 * byte count. The cases are host cases: buffers and references without a GPU. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gemm.h"
#include "internal.h"
#include "ref/references.h"
#include "unit_helpers.h"

static const gr_exercise NT_EX = {.name = "unit_gemm_nt", .on_host = true};

/* A case of the shape with fresh inputs and the full reference, as run.c makes one. */
static void make_case(gr_case *c, long M, long N, long K, uint64_t seed) {
    char err[256] = "";
    gr_case_init(c, &NT_EX, GR_SHAPE(M, N, K), seed);
    gr_bf16_gemm_nt_declare(c);
    cr_assert(gr_case_alloc(c, err, sizeof err), "alloc: %s", err);
    gr_case_fill_inputs(c);
    gr_bf16_gemm_nt_reference(c, 0, c->rows);
}

/* x rounded to nearest (ties to even) with `bits` significant bits (at most 8), as BF16 bits. */
static uint16_t round_to_bits(float x, int bits) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    int drop = 24 - bits;
    u += (1u << (drop - 1)) - 1 + ((u >> drop) & 1);
    u &= ~((1u << drop) - 1);
    return (uint16_t)(u >> 16);
}

/* What a kernel writes: each output summed in float32, term after term, then rounded to `bits`
 * significant bits (8: BF16's own rounding). */
static void compute_output(gr_case *c, int bits) {
    const gr_shape *s = &c->shape;
    long M = GR_GEMM_M(s), N = GR_GEMM_N(s), K = GR_GEMM_K(s);
    const float *A = gr_in_f32(c, "A"), *B = gr_in_f32(c, "B");
    uint16_t *C = gr_find(c, "C")->host;
    for (long i = 0; i < M; i++)
        for (long j = 0; j < N; j++) {
            float acc = 0;
            for (long k = 0; k < K; k++) acc += A[i * K + k] * B[j * K + k];
            C[i * N + j] = round_to_bits(acc, bits);
        }
}

static float output_at(gr_case *c, long i) {
    return (float)gr_value(GR_BF16, gr_find(c, "C")->host, (size_t)i);
}

static void set_output(gr_case *c, long i, float v) {
    ((uint16_t *)gr_find(c, "C")->host)[i] = round_to_bits(v, 8);
}

/* The comparison run.c makes, at the exercise's tolerance. */
static gr_comparison judge(gr_case *c) {
    const gr_buffer *b = gr_find(c, "C");
    gr_comparison cmp;
    gr_compare_scaled(b->dtype, b->host, b->ref, b->scale, b->count, b->row_len, NULL,
                      gr_bf16_gemm_nt_tolerance(&c->shape), &cmp);
    return cmp;
}

/* Index of the output whose reference is largest in magnitude. */
static long largest(gr_case *c) {
    const float *ref = gr_ref(c, "C");
    long best = 0, n = (long)gr_find(c, "C")->count;
    for (long i = 1; i < n; i++)
        if (fabsf(ref[i]) > fabsf(ref[best])) best = i;
    return best;
}

/* ---- the reference ------------------------------------------------------------------------------ */

/* M = 2, K = 3, N = 5 (not a multiple of the four outputs the reference computes at a time). */
Test(gemm_nt, reference_by_hand) {
    const float A[] = {1, 2, -1,
                       0.5f, -3, 2};
    const float B[] = {1, 0, 0,      /* row n of B: the weights of output n */
                       0, 1, 0,
                       0, 0, 1,
                       1, 1, 1,
                       2, -1, 0.5f};
    float C[10];
    ref_gemm_nt(A, B, C, 2, 5, 3, 0, 2);
    const float want[] = {1, 2, -1, 2, -0.5f,
                          0.5f, -3, 2, -0.5f, 5};
    for (int i = 0; i < 10; i++) cr_assert_eq(C[i], want[i], "C[%d] = %g, expected %g", i, C[i], want[i]);
}

Test(gemm_nt, reference_writes_only_its_rows) {
    const float A[] = {1, 2, 3, 4, 5, 6}, B[] = {1, 0, 0, 1, 1, 1};   /* 3 x 2 and 3 x 2 */
    float C[9];
    for (int i = 0; i < 9; i++) C[i] = -999;
    ref_gemm_nt(A, B, C, 3, 3, 2, 1, 2);
    const float want[] = {-999, -999, -999, 3, 4, 7, -999, -999, -999};
    for (int i = 0; i < 9; i++) cr_assert_eq(C[i], want[i], "C[%d] = %g, expected %g", i, C[i], want[i]);
}

/* The case's reference is the product of the BF16 inputs as declared: A M x K, B N x K. */
Test(gemm_nt, case_reference_is_the_definition) {
    gr_case c;
    make_case(&c, 7, 6, 33, 0x6E7);
    const float *A = gr_in_f32(&c, "A"), *B = gr_in_f32(&c, "B"), *ref = gr_ref(&c, "C");
    cr_assert_eq(gr_find(&c, "C")->dtype, GR_BF16);
    cr_assert_eq(gr_find(&c, "C")->row_len, 6);
    cr_assert_eq(c.rows, 7);
    for (long i = 0; i < 7; i++)
        for (long j = 0; j < 6; j++) {
            double want = 0;
            for (long k = 0; k < 33; k++) want += (double)A[i * 33 + k] * B[j * 33 + k];
            cr_assert_eq(ref[i * 6 + j], (float)want, "C[%ld][%ld]", i, j);
        }
    gr_case_free(&c);
}

/* ---- the tolerance ------------------------------------------------------------------------------ */

/* Outputs of 24 x 37: enough elements that the errors average, small enough to compute at K = 4096. */
static const long TOL_K[] = {1, 17, 4096};

Test(gemm_nt, tolerance_is_bf16_rounding_plus_accumulation) {
    gr_shape s1 = GR_SHAPE(1, 1, 1), s4096 = GR_SHAPE(8, 8, 4096);
    cr_assert_eq(gr_bf16_gemm_nt_tolerance(&s1), 0x1p-8 + GR_EPS_F32);
    cr_assert_eq(gr_bf16_gemm_nt_tolerance(&s4096), 0x1p-8 + 4096 * GR_EPS_F32);
}

Test(gemm_nt, correct_bf16_output_passes) {
    for (int t = 0; t < 3; t++) {
        gr_case c;
        make_case(&c, 24, 37, TOL_K[t], 0xB16 + (uint64_t)t);
        compute_output(&c, 8);
        gr_comparison cmp = judge(&c);
        cr_log_info("K = %4ld: a correct BF16 output errs by %.2e, tolerance %.2e", TOL_K[t], cmp.rel_l2, cmp.tol);
        cr_assert(cmp.ok, "K = %ld: error %.3e, tolerance %.3e, %ld bad", TOL_K[t], cmp.rel_l2, cmp.tol, cmp.n_bad);
        gr_case_free(&c);
    }
}

/* One output, however it comes out, is within 2^-8 of itself: K = 1 and a single element. */
Test(gemm_nt, a_single_correct_output_passes) {
    for (uint64_t seed = 1; seed <= 200; seed++) {
        gr_case c;
        make_case(&c, 1, 1, 1, seed);
        compute_output(&c, 8);
        gr_comparison cmp = judge(&c);
        cr_assert(cmp.ok, "seed %llu: error %.3e, tolerance %.3e", (unsigned long long)seed, cmp.rel_l2, cmp.tol);
        gr_case_free(&c);
    }
}

Test(gemm_nt, one_wrong_element_fails) {
    for (int t = 0; t < 3; t++) {
        gr_case c;
        make_case(&c, 24, 37, TOL_K[t], 0xB16 + (uint64_t)t);
        compute_output(&c, 8);
        long big = largest(&c), last = 24 * 37 - 1;
        float was = output_at(&c, big);
        set_output(&c, big, 1.1f * was);   /* 10% off: some 25 BF16 steps */
        gr_comparison cmp = judge(&c);
        cr_assert_not(cmp.ok, "K = %ld: the largest element 10%% off passed (error %.3e)", TOL_K[t], cmp.rel_l2);
        cr_assert_eq(cmp.first_bad, big);
        set_output(&c, big, was);
        set_output(&c, last, -output_at(&c, last));
        cmp = judge(&c);
        cr_assert_not(cmp.ok, "K = %ld: the last element negated passed", TOL_K[t]);
        cr_assert_eq(cmp.first_bad, last);
        gr_case_free(&c);
    }
}

/* 4 significant bits instead of BF16's 8: the precision lowered, every element a little off. */
Test(gemm_nt, output_rounded_to_4_bits_fails) {
    for (int t = 0; t < 3; t++) {
        gr_case c;
        make_case(&c, 24, 37, TOL_K[t], 0xB16 + (uint64_t)t);
        compute_output(&c, 4);
        gr_comparison cmp = judge(&c);
        cr_log_info("K = %4ld: rounded to 4 bits errs by %.2e, tolerance %.2e", TOL_K[t], cmp.rel_l2, cmp.tol);
        cr_assert_not(cmp.ok, "K = %ld: 4-bit rounding passed (error %.3e, tolerance %.3e)", TOL_K[t], cmp.rel_l2,
                      cmp.tol);
        cr_assert_gt(cmp.rel_l2, 3 * cmp.tol, "K = %ld: fails by a margin", TOL_K[t]);
        gr_case_free(&c);
    }
}

/* ---- Freivalds' check, at a size where only sampled rows get a reference ------------------------ */

/* 1024 x 1024 x 1024 is 2.1e9 FLOP, over the grader's default limit for a full reference (2e9):
 * the grader compares 66 sampled rows and trusts Freivalds' check, which it fails above 2 x the
 * tolerance (run.c), for the rest. */
enum { FM = 1024, FN = 1024, FK = 1024 };

Test(gemm_nt, freivalds_at_a_sampled_size) {
    gr_case c;
    make_case(&c, FM, FN, FK, 0xF7E1);
    compute_output(&c, 8);
    double limit = 2 * gr_bf16_gemm_nt_tolerance(&c.shape);
    cr_assert_gt(gr_gemm_flops(&c.shape), 2e9);
    c.check_seed = 0x5EED;
    double ok = gr_bf16_gemm_nt_freivalds(&c);
    cr_log_info("Freivalds at 1024^3: correct BF16 output %.2e (fails above %.2e)", ok, limit);
    cr_assert_leq(ok, limit, "a correct output: %.3e", ok);

    /* A single wrong element shows in C x only against the rounding of all M N others: it must
     * be wrong by more than about 2 tol ||C|| (some 90 here, where outputs are about 10). So a
     * garbage value is caught; an element slightly off is left to the sampled rows. */
    uint16_t *C = gr_find(&c, "C")->host;
    long at = 517L * FN + 300;   /* a row the sample would probably miss */
    uint16_t was = C[at];
    set_output(&c, at, 1e4f);
    double one_garbage = gr_bf16_gemm_nt_freivalds(&c);
    cr_log_info("Freivalds at 1024^3: one element 1e4 %.2e", one_garbage);
    cr_assert_gt(one_garbage, limit, "one element of 1e4: %.3e", one_garbage);
    set_output(&c, at, NAN);
    cr_assert(isnan(gr_bf16_gemm_nt_freivalds(&c)), "an unwritten (NaN) element");
    C[at] = was;

    /* A wrong row (a tile edge off by one in M): its outputs replaced by the next row's. */
    memcpy(C + 517L * FN, C + 518L * FN, sizeof(uint16_t) * FN);
    double row = gr_bf16_gemm_nt_freivalds(&c);
    cr_log_info("Freivalds at 1024^3: one wrong row %.2e", row);
    cr_assert_gt(row, limit, "one wrong row: %.3e", row);
    gr_case_free(&c);
}

/* B is read as N x K: the same C checked as if B were K x N would be wrong. */
Test(gemm_nt, freivalds_reads_b_as_n_by_k) {
    gr_case c;
    make_case(&c, 40, 24, 24, 0xF7E2);   /* N == K, so both readings are possible */
    compute_output(&c, 8);
    const float *A = gr_in_f32(&c, "A"), *B = gr_in_f32(&c, "B");
    float *C = malloc(sizeof(float) * 40 * 24);
    gr_bf16_to_f32(gr_find(&c, "C")->host, C, 40 * 24);
    cr_assert_leq(gr_freivalds_nt(A, B, C, GR_F32, 40, 24, 24, 9), 2 * gr_bf16_gemm_nt_tolerance(&c.shape));
    cr_assert_gt(gr_freivalds_gemm_f32(A, B, NULL, 1, 0, C, 40, 24, 24, 9), 0.1);
    free(C);
    gr_case_free(&c);
}

/* ---- counts ------------------------------------------------------------------------------------- */

Test(gemm_nt, bytes_and_flops) {
    gr_shape s = GR_SHAPE(3, 5, 7);
    cr_assert_eq(gr_bf16_gemm_nt_bytes(&s), 2.0 * (3 * 7 + 5 * 7 + 3 * 5));   /* 142: A, B read, C written */
    cr_assert_eq(gr_gemm_flops(&s), 2.0 * 3 * 5 * 7);
    gr_shape big = GR_SHAPE(8192, 8192, 8192);
    cr_assert_eq(gr_bf16_gemm_nt_bytes(&big), 6.0 * 8192 * 8192);
}
