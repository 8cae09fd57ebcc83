/* compare.c: output against reference, the element bound, unwritten (NaN) elements, guard bands,
 * and the failure messages a student reads. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "compare.h"
#include "unit_helpers.h"

/* ---- gr_compare ------------------------------------------------------------------------------ */

Test(compare, exact_match_passes) {
    const float ref[] = {1.0f, -2.0f, 3.5f, 4.0f};
    const float out[] = {1.0f, -2.0f, 3.5f, 4.0f};
    gr_comparison c;
    gr_compare(GR_F32, out, ref, 4, 1, NULL, 1e-6, &c);
    cr_assert(c.ok);
    cr_assert_eq(c.rel_l2, 0.0);
    cr_assert_eq(c.n_compared, 4);
    cr_assert_eq(c.n_bad, 0);
    cr_assert_eq(c.n_unwritten, 0);
    cr_assert_eq(c.first_bad, -1);
    cr_assert_eq(c.tol, 1e-6);
}

Test(compare, one_wrong_element_is_reported_with_index_expected_and_got) {
    const float ref[] = {1, 2, 3, 4, 5};
    const float out[] = {1, 2, 3, 40, 5};
    gr_comparison c;
    gr_compare(GR_F32, out, ref, 5, 1, NULL, 1e-6, &c);
    cr_assert_not(c.ok);
    cr_assert_eq(c.n_bad, 1);
    cr_assert_eq(c.n_unwritten, 0);
    cr_assert_eq(c.first_bad, 3);
    cr_assert_eq(c.expected, 4.0);
    cr_assert_eq(c.got, 40.0);
    cr_assert_eq(c.worst, 3);
    cr_assert_eq(c.worst_expected, 4.0);
    cr_assert_eq(c.worst_got, 40.0);
}

Test(compare, first_bad_is_the_lowest_index_and_worst_the_largest_error) {
    const float ref[] = {1, 1, 1, 1, 1, 1};
    const float out[] = {1, 2, 1, 1, 9, 1};  /* off by 1 at [1], by 8 at [4] */
    gr_comparison c;
    gr_compare(GR_F32, out, ref, 6, 1, NULL, 1e-6, &c);
    cr_assert_not(c.ok);
    cr_assert_eq(c.n_bad, 2);
    cr_assert_eq(c.first_bad, 1);
    cr_assert_eq(c.worst, 4);
    cr_assert_eq(c.worst_got, 9.0);
}

Test(compare, nan_in_a_compared_element_counts_as_unwritten) {
    const float ref[] = {1, 2, 3, 4};
    const float out[] = {1, 2, NAN, 4};
    gr_comparison c;
    gr_compare(GR_F32, out, ref, 4, 1, NULL, 1e-3, &c);
    cr_assert_not(c.ok);
    cr_assert_eq(c.n_unwritten, 1);
    cr_assert_eq(c.n_bad, 1);
    cr_assert_eq(c.first_bad, 2);
    cr_assert_eq(c.expected, 3.0);
    cr_assert(isnan(c.got));
    cr_assert(isinf(c.rel_l2) || isnan(c.rel_l2), "rel_l2 = %g should not be finite", c.rel_l2);
}

Test(compare, nan_in_a_row_outside_the_mask_is_still_caught) {
    /* 3 rows of 2; row 1 is not selected (no reference there), and element 3 (row 1, col 1) is NaN. */
    const float ref[] = {1, 2, 0, 0, 5, 6};
    const float out[] = {1, 2, 7, NAN, 5, 6};
    const unsigned char mask[] = {1, 0, 1};
    gr_comparison c;
    gr_compare(GR_F32, out, ref, 6, 2, mask, 1e-3, &c);
    cr_assert_not(c.ok);
    cr_assert_eq(c.n_compared, 4, "only the selected rows are compared, got %ld", c.n_compared);
    cr_assert_eq(c.n_unwritten, 1);
    cr_assert_eq(c.n_bad, 1);
    cr_assert_eq(c.first_bad, 3);
    cr_assert(isnan(c.got));
    cr_assert(isnan(c.expected), "no reference in an unselected row: expected is NaN");
    cr_assert_eq(c.rel_l2, 0.0, "the selected rows agree exactly");
}

Test(compare, wrong_finite_value_outside_the_mask_is_not_compared) {
    const float ref[] = {1, 2, 0, 0, 5, 6};
    const float out[] = {1, 2, 99, -99, 5, 6};
    const unsigned char mask[] = {1, 0, 1};
    gr_comparison c;
    gr_compare(GR_F32, out, ref, 6, 2, mask, 1e-6, &c);
    cr_assert(c.ok);
    cr_assert_eq(c.n_compared, 4);
    cr_assert_eq(c.n_bad, 0);
}

