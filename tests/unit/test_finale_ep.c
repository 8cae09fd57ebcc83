/* Session 14's expert parallelism as the grader sees it (grader/finale_ep.c): who owns which expert,
 * where each rank's tokens sit in the stacked arrays, a round trip worked by hand, the inputs'
 * promises (distinct experts, weights summing to 1, the routing modes), and the tolerance's claim:
 * the GPU's arithmetic (each expert's output rounded to BF16, an FP32 sum, y rounded) passes, a
 * dropped term or a scale without its sign fails. Host cases: no GPU, no NCCL. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "finale_ep.h"
#include "internal.h"

static const gr_exercise EP_EX = {.name = "unit_ep", .on_host = true, .adjust_inputs = fm_ep_adjust};

static void make_case(gr_case *c, gr_shape s, int ranks, uint64_t seed) {
    char err[256] = "";
    gr_case_init(c, &EP_EX, s, seed);
    c->param[0] = ranks;  /* as the check driver sets it: the machine's GPUs */
    fm_ep_declare(c);
    cr_assert(gr_case_alloc(c, err, sizeof err), "alloc: %s", err);
    gr_case_fill_inputs(c);
}

static uint16_t bf16_round(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    return (uint16_t)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}
static float bf16_value(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Rank r owns first(r) .. first(r + 1) - 1, every expert has exactly one owner, and owner() agrees,
 * for even and uneven splits (E = 8 over 3 ranks: 0-1, 2-4, 5-7). */
Test(finale_ep, experts_and_their_ranks) {
    const int Es[] = {8, 9, 64, 255, 256};
    for (size_t i = 0; i < sizeof Es / sizeof Es[0]; i++)
        for (int R = 2; R <= FM_EP_MAX_RANKS && R <= Es[i]; R++) {
            cr_assert_eq(fm_ep_first_expert(0, Es[i], R), 0);
            cr_assert_eq(fm_ep_first_expert(R, Es[i], R), Es[i]);
            for (int r = 0; r < R; r++) {
                cr_assert_lt(fm_ep_first_expert(r, Es[i], R), fm_ep_first_expert(r + 1, Es[i], R), "E %d R %d: rank %d owns none", Es[i], R, r);
                for (int e = fm_ep_first_expert(r, Es[i], R); e < fm_ep_first_expert(r + 1, Es[i], R); e++)
                    cr_assert_eq(fm_ep_owner(e, Es[i], R), r, "E %d R %d: expert %d", Es[i], R, e);
            }
        }
    cr_assert_eq(fm_ep_first_expert(1, 8, 3), 2);
    cr_assert_eq(fm_ep_first_expert(2, 8, 3), 5);
    cr_assert_eq(fm_ep_owner(4, 8, 3), 1);
    cr_assert_eq(fm_ep_owner(5, 8, 3), 2);
}

/* T + r dT tokens a rank, stacked: (0, 8, 2, 64, 5) over 3 ranks is 0, 5 and 10 tokens at rows 0, 0, 5. */
Test(finale_ep, tokens_per_rank_and_their_rows) {
    const gr_shape s = GR_SHAPE(0, 8, 2, 64, 5);
    cr_assert_eq(fm_ep_tokens(&s, 0), 0);
    cr_assert_eq(fm_ep_tokens(&s, 2), 10);
    cr_assert_eq(fm_ep_first_row(&s, 1), 0);
    cr_assert_eq(fm_ep_first_row(&s, 2), 5);
    cr_assert_eq(fm_ep_tokens_all(&s, 3), 15);
    const gr_shape plain = GR_SHAPE(17, 8, 2, 128);
    cr_assert_eq(fm_ep_first_row(&plain, 3), 51);
    cr_assert_eq(fm_ep_tokens_all(&plain, 2), 34);
}

/* By hand: 2 ranks, E = 4 (rank 0 owns experts 0 and 1, rank 1 owns 2 and 3), top_k 2, H 8, one
 * token a rank; scales (0.5, 2, -0.5, 4).
 *   token 0 (rank 0): experts 1 (its own, weight 0.25) and 2 (rank 1's, 0.75): factor 0.25 * 2 +
 *     0.75 * -0.5 = 0.125, magnitude 0.5 + 0.375 = 0.875.
 *   token 1 (rank 1): experts 3 (its own, 0.5) and 0 (rank 0's, 0.5): factor 2 + 0.25 = 2.25. */
Test(finale_ep, worked_round_trip) {
    gr_case c;
    make_case(&c, GR_SHAPE(1, 4, 2, 8), 2, 1);
    cr_assert_eq(c.rows, 2);
    uint16_t *x = (uint16_t *)gr_in(&c, "x");
    int *idx = (int *)gr_in(&c, "topk_idx");
    float *w = (float *)gr_in(&c, "topk_weight"), *scale = (float *)gr_in(&c, "expert_scale");
    const float x0[8] = {1, -2, 0.5f, 0.25f, 3, -1, 0, 2};
    for (int h = 0; h < 8; h++) { x[h] = bf16_round(x0[h]); x[8 + h] = bf16_round(2.0f); }
    idx[0] = 1; idx[1] = 2; w[0] = 0.25f; w[1] = 0.75f;
    idx[2] = 3; idx[3] = 0; w[2] = 0.5f; w[3] = 0.5f;
    scale[0] = 0.5f; scale[1] = 2; scale[2] = -0.5f; scale[3] = 4;
    fm_ep_reference(&c, 0, 2);
    const float *y = gr_ref(&c, "y"), *mag = gr_scale(&c, "y");
    for (int h = 0; h < 8; h++) {
        cr_assert_float_eq(y[h], 0.125f * x0[h], 1e-7, "y[0][%d] = %g", h, y[h]);
        cr_assert_float_eq(mag[h], 0.875f * fabsf(x0[h]), 1e-7, "scale[0][%d] = %g", h, mag[h]);
        cr_assert_float_eq(y[8 + h], 4.5f, 1e-7, "y[1][%d] = %g", h, y[8 + h]);
        cr_assert_float_eq(mag[8 + h], 4.5f, 1e-7);
    }
    gr_case_free(&c);
}

/* The inputs: a token's experts distinct and in range, the routing modes as finale_ep.h says,
 * weights positive and summing to 1, scales of both signs with magnitudes 1/4 to 4. */
Test(finale_ep, inputs_keep_their_promises) {
    const gr_shape shapes[] = {GR_SHAPE(1000, 256, 8, 64), GR_SHAPE(17, 8, 2, 64, 0, 1), GR_SHAPE(33, 64, 8, 136, 0, 2),
                               GR_SHAPE(100, 8, 8, 64, 1), GR_SHAPE(0, 8, 2, 64, 5), GR_SHAPE(257, 256, 1, 64, 3)};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const gr_shape *s = &shapes[i];
        const int E = (int)s->d[1], K = (int)s->d[2], route = s->rank > 5 ? (int)s->d[5] : 0;
        gr_case c;
        make_case(&c, *s, 3, 40 + i);
        cr_assert_eq(c.rows, fm_ep_tokens_all(s, 3));
        const int *idx = gr_in(&c, "topk_idx");
        const float *w = gr_in(&c, "topk_weight"), *scale = gr_in(&c, "expert_scale");
        for (long t = 0; t < c.rows; t++) {
            double sum = 0;
            for (int j = 0; j < K; j++) {
                const int e = idx[t * K + j];
                cr_assert(e >= 0 && e < E, "shape %zu token %ld: expert %d", i, t, e);
                if (route == 1) cr_assert_lt(e, K, "routing 1 gives the first top_k experts only");
                if (route == 2) cr_assert_geq(e, E - K, "routing 2 gives the last top_k experts only");
                for (int q = 0; q < j; q++) cr_assert_neq(idx[t * K + q], e, "shape %zu token %ld: expert %d twice", i, t, e);
                cr_assert_gt(w[t * K + j], 0.0f);
                sum += w[t * K + j];
            }
            cr_assert(fabs(sum - 1) < 1e-6, "shape %zu token %ld: weights sum to %.9f", i, t, sum);
        }
        int negative = 0;
        for (int e = 0; e < E; e++) {
            cr_assert(fabsf(scale[e]) >= 0.25f && fabsf(scale[e]) <= 4.0f, "scale %g", scale[e]);
            negative += scale[e] < 0;
        }
        if (E >= 64) cr_assert(negative > 0 && negative < E, "scales of both signs: %d negative of %d", negative, E);
        gr_case_free(&c);
    }
}

