/* The sampled check's inputs for tests/finale/accept_sampled_test.cu: a host case of
 * 04_accept+sampled made by the grader itself (fill, then fm_sampled_adjust), and its float64
 * reference. C, because the grader's case machinery is C; the test (C++) calls it. */
#include <stdio.h>

#include "finale.h"
#include "internal.h"
#include "sampled_inputs.h"

static const gr_exercise SAMPLED_EX = {.name = "test_sampled", .on_host = true, .adjust_inputs = fm_sampled_adjust};

int sampled_case(long B, long k, long V, uint64_t seed, sampled_inputs *in) {
    static gr_case c;   /* one case at a time: the previous one is freed */
    static int have_case;
    char err[256] = "";
    if (have_case) gr_case_free(&c);
    gr_case_init(&c, &SAMPLED_EX, GR_SHAPE(B, k, V), seed);
    fm_sampled_declare(&c);
    if (!gr_case_alloc(&c, err, sizeof err)) { fprintf(stderr, "sampled_case: %s\n", err); return -1; }
    have_case = 1;
    gr_case_fill_inputs(&c);
    fm_sampled_reference(&c, 0, B);
    in->p_target = gr_in(&c, "p_target");
    in->p_draft = gr_in(&c, "p_draft");
    in->draft = gr_in(&c, "draft");
    in->u_accept = gr_in(&c, "u_accept");
    in->u_sample = gr_in(&c, "u_sample");
    in->ref_accepted = gr_ref(&c, "accepted");
    in->ref_tokens = gr_ref(&c, "out_tokens");
    return 0;
}