Test(compare, unwritten_elements_counted_across_selected_and_unselected_rows) {
    const float ref[] = {1, 2, 3, 4, 5, 6};
    const float out[] = {NAN, 2, NAN, NAN, 5, NAN};
    const unsigned char mask[] = {1, 0, 1};
    gr_comparison c;
    gr_compare(GR_F32, out, ref, 6, 2, mask, 1e-3, &c);
    cr_assert_eq(c.n_unwritten, 4);
    cr_assert_eq(c.n_bad, 4);
    cr_assert_eq(c.first_bad, 0);
    cr_assert_eq(c.expected, 1.0);
}

Test(compare, rel_l2_worked_by_hand) {
    /* ||out - ref|| = 1, ||ref|| = sqrt(1 + 4 + 16) = sqrt(21). */
    const float out[] = {1, 2, 3};
    const float ref[] = {1, 2, 4};
    gr_comparison c;
    gr_compare(GR_F32, out, ref, 3, 1, NULL, 0.5, &c);
    unit_assert_rel(c.rel_l2, 1.0 / sqrt(21.0), 1e-12);
    cr_assert(c.ok, "0.218 is within a tolerance of 0.5 and within the element bound");
    gr_compare(GR_F32, out, ref, 3, 1, NULL, 0.2, &c);
    unit_assert_rel(c.rel_l2, 1.0 / sqrt(21.0), 1e-12);
    cr_assert_not(c.ok, "0.218 is over a tolerance of 0.2");
    /* Element bound at [2]: 8 * 0.2 * (4 + sqrt(7)) = 10.6 > 1: off overall, no single bad element. */
    cr_assert_eq(c.n_bad, 0);
    cr_assert_eq(c.first_bad, -1);
    cr_assert_eq(c.worst, 2);
}

Test(compare, tolerance_boundary_just_under_passes_just_over_fails) {
    /* out = ref * (1 + e) everywhere gives ||out-ref||/||ref|| = e exactly (in float64). */
    const double ref[] = {1, -2, 3, 4, -5, 6};
    double under[6], over[6];
    const double tol = 1e-3;
    for (int i = 0; i < 6; i++) {
        under[i] = ref[i] * (1 + 0.999 * tol);
        over[i] = ref[i] * (1 + 1.001 * tol);
    }
    gr_comparison c;
    gr_compare(GR_F64, under, ref, 6, 1, NULL, tol, &c);
    unit_assert_rel(c.rel_l2, 0.999 * tol, 1e-9);
    cr_assert(c.ok, "rel_l2 %.6g just under tolerance %g must pass", c.rel_l2, tol);
    gr_compare(GR_F64, over, ref, 6, 1, NULL, tol, &c);
    unit_assert_rel(c.rel_l2, 1.001 * tol, 1e-9);
    cr_assert_not(c.ok, "rel_l2 %.6g just over tolerance %g must fail", c.rel_l2, tol);
    cr_assert_eq(c.n_bad, 0, "a uniform relative error is under the element bound");
}

Test(compare, element_bound_catches_one_element_the_l2_norm_hides) {
    /* 1000 ones: rms(ref) = 1, ||ref|| = sqrt(1000). Element bound = 8 * tol * (1 + 1) = 0.016. */
    enum { N = 1000 };
    static double ref[N], out[N];
    const double tol = 1e-3, bound = GR_ELEMENT_FACTOR * tol * 2.0;
    for (int i = 0; i < N; i++) ref[i] = out[i] = 1.0;
    gr_comparison c;

    out[500] = 1.0 + 0.99 * bound;
    gr_compare(GR_F64, out, ref, N, 1, NULL, tol, &c);
    cr_assert(c.ok, "an error of 0.99 x the element bound passes (rel_l2 %.3g)", c.rel_l2);

    out[500] = 1.0 + 1.01 * bound;
    gr_compare(GR_F64, out, ref, N, 1, NULL, tol, &c);
    cr_assert_lt(c.rel_l2, tol, "the L2 figure alone (%.3g) would pass", c.rel_l2);
    cr_assert_not(c.ok, "1.01 x the element bound must fail");
    cr_assert_eq(c.n_bad, 1);
    cr_assert_eq(c.first_bad, 500);
}

Test(compare, all_zero_reference_exact_output_passes) {
    const float ref[] = {0, 0, 0, 0};
    const float out[] = {0, 0, 0, 0};
    gr_comparison c;
    gr_compare(GR_F32, out, ref, 4, 1, NULL, 1e-6, &c);
    cr_assert(c.ok);
    cr_assert_eq(c.rel_l2, 0.0);
    cr_assert(isfinite(c.rel_l2));
}

