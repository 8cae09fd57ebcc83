/* The CPU references (grader/ref/) against values worked by hand, and Freivalds' check. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "grader.h"
#include "ref/references.h"
#include "rng.h"
#include "unit_helpers.h"

#define SENTINEL -999.0f

static void assert_floats(const float *got, const float *want, int n, const char *what) {
    for (int i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "%s[%d] = %g, expected %g", what, i, got[i], want[i]);
}

/* ---- matmul ---------------------------------------------------------------------------------- */

Test(references, matmul_2x2_by_hand) {
    const float A[] = {1, 2, 3, 4}, B[] = {5, 6, 7, 8};
    float C[4];
    ref_matmul(A, B, C, 2, 2, 2, 0, 2);
    const float want[] = {19, 22, 43, 50};
    assert_floats(C, want, 4, "C");
}

Test(references, matmul_2x3_times_3x4_by_hand) {
    /* M = 2, K = 3, N = 4. */
    const float A[] = {1, 2, 3,
                       4, 5, 6};
    const float B[] = {1, 0, 2, -1,
                       0, 1, 3, 2,
                       2, -2, 1, 0};
    float C[8];
    ref_matmul(A, B, C, 2, 4, 3, 0, 2);
    const float want[] = {7, -4, 11, 3,
                          16, -7, 29, 6};
    assert_floats(C, want, 8, "C");
}

Test(references, matmul_row_range_writes_only_its_rows) {
    const float A[] = {1, 2, 3, 4, 5, 6};       /* 3 x 2 */
    const float B[] = {1, 0, 0, 1};             /* 2 x 2 identity */
    float C[6];
    for (int i = 0; i < 6; i++) C[i] = SENTINEL;
    ref_matmul(A, B, C, 3, 2, 2, 1, 2);
    const float want[] = {SENTINEL, SENTINEL, 3, 4, SENTINEL, SENTINEL};
    assert_floats(C, want, 6, "C");
    ref_matmul(A, B, C, 3, 2, 2, 2, 2);   /* empty range */
    assert_floats(C, want, 6, "C");
}

Test(references, matmul_accumulates_in_float64) {
    /* 1e8 + 1 - 1e8: in float32 the 1 is lost (spacing at 1e8 is 8); in float64 it is kept. */
    const float A[] = {1e8f, 1, -1e8f}, B[] = {1, 1, 1};
    float C[1];
    ref_matmul(A, B, C, 1, 1, 3, 0, 1);
    cr_assert_eq(C[0], 1.0f);
}

/* ---- transpose, sum, axpby --------------------------------------------------------------------- */

Test(references, transpose_2x3_by_hand) {
    const float in[] = {1, 2, 3,
                        4, 5, 6};
    float out[6];
    ref_transpose(in, out, 2, 3, 0, 3);
    const float want[] = {1, 4,
                          2, 5,
                          3, 6};
    assert_floats(out, want, 6, "out");
}

Test(references, transpose_row_range_is_output_rows) {
    const float in[] = {1, 2, 3, 4, 5, 6};
    float out[6];
    for (int i = 0; i < 6; i++) out[i] = SENTINEL;
    ref_transpose(in, out, 2, 3, 2, 3);   /* output row 2 = input column 2 */
    const float want[] = {SENTINEL, SENTINEL, SENTINEL, SENTINEL, 3, 6};
    assert_floats(out, want, 6, "out");
}

Test(references, sum_by_hand) {
    const float x[] = {1, 2.5f, -0.5f, 4};
    cr_assert_eq(ref_sum(x, 4), 7.0);
    cr_assert_eq(ref_sum(x, 0), 0.0);
    const float y[] = {1e8f, 1, -1e8f};
    cr_assert_eq(ref_sum(y, 3), 1.0, "accumulated in float64");
}

Test(references, axpby_by_hand) {
    const float x[] = {1, 2, 3}, y[] = {4, 5, 6};
    float z[3];
    ref_axpby(x, y, 2.0f, -1.0f, z, 0, 3);
    const float want[] = {-2, -1, 0};
    assert_floats(z, want, 3, "z");
    ref_axpby(x, y, 1.0f, 1.0f, z, 0, 3);
    const float add[] = {5, 7, 9};
    assert_floats(z, add, 3, "z");
}

Test(references, axpby_range_writes_only_its_elements) {
    const float x[] = {1, 2, 3, 4}, y[] = {1, 1, 1, 1};
    float z[4] = {SENTINEL, SENTINEL, SENTINEL, SENTINEL};
    ref_axpby(x, y, 0.5f, 0.25f, z, 1, 3);
    const float want[] = {SENTINEL, 1.25f, 1.75f, SENTINEL};
    assert_floats(z, want, 4, "z");
}

/* ---- rgb to grey ------------------------------------------------------------------------------- */

