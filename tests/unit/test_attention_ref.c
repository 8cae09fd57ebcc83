/* The attention references (grader/ref/attention.c) against cases worked by hand: softmax, the
 * online softmax and its trace, attention with and without the causal mask, the log-sum-exp. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "ref/attention.h"
#include "rng.h"
#include "unit_helpers.h"

/* One float32 rounding of a float64 result: about 6e-8 relative; allow a few. */
#define FLOAT_REL 4e-7

/* ---- softmax ---------------------------------------------------------------------------------- */

Test(attention_ref, softmax_by_hand) {
    /* [0, ln 3]: exp gives 1 and 3, the sum 4, so 1/4 and 3/4. */
    const float x[] = {0.0f, (float)log(3.0)};
    float p[2];
    ref_softmax_row(x, 2, p);
    unit_assert_rel(p[0], 0.25, FLOAT_REL);
    unit_assert_rel(p[1], 0.75, FLOAT_REL);
}

Test(attention_ref, softmax_ignores_an_offset_that_would_overflow_exp) {
    /* exp(1000) is past float64's range; subtracting the max first keeps every term in (0, 1]. */
    const float small[] = {0, 1, 2}, big[] = {1000, 1001, 1002}, neg[] = {-1000, -999, -998};
    float a[3], b[3], c[3];
    ref_softmax_row(small, 3, a);
    ref_softmax_row(big, 3, b);
    ref_softmax_row(neg, 3, c);
    for (int j = 0; j < 3; j++) {
        cr_assert(isfinite(b[j]) && isfinite(c[j]));
        unit_assert_rel(b[j], a[j], FLOAT_REL);
        unit_assert_rel(c[j], a[j], FLOAT_REL);
    }
}

Test(attention_ref, softmax_masked_entries_get_zero) {
    const float x[] = {1.0f, -INFINITY, 1.0f, -INFINITY};
    float p[4];
    ref_softmax_row(x, 4, p);
    cr_assert_eq(p[1], 0.0f);
    cr_assert_eq(p[3], 0.0f);
    unit_assert_rel(p[0], 0.5, FLOAT_REL);
    unit_assert_rel(p[2], 0.5, FLOAT_REL);
    const float none[] = {-INFINITY, -INFINITY};
    ref_softmax_row(none, 2, p);
    cr_assert(p[0] == 0.0f && p[1] == 0.0f, "a fully masked row gives zeros, got %g %g", p[0], p[1]);
}

/* ---- online softmax --------------------------------------------------------------------------- */

typedef struct {
    int steps;
    ref_online_step seen[4];
} trace_log;

static void record_step(const ref_online_step *st, void *ctx) {
    trace_log *log = ctx;
    if (log->steps < 4) log->seen[log->steps] = *st;
    log->steps++;
}

Test(attention_ref, online_softmax_board_example_by_hand) {
    /* The board demo: [1, 3, 2, 5] in tiles [1, 3] and [2, 5].
     *   tile 1: max 3, sum e^-2 + e^0                       = 1.1353353
     *   tile 2: max 5, old sum times e^(3-5), plus e^-3 + 1 = 1.2034377 = sum of exp(x - 5) */
    const float x[] = {1, 3, 2, 5};
    float online[4], direct[4];
    trace_log log = {0};
    ref_online_softmax_row(x, 4, 2, online, record_step, &log);
    ref_softmax_row(x, 4, direct);

    cr_assert_eq(log.steps, 2);
    const ref_online_step *a = &log.seen[0], *b = &log.seen[1];
    cr_assert(a->step == 1 && a->begin == 0 && a->end == 2);
    cr_assert(a->old_max == -INFINITY && a->running_max == 3.0 && a->tile_max == 3.0 && a->rescale == 0.0);
    unit_assert_rel(a->running_sum, exp(-2.0) + 1.0, 1e-15);
    cr_assert(b->step == 2 && b->begin == 2 && b->end == 4);
    cr_assert(b->old_max == 3.0 && b->running_max == 5.0 && b->tile_max == 5.0);
    unit_assert_rel(b->rescale, exp(-2.0), 1e-15);
    unit_assert_rel(b->tile_sum, exp(-3.0) + 1.0, 1e-15);
    unit_assert_rel(b->running_sum, exp(-4.0) + exp(-2.0) + exp(-3.0) + 1.0, 1e-15);
    for (int j = 0; j < 4; j++) unit_assert_rel(online[j], direct[j], FLOAT_REL);
}

