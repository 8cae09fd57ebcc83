/* Errors measured against the magnitudes behind a result: cancellation must not fail a correct
 * answer, and a wrong one must still fail. */
#include <criterion/criterion.h>
#include <math.h>

#include "compare.h"
#include "ref/references.h"

/* One element where alpha*a*b and beta*c nearly cancel: 0.5*0.999 - 0.5 = -0.0005. A float32
 * result off by one rounding of the terms (about 3e-8) is 6e-5 relative to the result. */
Test(scaled, cancellation_is_judged_against_the_terms) {
    float ref = -0.0005f, out = ref + 3e-8f, scale = 0.9995f;
    gr_comparison plain, scaled;
    double tol = 8 * 1.1920928955078125e-07;
    gr_compare(GR_F32, &out, &ref, 1, 1, NULL, tol, &plain);
    gr_compare_scaled(GR_F32, &out, &ref, &scale, 1, 1, NULL, tol, &scaled);
    cr_assert_not(plain.ok, "against the result the error looks like %g", plain.rel_l2);
    cr_assert(scaled.ok, "against the terms it is %g", scaled.rel_l2);
    cr_assert_float_eq(scaled.rel_l2, 3e-8 / 0.9995, 1e-9);
}

Test(scaled, a_wrong_element_still_fails) {
    float ref[4] = {1, -2, 3, 0.001f}, out[4] = {1, -2, 3, 0.5f}, scale[4] = {1, 2, 3, 1};
    gr_comparison cmp;
    gr_compare_scaled(GR_F32, out, ref, scale, 4, 2, NULL, 1e-6, &cmp);
    cr_assert_not(cmp.ok);
    cr_assert_eq(cmp.first_bad, 3);
}

Test(scaled, unwritten_elements_still_fail) {
    float ref[2] = {1, 2}, out[2] = {1, NAN}, scale[2] = {1, 2};
    gr_comparison cmp;
    gr_compare_scaled(GR_F32, out, ref, scale, 2, 1, NULL, 1e-3, &cmp);
    cr_assert_not(cmp.ok);
    cr_assert_eq(cmp.n_unwritten, 1);
}

/* [[1,-2]] x [[3],[1]] = 1; |1*3| + |-2*1| = 5; with alpha 2, beta -0.5, C0 = 4: C = 2*1 - 2 = 0,
 * scale = 2*5 + 0.5*4 = 12. */
Test(scaled, ref_gemm_scaled_by_hand) {
    const float A[2] = {1, -2}, B[2] = {3, 1}, C0[1] = {4};
    float C[1], scale[1];
    ref_gemm_scaled(A, B, C0, 2.0f, -0.5f, C, scale, 1, 1, 2, 0, 1);
    cr_assert_float_eq(C[0], 0.0f, 1e-7);
    cr_assert_float_eq(scale[0], 12.0f, 1e-6);
}
