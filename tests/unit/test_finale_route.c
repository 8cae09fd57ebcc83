/* Session 14's MoE routing as the grader sees it (grader/finale_route.c): the reference's choices
 * are the mini-model's (finale/mini/engine/moe.c) for the same logits, ties to the lower expert, a
 * worked example by hand, the grouping's invariants, the inputs' margin, and the tolerance's claim
 * that an integer off by one fails while float rounding of the weights passes. Host cases: no GPU. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "engine/moe.h"
#include "finale.h"
#include "internal.h"
#include "rng.h"

static const gr_exercise ROUTE_EX = {.name = "unit_route", .on_host = true, .adjust_inputs = fm_route_adjust};

static void make_case(gr_case *c, gr_shape s, uint64_t seed) {
    char err[256] = "";
    gr_case_init(c, &ROUTE_EX, s, seed);
    fm_route_declare(c);
    cr_assert(gr_case_alloc(c, err, sizeof err), "alloc: %s", err);
    gr_case_fill_inputs(c);
    fm_route_reference(c, 0, 1);
}

/* moe.c's router on logits u: an identity router matrix (d_model = E) makes router . a = a exactly. */
static void mini_route(const float *u, const float *bias, int E, int top_k, int *chosen, float *gates) {
    MiniConfig cfg = {0};
    cfg.n_experts = E;
    cfg.top_k = top_k;
    cfg.d_model = E;
    float *eye = calloc((size_t)E * E, sizeof(float)), scratch[FM_MAX_EXPERTS];
    for (int e = 0; e < E; e++) eye[e * E + e] = 1.0f;
    MiniBlock block;
    memset(&block, 0, sizeof block);
    block.router = eye;
    block.bias = bias;
    mini_moe_route(&cfg, &block, u, chosen, gates, scratch);
    free(eye);
}

static int ascending(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* The mini-model's shape, E = 8 and top_k = 2, on the check's inputs (planted ties among them) and
 * on plain uniform logits: the same experts, the same weights to float rounding. */
static void agree_with_mini(const float *logits, const float *bias, int T, int E, int K) {
    for (int t = 0; t < T; t++) {
        int ours[FM_MAX_TOP_K], mini[FM_MAX_TOP_K];
        double w[FM_MAX_TOP_K];
        float gates[FM_MAX_TOP_K];
        fm_route_token(logits + (size_t)t * E, bias, E, K, ours, w);
        mini_route(logits + (size_t)t * E, bias, E, K, mini, gates);
        /* moe.c lists its choice in ascending expert order; ours in the order picked. */
        int sorted[FM_MAX_TOP_K];
        double w_sorted[FM_MAX_TOP_K];
        memcpy(sorted, ours, sizeof(int) * K);
        qsort(sorted, (size_t)K, sizeof(int), ascending);
        for (int j = 0; j < K; j++)
            for (int i = 0; i < K; i++) if (ours[i] == sorted[j]) w_sorted[j] = w[i];
        for (int j = 0; j < K; j++) {
            cr_assert_eq(sorted[j], mini[j], "token %d: expert %d of the choice is %d, moe.c has %d", t, j, sorted[j], mini[j]);
            cr_assert(fabs(w_sorted[j] - gates[j]) <= 1e-6 * fabs(w_sorted[j]), "token %d: weight %.9g, moe.c %.9g", t,
                      w_sorted[j], gates[j]);
        }
    }
}

Test(finale_route, the_mini_models_choices_on_the_checks_inputs) {
    gr_case c;
    make_case(&c, GR_SHAPE(4000, 8, 2), 0x14);
    agree_with_mini(gr_in(&c, "logits"), gr_in(&c, "bias"), 4000, 8, 2);
    gr_case_free(&c);
}

Test(finale_route, the_mini_models_choices_on_uniform_logits) {
    enum { T = 5000, E = 8 };
    static float u[T * E];
    float bias[E];
    uint64_t s = 7;
    for (int i = 0; i < T * E; i++) u[i] = 8.0f * gr_rng_unit_f32(&s) - 4.0f;
    for (int e = 0; e < E; e++) bias[e] = 0.5f * gr_rng_unit_f32(&s) - 0.25f;
    agree_with_mini(u, bias, T, E, 2);
    /* And exact ties everywhere: every logit and bias equal, so the lowest experts win. */
    for (int i = 0; i < T * E; i++) u[i] = 0.5f;
    for (int e = 0; e < E; e++) bias[e] = 0.0f;
    agree_with_mini(u, bias, 3, E, 2);
}

/* By hand: E = 4, top_k = 2. u = (0, 0, 2, -1), bias = (0.1, 0.1, -0.5, 0): s = (0.5, 0.5, 0.8808,
 * 0.2689), keys (0.6, 0.6, 0.3808, 0.2689). Experts 0 and 1 tie at 0.6: 0 is picked first, then 1,
 * though expert 2 has the largest score: the bias decides. Weights 0.5 / 1.0 each. */
Test(finale_route, worked_example_ties_and_bias) {
    const float u[4] = {0, 0, 2, -1}, bias[4] = {0.1f, 0.1f, -0.5f, 0};
    int chosen[2];
    double w[2];
    fm_route_token(u, bias, 4, 2, chosen, w);
    cr_assert_eq(chosen[0], 0);
    cr_assert_eq(chosen[1], 1);
    cr_assert_float_eq(w[0], 0.5, 1e-15);
    cr_assert_float_eq(w[1], 0.5, 1e-15);
}

/* The grouping: counts sum to T * top_k, offsets are their prefix, perm lists each expert's pairs
 * in ascending pair index, inv_perm is its inverse. */
Test(finale_route, grouping_invariants) {
    const gr_shape shapes[] = {GR_SHAPE(1, 256, 8), GR_SHAPE(17, 64, 2), GR_SHAPE(2049, 256, 8), GR_SHAPE(5, 8, 8)};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        gr_case c;
        make_case(&c, shapes[i], 100 + i);
        const int T = (int)shapes[i].d[0], E = (int)shapes[i].d[1], K = (int)shapes[i].d[2], N = T * K;
        const int *idx = gr_ref(&c, "topk_idx"), *count = gr_ref(&c, "expert_count"), *off = gr_ref(&c, "expert_offset");
        const int *perm = gr_ref(&c, "perm"), *inv = gr_ref(&c, "inv_perm");
        cr_assert_eq(off[0], 0);
        cr_assert_eq(off[E], N);
        for (int e = 0; e < E; e++) cr_assert_eq(off[e + 1] - off[e], count[e]);
        for (int e = 0; e < E; e++)
            for (int p = off[e]; p < off[e + 1]; p++) {
                cr_assert_eq(idx[perm[p]], e, "perm[%d] = %d is not a pair of expert %d", p, perm[p], e);
                if (p > off[e]) cr_assert_lt(perm[p - 1], perm[p], "expert %d's pairs out of order", e);
            }
        for (int p = 0; p < N; p++) cr_assert_eq(perm[inv[p]], p);
        for (int t = 0; t < T; t++)   /* a token's experts are distinct */
            for (int a = 0; a < K; a++)
                for (int b = a + 1; b < K; b++) cr_assert_neq(idx[t * K + a], idx[t * K + b]);
        gr_case_free(&c);
    }
}