Test(attention_ref, online_softmax_equals_direct_for_every_tile_width) {
    enum { N = 37 };
    float x[N], direct[N], online[N];
    uint64_t s = 0xA77E;
    for (int j = 0; j < N; j++) x[j] = 50.0f + 8.0f * (float)(gr_rng_unit_f32(&s) - 0.5);
    ref_softmax_row(x, N, direct);
    const int tiles[] = {1, 2, 3, 4, 5, 8, 16, 36, 37, 64, 0};
    for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++) {
        trace_log log = {0};
        ref_online_softmax_row(x, N, tiles[t], online, record_step, &log);
        int width = tiles[t] < 1 || tiles[t] > N ? N : tiles[t];
        cr_assert_eq(log.steps, (N + width - 1) / width, "tile %d: %d steps", tiles[t], log.steps);
        for (int j = 0; j < N; j++) unit_assert_rel(online[j], direct[j], FLOAT_REL);
    }
}

Test(attention_ref, online_softmax_max_that_never_moves_rescales_by_one) {
    const float x[] = {9, 1, 2, 3};
    trace_log log = {0};
    float out[4];
    ref_online_softmax_row(x, 4, 1, out, record_step, &log);
    for (int i = 1; i < 4; i++)
        cr_assert_eq(log.seen[i].rescale, 1.0, "step %d rescales by %g", i + 1, log.seen[i].rescale);
}

/* ---- attention -------------------------------------------------------------------------------- */

Test(attention_ref, attention_two_keys_by_hand) {
    /* d = 2, scale 1, q = [ln 3, 0]; keys [1, 0] and [0, 1] score ln 3 and 0: probabilities 3/4, 1/4.
     * Values [1, 2] and [3, -4]: out = 3/4 [1, 2] + 1/4 [3, -4] = [1.5, 0.5]; lse = ln(3 + 1).
     * Magnitudes: 3/4 |v0| + 1/4 |v1| = [1.5, 2.5]. */
    const float q[] = {(float)log(3.0), 0}, k[] = {1, 0, 0, 1}, v[] = {1, 2, 3, -4};
    float out[2], lse, mag[2];
    ref_attention_row(q, k, v, 2, 2, 1.0f, 2, out, &lse, mag);
    unit_assert_rel(out[0], 1.5, FLOAT_REL);
    unit_assert_rel(out[1], 0.5, 2e-6);
    unit_assert_rel(lse, log(4.0), FLOAT_REL);
    unit_assert_rel(mag[0], 1.5, FLOAT_REL);
    unit_assert_rel(mag[1], 2.5, FLOAT_REL);

    /* The whole-tensor entry point agrees, and takes lse = NULL. */
    float out2[2];
    ref_attention(q, k, v, out2, NULL, 1, 1, 1, 2, 2, 1.0f, false);
    cr_assert(out2[0] == out[0] && out2[1] == out[1]);
}

Test(attention_ref, scale_multiplies_the_scores) {
    /* scale 0.5 on q = [2 ln 3, 0] gives the same scores as above. */
    const float q[] = {(float)(2 * log(3.0)), 0}, k[] = {1, 0, 0, 1}, v[] = {1, 2, 3, -4};
    float out[2], lse;
    ref_attention_row(q, k, v, 2, 2, 0.5f, 2, out, &lse, NULL);
    unit_assert_rel(out[0], 1.5, FLOAT_REL);
    unit_assert_rel(lse, log(4.0), FLOAT_REL);
}

Test(attention_ref, causal_mask_aligned_to_the_end) {
    /* sq = 2 new queries after 3 cached keys (skv = 5): row 0 is position 3 and sees keys 0..3,
     * row 1 is position 4 and sees all five. */
    cr_assert_eq(ref_attention_visible(0, 2, 5, true), 4);
    cr_assert_eq(ref_attention_visible(1, 2, 5, true), 5);
    cr_assert_eq(ref_attention_visible(0, 2, 5, false), 5);
    /* Square: the lower triangle. */
    cr_assert_eq(ref_attention_visible(0, 4, 4, true), 1);
    cr_assert_eq(ref_attention_visible(3, 4, 4, true), 4);
    /* More queries than keys: the first rows see nothing. */
    cr_assert_eq(ref_attention_visible(0, 3, 1, true), 0);
    cr_assert_eq(ref_attention_visible(1, 3, 1, true), 0);
    cr_assert_eq(ref_attention_visible(2, 3, 1, true), 1);

    /* Key 4 scores far higher than the others and carries a huge value: row 1 is dominated by it,
     * row 0 must not notice it at all. */
    enum { SQ = 2, SKV = 5, D = 2 };
    float q[SQ * D] = {1, 0, 1, 0};
    float k[SKV * D] = {0.1f, 0, 0.2f, 0, 0.3f, 0, 0.4f, 0, 30.0f, 0};
    float v[SKV * D] = {1, 1, 2, 2, 3, 3, 4, 4, 1000, 1000};
    float out[SQ * D], lse[SQ], row0[D], lse0;
    ref_attention(q, k, v, out, lse, 1, 1, SQ, SKV, D, 1.0f, true);
    ref_attention_row(q, k, v, SKV, D, 1.0f, 4, row0, &lse0, NULL);
    cr_assert(out[0] == row0[0] && out[1] == row0[1] && lse[0] == lse0);
    cr_assert(out[0] > 1 && out[0] < 4, "row 0 averages values 1..4, got %g", out[0]);
    cr_assert(out[2] > 999, "row 1 is dominated by key 4, got %g", out[2]);
}