/* The GPU's arithmetic, emulated: each term's expert output bf16(scale * x), an FP32 sum in slot
 * order, y rounded once more. With drop_token, that token loses its largest term (a small one can
 * hide under the roundings: weights go down to a few percent, scales to 1/4). */
static void emulate(gr_case *c, uint16_t *out, int drop_token, bool abs_scale) {
    const int K = (int)c->shape.d[2], H = (int)c->shape.d[3];
    const uint16_t *x = gr_in(c, "x");
    const int *idx = gr_in(c, "topk_idx");
    const float *w = gr_in(c, "topk_weight"), *scale = gr_in(c, "expert_scale");
    for (long t = 0; t < c->rows; t++) {
        int drop = -1;
        for (int j = 0; t == drop_token && j < K; j++)
            if (drop < 0 || fabsf(w[t * K + j] * scale[idx[t * K + j]]) > fabsf(w[t * K + drop] * scale[idx[t * K + drop]])) drop = j;
        for (int h = 0; h < H; h++) {
            float acc = 0;
            for (int j = 0; j < K; j++) {
                if (j == drop) continue;
                const float s = abs_scale ? fabsf(scale[idx[t * K + j]]) : scale[idx[t * K + j]];
                acc += w[t * K + j] * bf16_value(bf16_round(s * bf16_value(x[t * H + h])));
            }
            out[t * H + h] = bf16_round(acc);
        }
    }
}

