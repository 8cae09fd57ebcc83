/* case.c and timing.c on the host: buffers with guard bands, replayable inputs, NaN poison, the guard
 * and read-only-input checks, shape names, the median. No GPU: the case is a host exercise's. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "unit_helpers.h"

static const gr_exercise HOST_EX = {.name = "unit_case", .on_host = true};

/* x, u: float inputs (signed, unit); b: bytes; z: float output; h: bfloat16 output. */
static void make_case(gr_case *c, uint64_t seed) {
    char err[256] = "";
    gr_case_init(c, &HOST_EX, GR_SHAPE(5), seed);
    cr_assert(c->on_host);
    gr_input(c, "x", GR_F32, 5, GR_FILL_SIGNED);
    gr_input(c, "u", GR_F32, 1000, GR_FILL_UNIT);
    gr_input(c, "b", GR_U8, 7, GR_FILL_BYTES);
    gr_output(c, "z", GR_F32, 5, 1);
    gr_output(c, "h", GR_BF16, 3, 1);
    cr_assert(gr_case_alloc(c, err, sizeof err), "alloc: %s", err);
    gr_case_fill_inputs(c);
    cr_assert(gr_case_upload_inputs(c, err, sizeof err), "upload: %s", err);
}

Test(host_case, same_seed_same_inputs_other_seed_other_inputs) {
    gr_case a, b, c;
    make_case(&a, 0x1234);
    make_case(&b, 0x1234);
    make_case(&c, 0x1235);
    const char *names[] = {"x", "u", "b"};
    for (int i = 0; i < 3; i++) {
        const gr_buffer *ba = gr_find(&a, names[i]), *bb = gr_find(&b, names[i]), *bc = gr_find(&c, names[i]);
        size_t bytes = ba->count * gr_dtype_size(ba->dtype);
        cr_assert_eq(memcmp(ba->host, bb->host, bytes), 0, "'%s' differs for the same seed", names[i]);
        cr_assert_neq(memcmp(ba->host, bc->host, bytes), 0, "'%s' is the same for another seed", names[i]);
    }
    gr_case_free(&a);
    gr_case_free(&b);
    gr_case_free(&c);
}

Test(host_case, fills_are_in_range_and_uploaded) {
    gr_case c;
    make_case(&c, 77);
    const float *x = gr_in(&c, "x"), *u = gr_in(&c, "u");
    for (int i = 0; i < 5; i++) cr_assert(x[i] >= -1.0f && x[i] < 1.0f, "x[%d] = %g", i, x[i]);
    int negative = 0;
    for (int i = 0; i < 1000; i++) {
        cr_assert(u[i] >= 0.0f && u[i] < 1.0f, "u[%d] = %g", i, u[i]);
        negative += u[i] < 0.5f;
    }
    cr_assert(negative > 400 && negative < 600, "unit fill looks uniform (%d of 1000 below 0.5)", negative);
    /* What the launcher sees is what the reference reads. */
    cr_assert_eq(memcmp(gr_ptr(&c, "x"), x, 5 * sizeof(float)), 0);
    cr_assert_eq(memcmp(gr_ptr(&c, "b"), gr_in(&c, "b"), 7), 0);
    gr_case_free(&c);
}

Test(host_case, poisoned_outputs_read_back_as_nan) {
    gr_case c;
    char err[256];
    make_case(&c, 1);
    cr_assert(gr_case_poison_outputs(&c, err, sizeof err));
    cr_assert(gr_case_read_back(&c, err, sizeof err));
    const gr_buffer *z = gr_find(&c, "z"), *h = gr_find(&c, "h");
    for (size_t i = 0; i < z->count; i++) cr_assert(isnan(gr_value(GR_F32, z->host, i)), "z[%zu] not NaN", i);
    for (size_t i = 0; i < h->count; i++) cr_assert(isnan(gr_value(GR_BF16, h->host, i)), "h[%zu] not NaN", i);
    gr_case_free(&c);
}