Test(attention_ref, row_that_sees_no_key_gives_zero_and_minus_infinity) {
    /* sq = 3, skv = 1, causal: rows 0 and 1 see nothing; row 2 sees key 0 and copies its value. */
    const float q[] = {1, 2, 3, 4, 5, 6}, k[] = {1, 1}, v[] = {7, -8};
    float out[6], lse[3];
    ref_attention(q, k, v, out, lse, 1, 1, 3, 1, 2, 0.5f, true);
    for (int i = 0; i < 2; i++) {
        cr_assert(out[2 * i] == 0.0f && out[2 * i + 1] == 0.0f, "row %d should be zeros", i);
        cr_assert(isinf(lse[i]) && lse[i] < 0, "row %d lse = %g, expected -inf", i, lse[i]);
    }
    cr_assert(out[4] == 7.0f && out[5] == -8.0f);
    unit_assert_rel(lse[2], 0.5 * (5 + 6), FLOAT_REL);
    float mag[2];
    ref_attention_row(q, k, v, 1, 2, 1.0f, 0, out, lse, mag);
    cr_assert(mag[0] == 0.0f && mag[1] == 0.0f);
}

Test(attention_ref, lse_is_the_log_of_the_sum_of_exp_scores) {
    enum { SKV = 19, D = 8 };
    float q[D], k[SKV * D], v[SKV * D], out[D], lse;
    uint64_t s = 0x15E;
    for (int i = 0; i < D; i++) q[i] = (float)(2 * gr_rng_unit_f32(&s) - 1);
    for (int i = 0; i < SKV * D; i++) {
        k[i] = (float)(2 * gr_rng_unit_f32(&s) - 1);
        v[i] = (float)(2 * gr_rng_unit_f32(&s) - 1);
    }
    const float scale = 1.0f / sqrtf((float)D);
    for (int visible = 1; visible <= SKV; visible += 6) {
        double sum = 0;
        for (int j = 0; j < visible; j++) {
            double dot = 0;
            for (int c = 0; c < D; c++) dot += (double)q[c] * k[j * D + c];
            sum += exp(scale * dot);
        }
        ref_attention_row(q, k, v, SKV, D, scale, visible, out, &lse, NULL);
        unit_assert_rel(lse, log(sum), FLOAT_REL);
    }
}

Test(attention_ref, large_scores_do_not_overflow) {
    /* Scores 10000 and 9900: exp(10000) overflows any float, exp(score - max) does not. */
    const float q[] = {100, 0}, k[] = {100, 0, 99, 0}, v[] = {1, -1, 5, 5};
    float out[2], lse;
    ref_attention_row(q, k, v, 2, 2, 1.0f, 2, out, &lse, NULL);
    cr_assert(isfinite(out[0]) && isfinite(out[1]) && isfinite(lse));
    unit_assert_rel(out[0], 1.0, FLOAT_REL);
    unit_assert_rel(out[1], -1.0, FLOAT_REL);
    unit_assert_rel(lse, 10000.0, FLOAT_REL);
    /* Very negative scores: exp of each underflows, but the row still sums to one. */
    const float qn[] = {-100, 0};
    ref_attention_row(qn, k, v, 2, 2, 1.0f, 2, out, &lse, NULL);
    unit_assert_rel(out[0], 5.0, FLOAT_REL);
    unit_assert_rel(lse, -9900.0, FLOAT_REL);
}

Test(attention_ref, heads_and_batches_use_their_own_keys) {
    /* batch 2, heads 1, one key each: every row copies its own head's single value. */
    const float q[] = {1, 1}, k[] = {1, 2}, v[] = {3, 4};
    float out[2], lse[2];
    ref_attention(q, k, v, out, lse, 2, 1, 1, 1, 1, 1.0f, false);
    cr_assert(out[0] == 3.0f && out[1] == 4.0f);
    cr_assert(lse[0] == 1.0f && lse[1] == 2.0f);
}
