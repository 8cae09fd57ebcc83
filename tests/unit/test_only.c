/* --only NAME (grader/session.c): the exercise and its timing variants ("NAME+shape"); with
 * --exact the exercise alone, which make profile needs to count one exercise's launches (it
 * counted the variants' small launches too, and profiled a small launch of the wrong one). */
#include <criterion/criterion.h>

#include "internal.h"

Test(only, picks_the_exercise_and_its_variants) {
    cr_assert(gr_exercise_selected("05_nvfp4_gemv_fused", false, "05_nvfp4_gemv_fused"));
    cr_assert(gr_exercise_selected("05_nvfp4_gemv_fused", false, "05_nvfp4_gemv_fused+4096x7168x8"));
    cr_assert_not(gr_exercise_selected("05_nvfp4_gemv_fused", false, "05_nvfp4_gemv_fused_more"),
                  "a longer name is another exercise");
    cr_assert_not(gr_exercise_selected("05_nvfp4", false, "05_nvfp4_gemv_fused"), "a prefix is not a name");
}

Test(only, exact_leaves_the_variants_out) {
    cr_assert(gr_exercise_selected("05_nvfp4_gemv_fused", true, "05_nvfp4_gemv_fused"));
    cr_assert_not(gr_exercise_selected("05_nvfp4_gemv_fused", true, "05_nvfp4_gemv_fused+4096x7168x8"));
    cr_assert(gr_exercise_selected("05_nvfp4_gemv_fused+4096x7168x8", true, "05_nvfp4_gemv_fused+4096x7168x8"),
              "a variant named in full is picked alone");
}