Test(compare, all_zero_reference_reports_absolute_rms_error_and_fails_on_nonzero) {
    const float ref[] = {0, 0, 0, 0};
    const float out[] = {0, 0.5f, 0, 0};
    gr_comparison c;
    gr_compare(GR_F32, out, ref, 4, 1, NULL, 1e-3, &c);
    /* No ||ref|| to divide by: sqrt(0.25 / 4) = 0.25. */
    unit_assert_rel(c.rel_l2, 0.25, 1e-12);
    cr_assert_not(c.ok);
    cr_assert_eq(c.first_bad, 1);
    cr_assert_eq(c.got, 0.5);
}

Test(compare, bf16_outputs_are_compared_and_nan_poison_is_unwritten) {
    /* bfloat16 bit patterns: 1.0 = 0x3F80, 2.0 = 0x4000, 3.0 = 0x4040, poison 0xFFFF = NaN. The
     * reference of a BF16 output is float32 (gr_ref_dtype). */
    const float ref[] = {1.0f, 2.0f, 3.0f};
    const uint16_t good[] = {0x3F80, 0x4000, 0x4040};
    const uint16_t poisoned[] = {0x3F80, 0xFFFF, 0x4040};
    gr_comparison c;
    gr_compare(GR_BF16, good, ref, 3, 1, NULL, 1e-2, &c);
    cr_assert(c.ok);
    gr_compare(GR_BF16, poisoned, ref, 3, 1, NULL, 1e-2, &c);
    cr_assert_not(c.ok);
    cr_assert_eq(c.n_unwritten, 1);
    cr_assert_eq(c.first_bad, 1);
    cr_assert_eq(c.expected, 2.0);
}

/* ---- gr_value, gr_dtype_size ------------------------------------------------------------------- */

Test(compare, bf16_value_decodes_bit_patterns) {
    const uint16_t v[] = {0x3F80, 0xC000, 0x4049, 0x0000, 0x7F80, 0xFFFF};
    cr_assert_eq(gr_value(GR_BF16, v, 0), 1.0);
    cr_assert_eq(gr_value(GR_BF16, v, 1), -2.0);
    cr_assert_eq(gr_value(GR_BF16, v, 2), 3.140625);
    cr_assert_eq(gr_value(GR_BF16, v, 3), 0.0);
    cr_assert(isinf(gr_value(GR_BF16, v, 4)) && gr_value(GR_BF16, v, 4) > 0);
    cr_assert(isnan(gr_value(GR_BF16, v, 5)), "all-ones poison must read as NaN");
}

Test(compare, u8_i32_f32_f64_values) {
    const unsigned char u8[] = {0, 7, 128, 255};
    const int32_t i32[] = {-5, 2147483647};
    const float f32[] = {0.25f};
    const double f64[] = {1e300};
    cr_assert_eq(gr_value(GR_U8, u8, 0), 0.0);
    cr_assert_eq(gr_value(GR_U8, u8, 1), 7.0);
    cr_assert_eq(gr_value(GR_U8, u8, 2), 128.0);
    cr_assert_eq(gr_value(GR_U8, u8, 3), 255.0, "unsigned: 0xFF is 255, not -1");
    cr_assert_eq(gr_value(GR_I32, i32, 0), -5.0);
    cr_assert_eq(gr_value(GR_I32, i32, 1), 2147483647.0);
    cr_assert_eq(gr_value(GR_F32, f32, 0), 0.25);
    cr_assert_eq(gr_value(GR_F64, f64, 0), 1e300);
}

Test(compare, dtype_sizes) {
    cr_assert_eq(gr_dtype_size(GR_F32), 4);
    cr_assert_eq(gr_dtype_size(GR_F64), 8);
    cr_assert_eq(gr_dtype_size(GR_BF16), 2);
    cr_assert_eq(gr_dtype_size(GR_U8), 1);
    cr_assert_eq(gr_dtype_size(GR_I32), 4);
}

Test(compare, u8_outputs_compare_exactly) {
    const unsigned char ref[] = {10, 20, 30};
    const unsigned char out[] = {10, 21, 30};
    gr_comparison c;
    gr_compare(GR_U8, ref, ref, 3, 1, NULL, 1e-6, &c);
    cr_assert(c.ok);
    gr_compare(GR_U8, out, ref, 3, 1, NULL, 1e-6, &c);
    cr_assert_not(c.ok);
    cr_assert_eq(c.first_bad, 1);
    cr_assert_eq(c.expected, 20.0);
    cr_assert_eq(c.got, 21.0);
}

/* ---- guard bands ------------------------------------------------------------------------------- */

