/* Session 14's speculative accept as the grader sees it (grader/finale_accept.c): the greedy and
 * sampled references on examples worked by hand, and the inputs' promises: greedy sequences accept
 * every count from 0 to k; sampled inputs keep each u clear of its decision by the stated margins
 * and make every b % 4 == 3 sequence accept all. Host cases: no GPU. (The sampled rule's
 * distribution is tested through the solution in tests/accept-sampled-test.sh.) */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "finale.h"
#include "internal.h"

static const gr_exercise GREEDY_EX = {.name = "unit_greedy", .on_host = true, .adjust_inputs = fm_greedy_adjust};
static const gr_exercise SAMPLED_EX = {.name = "unit_sampled", .on_host = true, .adjust_inputs = fm_sampled_adjust};

static void make_case(gr_case *c, const gr_exercise *ex, gr_shape s, uint64_t seed) {
    char err[256] = "";
    gr_case_init(c, ex, s, seed);
    if (ex == &GREEDY_EX) fm_greedy_declare(c);
    else fm_sampled_declare(c);
    cr_assert(gr_case_alloc(c, err, sizeof err), "alloc: %s", err);
    gr_case_fill_inputs(c);
}

/* The board's example: 7 drafted, the first mismatch at position 5 (counting from 1): 4 accepted,
 * then the target's own token, then -1. And all accepted: the bonus token. */
Test(finale_accept, greedy_by_hand) {
    gr_case c;
    make_case(&c, &GREEDY_EX, GR_SHAPE(2, 7), 1);
    int *d = (int *)gr_in(&c, "draft"), *t = (int *)gr_in(&c, "target_argmax");
    const int d0[7] = {10, 11, 12, 13, 99, 15, 16}, t0[8] = {10, 11, 12, 13, 14, 15, 16, 17};
    memcpy(d, d0, sizeof d0);
    memcpy(t, t0, sizeof t0);
    memcpy(d + 7, t0, sizeof(int) * 7);
    memcpy(t + 8, t0, sizeof t0);
    fm_greedy_reference(&c, 0, 2);
    const int *n = gr_ref(&c, "accepted"), *out = gr_ref(&c, "out_tokens");
    const int want0[8] = {10, 11, 12, 13, 14, -1, -1, -1};
    cr_assert_eq(n[0], 4);
    cr_assert_arr_eq(out, want0, sizeof want0);
    cr_assert_eq(n[1], 7);
    cr_assert_arr_eq(out + 8, t0, sizeof t0);
    gr_case_free(&c);
}

Test(finale_accept, greedy_inputs_cover_every_count) {
    gr_case c;
    make_case(&c, &GREEDY_EX, GR_SHAPE(2000, 7), 2);
    fm_greedy_reference(&c, 0, 2000);
    const int *n = gr_ref(&c, "accepted"), *d = gr_in(&c, "draft"), *t = gr_in(&c, "target_argmax");
    int seen[8] = {0}, later_matches = 0;
    for (int b = 0; b < 2000; b++) {
        seen[n[b]]++;
        for (int i = n[b] + 1; i < 7; i++) later_matches += d[b * 7 + i] == t[b * 8 + i];
    }
    for (int i = 0; i <= 7; i++) cr_assert_gt(seen[i], 100, "%d sequences accept %d", seen[i], i);
    cr_assert_gt(later_matches, 1000, "drafts after the first mismatch rarely match (%d)", later_matches);
    gr_case_free(&c);
}

/* By hand, V = 4, k = 1: p_target[0] = (0.1, 0.2, 0.3, 0.4), p_draft[0] = (0.4, 0.2, 0.2, 0.2),
 * draft 0. p / q = 0.25: u = 0.3 rejects. Residual max(0, p - q) = (0, 0, 0.1, 0.2), total 0.3;
 * u_sample 0.5 targets 0.15: past token 2's 0.1, inside token 3. With u = 0.2 the draft is
 * accepted and the bonus comes from p_target[1] = (0.25, 0.25, 0.25, 0.25): u_sample 0.5 targets
 * 0.5, reached at token 2 (0.75 > 0.5; at token 1 the sum 0.5 is not above it). */
Test(finale_accept, sampled_by_hand) {
    const float pt[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.25f, 0.25f, 0.25f, 0.25f}, pd[4] = {0.4f, 0.2f, 0.2f, 0.2f};
    const int draft[1] = {0};
    int out[2];
    float u = 0.3f;
    cr_assert_eq(fm_sampled_row(pt, pd, draft, &u, 0.5f, 1, 4, out), 0);
    cr_assert_eq(out[0], 3);
    cr_assert_eq(out[1], -1);
    u = 0.2f;
    cr_assert_eq(fm_sampled_row(pt, pd, draft, &u, 0.5f, 1, 4, out), 1);
    cr_assert_eq(out[0], 0);
    cr_assert_eq(out[1], 2);
}

Test(finale_accept, sampled_inputs_keep_their_margins) {
    const int B = 64, k = 7, V = 300;
    gr_case c;
    make_case(&c, &SAMPLED_EX, GR_SHAPE(B, k, V), 3);
    fm_sampled_reference(&c, 0, B);
    const float *pt = gr_in(&c, "p_target"), *pd = gr_in(&c, "p_draft"), *ua = gr_in(&c, "u_accept");
    const float *us = gr_in(&c, "u_sample");
    const int *d = gr_in(&c, "draft"), *n = gr_ref(&c, "accepted");
    int seen[8] = {0};
    for (int b = 0; b < B; b++) {
        seen[n[b]]++;
        if (FM_ALL_ACCEPTED(b)) cr_assert_eq(n[b], k, "sequence %d", b);
        for (int i = 0; i <= n[b] && i < k; i++) {   /* every decision taken is clear of its boundary */
            const int x = d[b * k + i];
            const double ratio = (double)pt[((size_t)b * (k + 1) + i) * V + x] / pd[((size_t)b * k + i) * V + x];
            cr_assert_geq(fabs(ua[b * k + i] - ratio), FM_ACCEPT_MARGIN * 0.99, "sequence %d, draft %d", b, i);
        }
        /* the draw: the target sits FM_DRAW_MARGIN of the total inside its token */
        const float *p = pt + ((size_t)b * (k + 1) + n[b]) * V, *q = n[b] < k ? pd + ((size_t)b * k + n[b]) * V : NULL;
        double total = 0, before = 0;
        for (int v = 0; v < V; v++) total += q ? fmax(0.0, (double)p[v] - q[v]) : p[v];
        const double target = us[b] * total;
        const int drawn = ((const int *)gr_ref(&c, "out_tokens"))[b * (k + 1) + n[b]];
        for (int v = 0; v < drawn; v++) before += q ? fmax(0.0, (double)p[v] - q[v]) : p[v];
        const double after = before + (q ? fmax(0.0, (double)p[drawn] - q[drawn]) : p[drawn]);
        cr_assert_geq(target - before, FM_DRAW_MARGIN * total * 0.99, "sequence %d", b);
        cr_assert_geq(after - target, FM_DRAW_MARGIN * total * 0.99, "sequence %d", b);
    }
    for (int i = 0; i < k; i++) cr_assert_gt(seen[i], 0, "no sequence rejects at %d", i);
    gr_case_free(&c);
}