Test(references, grey_of_white_black_and_primaries) {
    const unsigned char rgb[] = {255, 255, 255,   0, 0, 0,   255, 0, 0,   0, 255, 0,   0, 0, 255,
                                 128, 128, 128};
    float g[6];
    ref_rgb_to_grey(rgb, g, 0, 6);
    cr_assert_float_eq(g[0], 1.0f, 1e-6, "white: %g", g[0]);
    cr_assert_eq(g[1], 0.0f, "black");
    cr_assert_float_eq(g[2], 0.299f, 1e-7, "red: %g", g[2]);
    cr_assert_float_eq(g[3], 0.587f, 1e-7, "green: %g", g[3]);
    cr_assert_float_eq(g[4], 0.114f, 1e-7, "blue: %g", g[4]);
    cr_assert_float_eq(g[5], 128.0f / 255.0f, 1e-7, "mid grey: %g", g[5]);
}

Test(references, grey_mixed_pixel_and_range) {
    /* (10, 20, 30): (0.299*10 + 0.587*20 + 0.114*30) / 255 = 18.15 / 255. */
    const unsigned char rgb[] = {0, 0, 0, 10, 20, 30, 0, 0, 0};
    float g[3] = {SENTINEL, SENTINEL, SENTINEL};
    ref_rgb_to_grey(rgb, g, 1, 2);
    cr_assert_eq(g[0], SENTINEL);
    cr_assert_float_eq(g[1], 18.15f / 255.0f, 1e-7, "got %g", g[1]);
    cr_assert_eq(g[2], SENTINEL);
}

/* ---- Freivalds ---------------------------------------------------------------------------------- */

static void random_product(float *A, float *B, float *C, long M, long N, long K, uint64_t seed) {
    uint64_t s = seed;
    for (long i = 0; i < M * K; i++) A[i] = 2.0f * gr_rng_unit_f32(&s) - 1.0f;
    for (long i = 0; i < K * N; i++) B[i] = 2.0f * gr_rng_unit_f32(&s) - 1.0f;
    ref_matmul(A, B, C, M, N, K, 0, M);
}

Test(references, freivalds_correct_product_is_near_zero) {
    enum { M = 9, N = 7, K = 5 };
    float A[M * K], B[K * N], C[M * N];
    random_product(A, B, C, M, N, K, 42);
    double e = gr_freivalds_f32(A, B, C, M, N, K, 7);
    cr_assert_lt(e, 1e-6, "a correct product: %g", e);
    cr_assert_geq(e, 0.0);
}

Test(references, freivalds_2x2_by_hand_is_exact) {
    const float A[] = {1, 2, 3, 4}, B[] = {5, 6, 7, 8}, C[] = {19, 22, 43, 50};
    cr_assert_eq(gr_freivalds_f32(A, B, C, 2, 2, 2, 1), 0.0);
}

Test(references, freivalds_catches_one_changed_element) {
    enum { M = 9, N = 7, K = 5 };
    float A[M * K], B[K * N], C[M * N];
    random_product(A, B, C, M, N, K, 42);
    C[4 * N + 3] += 1.0f;   /* any change shows: x has entries of +-1, never 0 */
    double e = gr_freivalds_f32(A, B, C, M, N, K, 7);
    cr_assert_gt(e, 1e-2, "one wrong element: %g", e);
}

Test(references, freivalds_propagates_nan) {
    const float A[] = {1, 2, 3, 4}, B[] = {5, 6, 7, 8};
    const float C[] = {19, 22, 43, NAN};
    cr_assert(isnan(gr_freivalds_f32(A, B, C, 2, 2, 2, 1)), "an unwritten element must not pass");
}

/* ---- rng ---------------------------------------------------------------------------------------- */

Test(references, rng_streams_are_deterministic_and_in_range) {
    uint64_t a = 123, b = 123, c = 124;
    for (int i = 0; i < 1000; i++) {
        uint64_t va = gr_rng_next(&a), vb = gr_rng_next(&b);
        cr_assert_eq(va, vb);
    }
    cr_assert_neq(gr_rng_next(&a), gr_rng_next(&c));
    uint64_t s = 9;
    for (int i = 0; i < 10000; i++) {
        float u = gr_rng_unit_f32(&s);
        cr_assert(u >= 0.0f && u < 1.0f, "unit value %g out of [0, 1)", u);
    }
    cr_assert_eq(gr_derive_seed(1, 2, 3), gr_derive_seed(1, 2, 3));
    cr_assert_neq(gr_derive_seed(1, 2, 3), gr_derive_seed(1, 3, 2));
    cr_assert_neq(gr_derive_seed(1, 2, 3), gr_derive_seed(2, 2, 3));
    cr_assert_leq(gr_fresh_seed(), 0xFFFFFFFFFFull, "fresh seeds stay short enough to type");
}