Test(host_case, guards_intact_after_writing_every_output_element) {
    gr_case c;
    char err[256], msg[768] = "";
    make_case(&c, 2);
    cr_assert(gr_case_poison_outputs(&c, err, sizeof err));
    float *z = gr_ptr(&c, "z");
    for (int i = 0; i < 5; i++) z[i] = (float)i;
    uint16_t *h = gr_ptr(&c, "h");
    for (int i = 0; i < 3; i++) h[i] = 0x3F80;
    cr_assert(gr_case_read_back(&c, err, sizeof err));
    cr_assert(gr_case_check_guards(&c, msg, sizeof msg), "guards: %s", msg);
    cr_assert_eq(((float *)gr_find(&c, "z")->host)[4], 4.0f, "read back what was written");
    gr_case_free(&c);
}

Test(host_case, write_before_the_start_is_caught) {
    gr_case c;
    char msg[768] = "";
    make_case(&c, 3);
    ((float *)gr_ptr(&c, "z"))[-1] = 1.0f;
    cr_assert_not(gr_case_check_guards(&c, msg, sizeof msg));
    cr_assert_not_null(strstr(msg, "wrote before the start of 'z'"), "message: %s", msg);
    gr_case_free(&c);
}

Test(host_case, write_into_the_padding_after_the_end_is_caught) {
    /* z has 5 floats (20 bytes) in a 256-byte slot: element 5 is padding, which counts as guard. */
    gr_case c;
    char msg[768] = "";
    make_case(&c, 4);
    ((float *)gr_ptr(&c, "z"))[5] = 1.0f;
    cr_assert_not(gr_case_check_guards(&c, msg, sizeof msg));
    cr_assert_not_null(strstr(msg, "wrote past the end of 'z' (5 elements)"), "message: %s", msg);
    gr_case_free(&c);
}

Test(host_case, write_far_past_the_end_of_an_input_is_caught) {
    gr_case c;
    char msg[768] = "";
    make_case(&c, 5);
    ((unsigned char *)gr_ptr(&c, "b"))[300] ^= 0xFF;   /* past the padding, into the guard band */
    cr_assert_not(gr_case_check_guards(&c, msg, sizeof msg));
    cr_assert_not_null(strstr(msg, "wrote past the end of 'b'"), "message: %s", msg);
    gr_case_free(&c);
}

Test(host_case, changed_input_is_caught_with_its_element) {
    gr_case c;
    char msg[768] = "";
    make_case(&c, 6);
    float *x = gr_ptr(&c, "x");
    x[3] = x[3] + 0.5f;
    cr_assert_not(gr_case_check_guards(&c, msg, sizeof msg));
    cr_assert_not_null(strstr(msg, "changed its input 'x' (element 3)"), "message: %s", msg);
    gr_case_free(&c);
}

Test(host_case, random_uniform_in_range_and_replayable) {
    gr_case a, b;
    gr_case_init(&a, &HOST_EX, GR_SHAPE(1), 99);
    gr_case_init(&b, &HOST_EX, GR_SHAPE(1), 99);
    for (int i = 0; i < 1000; i++) {
        double va = gr_random_uniform(&a, 0.5, 2.0), vb = gr_random_uniform(&b, 0.5, 2.0);
        cr_assert(va >= 0.5 && va < 2.0, "%g out of [0.5, 2)", va);
        cr_assert_eq(va, vb);
    }
}

Test(host_case, shape_macro_and_format) {
    gr_shape s3 = GR_SHAPE(3, 4, 5), s1 = GR_SHAPE(17);
    cr_assert_eq(s3.rank, 3);
    cr_assert_eq(s3.d[2], 5);
    cr_assert_eq(s1.rank, 1);
    char buf[64];
    gr_shape_format(&s3, buf, sizeof buf);
    cr_assert_str_eq(buf, "3x4x5");
    gr_shape_format(&s1, buf, sizeof buf);
    cr_assert_str_eq(buf, "17");
    gr_shape big = GR_SHAPE(1L << 26);
    gr_shape_format(&big, buf, sizeof buf);
    cr_assert_str_eq(buf, "67108864");
}

Test(host_case, median_of_odd_and_even_counts) {
    double odd[] = {5, 1, 3};
    cr_assert_eq(gr_median(odd, 3), 3.0);
    cr_assert_eq(odd[0], 1.0, "sorted in place: first is the minimum");
    cr_assert_eq(odd[2], 5.0, "sorted in place: last is the maximum");
    double even[] = {4, 1, 3, 2};
    cr_assert_eq(gr_median(even, 4), 2.5);
    cr_assert_eq(gr_median(even, 0), 0.0);
}