Test(finale_ep, tolerance_passes_the_roundings_and_fails_a_wrong_term) {
    const gr_shape shapes[] = {GR_SHAPE(300, 256, 8, 64), GR_SHAPE(129, 256, 8, 7168, 7), GR_SHAPE(1000, 8, 2, 64)};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        gr_case c;
        make_case(&c, shapes[i], 2, 70 + i);
        fm_ep_reference(&c, 0, c.rows);
        const gr_buffer *y = gr_find(&c, "y");
        uint16_t *out = malloc(sizeof(uint16_t) * y->count);
        const double tol = fm_ep_tolerance(&shapes[i]);
        gr_comparison cmp;
        emulate(&c, out, -1, false);
        gr_compare_scaled(GR_BF16, out, y->ref, y->scale, y->count, y->row_len, NULL, tol, &cmp);
        cr_assert(cmp.ok, "shape %zu: the GPU's roundings fail: rel %.3e (tol %.3e), %ld bad", i, cmp.rel_l2, tol, cmp.n_bad);
        cr_assert_lt(cmp.rel_l2, tol / 1.5, "shape %zu: rel %.3e leaves too little margin under %.3e", i, cmp.rel_l2, tol);
        emulate(&c, out, (int)(c.rows / 2), false);
        gr_compare_scaled(GR_BF16, out, y->ref, y->scale, y->count, y->row_len, NULL, tol, &cmp);
        cr_assert(!cmp.ok, "shape %zu: a token missing one of its terms passes", i);
        emulate(&c, out, -1, true);
        gr_compare_scaled(GR_BF16, out, y->ref, y->scale, y->count, y->row_len, NULL, tol, &cmp);
        cr_assert(!cmp.ok, "shape %zu: scales without their signs pass", i);
        free(out);
        gr_case_free(&c);
    }
}

/* The byte count: a rank's rows out and back, 2 * T * top_k * H * 2 (DeepSeek's 4096 x 8 x 7168:
 * 940 MB). */
Test(finale_ep, bytes) {
    const gr_shape s = GR_SHAPE(4096, 256, 8, 7168);
    cr_assert_float_eq(fm_ep_bytes(&s), 2.0 * 4096 * 8 * 7168 * 2, 1);
}