/* The inputs: keys of a token either equal (same logit, same bias) or FM_ROUTE_MARGIN apart; some
 * exact ties are planted; biases take the five grid values. */
Test(finale_route, inputs_keep_the_margin_and_plant_ties) {
    gr_case c;
    make_case(&c, GR_SHAPE(500, 256, 8), 3);
    const float *u = gr_in(&c, "logits"), *bias = gr_in(&c, "bias");
    long ties = 0;
    for (int t = 0; t < 500; t++)
        for (int a = 0; a < 256; a++)
            for (int b = a + 1; b < 256; b++) {
                const float ka = 1.0f / (1.0f + expf(-u[t * 256 + a])) + bias[a];
                const float kb = 1.0f / (1.0f + expf(-u[t * 256 + b])) + bias[b];
                if (u[t * 256 + a] == u[t * 256 + b] && bias[a] == bias[b]) { ties++; continue; }
                cr_assert_geq(fabsf(ka - kb), (float)FM_ROUTE_MARGIN, "token %d, experts %d and %d: keys %.9g and %.9g",
                              t, a, b, ka, kb);
            }
    cr_assert_gt(ties, 500, "only %ld exact ties planted", ties);
    for (int e = 0; e < 256; e++) cr_assert_eq(fmodf(bias[e] * 8.0f, 1.0f), 0.0f, "bias %g off the grid", bias[e]);
    gr_case_free(&c);
}

/* The tolerance: any integer off by one fails, at the largest values the check and bench have; a
 * weight off by a few float ulps passes. */
Test(finale_route, tolerance_exact_for_integers) {
    const gr_shape shapes[] = {GR_SHAPE(4096, 256, 8), GR_SHAPE(1, 256, 1), GR_SHAPE(2049, 256, 8)};
    for (size_t i = 0; i < 3; i++) {
        const double tol = fm_route_tolerance(&shapes[i]);
        const long n = shapes[i].d[0] * shapes[i].d[2];
        int *ref = malloc(sizeof(int) * (size_t)n), *out = malloc(sizeof(int) * (size_t)n);
        for (long p = 0; p < n; p++) ref[p] = out[p] = (int)p;
        out[n - 1] += 1;
        gr_comparison cmp;
        gr_compare(GR_I32, out, ref, (size_t)n, n, NULL, tol, &cmp);
        cr_assert(!cmp.ok, "an index off by one passed at shape %zu", i);
        free(ref);
        free(out);
    }
    const gr_shape bench = GR_SHAPE(4096, 256, 8);
    float ref[8] = {0.3f, 0.2f, 0.1f, 0.1f, 0.1f, 0.1f, 0.05f, 0.05f}, out[8];
    for (int i = 0; i < 8; i++) out[i] = ref[i] * (1 + 8 * (float)GR_EPS_F32);
    gr_comparison cmp;
    gr_compare(GR_F32, out, ref, 8, 8, NULL, fm_route_tolerance(&bench), &cmp);
    cr_assert(cmp.ok, "weights 8 ulps off fail: %g", cmp.rel_l2);
}