Test(compare, guard_diff_identical_bands) {
    unsigned char a[64], b[64];
    for (int i = 0; i < 64; i++) a[i] = b[i] = (unsigned char)(i * 37);
    size_t first = 99;
    cr_assert_eq(gr_guard_diff(a, b, 64, &first), 0);
    cr_assert_eq(first, 0);
}

Test(compare, guard_diff_counts_bytes_and_first_offset) {
    unsigned char got[64], expected[64];
    for (int i = 0; i < 64; i++) got[i] = expected[i] = (unsigned char)(i * 37);
    got[9] ^= 1;
    got[5] ^= 0x80;
    got[63] = (unsigned char)~got[63];
    size_t first = 0;
    cr_assert_eq(gr_guard_diff(got, expected, 64, &first), 3);
    cr_assert_eq(first, 5);
    /* Only the first 8 bytes: one difference. */
    cr_assert_eq(gr_guard_diff(got, expected, 8, &first), 1);
    cr_assert_eq(first, 5);
}

/* ---- failure messages ---------------------------------------------------------------------------- */

Test(compare, describe_nan_says_never_written_with_expected_value) {
    const float ref[] = {1, 2, 3, 4};
    const float out[] = {1, 2, NAN, 4};
    gr_comparison c;
    char msg[512];
    gr_compare(GR_F32, out, ref, 4, 1, NULL, 1e-3, &c);
    gr_describe_failure(&c, "z", 1, msg, sizeof msg);
    cr_assert_not_null(strstr(msg, "never written"), "message: %s", msg);
    cr_assert_not_null(strstr(msg, "z[2]"), "message names the element: %s", msg);
    cr_assert_not_null(strstr(msg, "expected 3"), "message: %s", msg);
    cr_assert_not_null(strstr(msg, "1 element(s) unwritten"), "message: %s", msg);
}

Test(compare, describe_nan_outside_the_mask_says_never_written) {
    const float ref[] = {1, 2, 0, 0, 5, 6};
    const float out[] = {1, 2, 7, NAN, 5, 6};
    const unsigned char mask[] = {1, 0, 1};
    gr_comparison c;
    char msg[512];
    gr_compare(GR_F32, out, ref, 6, 2, mask, 1e-3, &c);
    gr_describe_failure(&c, "C", 2, msg, sizeof msg);
    cr_assert_not_null(strstr(msg, "never written"), "message: %s", msg);
    cr_assert_not_null(strstr(msg, "C[3] (row 1, col 1)"), "message: %s", msg);
}

Test(compare, describe_wrong_value_gives_expected_and_got) {
    const float ref[] = {1, 2, 3, 4, 5, 6};
    const float out[] = {1, 2, 3, 4, 42, 6};
    gr_comparison c;
    char msg[512];
    gr_compare(GR_F32, out, ref, 6, 3, NULL, 1e-6, &c);
    gr_describe_failure(&c, "C", 3, msg, sizeof msg);
    cr_assert_not_null(strstr(msg, "first wrong element C[4] (row 1, col 1)"), "message: %s", msg);
    cr_assert_not_null(strstr(msg, "expected 5"), "message: %s", msg);
    cr_assert_not_null(strstr(msg, "got 42"), "message: %s", msg);
    cr_assert_not_null(strstr(msg, "1 wrong of 6"), "message: %s", msg);
    cr_assert_null(strstr(msg, "never written"), "a written value is not unwritten: %s", msg);
}

Test(compare, describe_off_overall_names_the_worst_element) {
    const float out[] = {1, 2, 3};
    const float ref[] = {1, 2, 4};
    gr_comparison c;
    char msg[512];
    gr_compare(GR_F32, out, ref, 3, 1, NULL, 0.2, &c);
    gr_describe_failure(&c, "y", 1, msg, sizeof msg);
    cr_assert_not_null(strstr(msg, "y is off overall"), "message names the output: %s", msg);
    cr_assert_not_null(strstr(msg, "worst element [2]"), "message: %s", msg);
    cr_assert_not_null(strstr(msg, "expected 4"), "message: %s", msg);
    cr_assert_not_null(strstr(msg, "got 3"), "message: %s", msg);
}

Test(compare, describe_truncates_to_the_buffer) {
    const float ref[] = {1, 2};
    const float out[] = {1, 3};
    gr_comparison c;
    char msg[16];
    memset(msg, 'x', sizeof msg);
    gr_compare(GR_F32, out, ref, 2, 1, NULL, 1e-6, &c);
    gr_describe_failure(&c, "C", 1, msg, sizeof msg);
    cr_assert_eq(strlen(msg), sizeof msg - 1);
}
