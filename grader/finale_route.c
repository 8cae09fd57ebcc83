/* Session 14, exercise 02 as the grader sees it: the MoE router's decisions for T tokens over E
 * experts (finale/14-deepseek/exercises.h, moe_route), shape (T, E, top_k). The reference picks as
 * the mini-model does (finale/mini/engine/moe.c) and groups the (token, slot) pairs by a stable
 * counting sort, which is the one order exercises.h allows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finale.h"

#define RT(s) ((s)->d[0])
#define RE(s) ((s)->d[1])
#define RK(s) ((s)->d[2])

/* ---- the model's rule ------------------------------------------------------------------------- */

/* The gate score as the model computes it, in float (moe.c: 1 / (1 + expf(-u))). */
static float sigmoid_f(float u) { return 1.0f / (1.0f + expf(-u)); }

void fm_route_token(const float *logits, const float *bias, int E, int top_k, int *chosen, double *weight) {
    float key[FM_MAX_EXPERTS];
    unsigned char taken[FM_MAX_EXPERTS] = {0};
    for (int e = 0; e < E; e++) key[e] = sigmoid_f(logits[e]) + bias[e];
    /* top_k rounds of "the best expert not yet taken"; strict > keeps the lower index on a tie. */
    for (int r = 0; r < top_k; r++) {
        int best = -1;
        for (int e = 0; e < E; e++)
            if (!taken[e] && (best < 0 || key[e] > key[best])) best = e;
        taken[best] = 1;
        chosen[r] = best;
    }
    /* The weights from the exact sigmoid: the bias steers the choice only. */
    double s[FM_MAX_TOP_K], sum = 0;
    for (int r = 0; r < top_k; r++) sum += s[r] = 1.0 / (1.0 + exp(-(double)logits[chosen[r]]));
    for (int r = 0; r < top_k; r++) weight[r] = s[r] / sum;
}

/* ---- buffers ------------------------------------------------------------------------------------ */

void fm_route_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    const long T = RT(s), E = RE(s), K = RK(s);
    if (T < 1 || E < 1 || E > FM_MAX_EXPERTS || K < 1 || K > FM_MAX_TOP_K || K > E) {
        fprintf(stderr, "grader: routing shape T %ld, E %ld, top_k %ld: want T >= 1, E <= %d, 1 <= top_k <= min(E, %d)\n",
                T, E, K, FM_MAX_EXPERTS, FM_MAX_TOP_K);
        exit(70);
    }
    gr_input(c, "logits", GR_F32, (size_t)(T * E), GR_FILL_SIGNED);
    gr_input(c, "bias", GR_F32, (size_t)E, GR_FILL_SIGNED);
    gr_output(c, "topk_idx", GR_I32, (size_t)(T * K), T * K);
    gr_output(c, "topk_weight", GR_F32, (size_t)(T * K), T * K);
    gr_output(c, "expert_count", GR_I32, (size_t)E, E);
    gr_output(c, "expert_offset", GR_I32, (size_t)(E + 1), E + 1);
    gr_output(c, "perm", GR_I32, (size_t)(T * K), T * K);
    gr_output(c, "inv_perm", GR_I32, (size_t)(T * K), T * K);
    c->rows = 1;   /* the grouping is global: the whole case is one reference row */
}

/* ---- inputs ------------------------------------------------------------------------------------- */

typedef struct {
    float key;
    int e;
} keyed;

static int by_key(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->e - y->e;
}

/* Logits uniform in [-4, 4) (scores from 0.02 to 0.98), biases on a grid of five values from -1/4
 * to 1/4: large enough to change choices (a kernel that ignores the bias fails), few enough that
 * experts share them. A quarter of the experts then copy the logit of an earlier expert with the
 * same bias: an exact tie, which the lower index must win. Last, any two keys of a token closer
 * than FM_ROUTE_MARGIN and not an exact tie are drawn again. */
void fm_route_adjust(gr_case *c) {
    const gr_shape *s = &c->shape;
    const int T = (int)RT(s), E = (int)RE(s);
    float *logits = (float *)gr_in(c, "logits"), *bias = (float *)gr_in(c, "bias");
    for (int e = 0; e < E; e++) bias[e] = floorf((bias[e] + 1.0f) * 2.5f) * 0.125f - 0.25f;  /* -1/4 .. 1/4 */
    keyed order[FM_MAX_EXPERTS];
    for (int t = 0; t < T; t++) {
        float *u = logits + (size_t)t * E;
        for (int e = 0; e < E; e++) u[e] *= 4.0f;
        for (int e = 1; e < E; e++) {
            if (gr_random_uniform(c, 0, 1) >= 0.25) continue;
            const int other = (int)gr_random_uniform(c, 0, e);
            if (bias[other] == bias[e]) u[e] = u[other];
        }
        for (int attempt = 0;; attempt++) {
            if (attempt == 10000) {
                fprintf(stderr, "grader: could not separate the routing keys of token %d\n", t);
                exit(70);
            }
            for (int e = 0; e < E; e++) order[e] = (keyed){sigmoid_f(u[e]) + bias[e], e};
            qsort(order, (size_t)E, sizeof order[0], by_key);
            int redrawn = 0;
            for (int i = 1; i < E; i++) {
                const int a = order[i - 1].e, b = order[i].e;
                const int exact_tie = u[a] == u[b] && bias[a] == bias[b];
                if (!exact_tie && order[i].key - order[i - 1].key < FM_ROUTE_MARGIN) {
                    u[b] = (float)gr_random_uniform(c, -4, 4);
                    redrawn = 1;
                }
            }
            if (!redrawn) break;
        }
    }
}

/* ---- reference ---------------------------------------------------------------------------------- */

void fm_route_reference(gr_case *c, long row_begin, long row_end) {
    if (row_begin >= row_end) return;
    const gr_shape *s = &c->shape;
    const int T = (int)RT(s), E = (int)RE(s), K = (int)RK(s);
    const float *logits = gr_in(c, "logits"), *bias = gr_in(c, "bias");
    int *idx = gr_ref(c, "topk_idx"), *count = gr_ref(c, "expert_count"), *offset = gr_ref(c, "expert_offset");
    int *perm = gr_ref(c, "perm"), *inv_perm = gr_ref(c, "inv_perm");
    float *weight = gr_ref(c, "topk_weight");
    double w[FM_MAX_TOP_K];
    memset(count, 0, sizeof(int) * (size_t)E);
    for (int t = 0; t < T; t++) {
        fm_route_token(logits + (size_t)t * E, bias, E, K, idx + (size_t)t * K, w);
        for (int j = 0; j < K; j++) {
            weight[(size_t)t * K + j] = (float)w[j];
            count[idx[(size_t)t * K + j]]++;
        }
    }
    offset[0] = 0;
    for (int e = 0; e < E; e++) offset[e + 1] = offset[e] + count[e];
    /* A stable counting sort: pairs visited in ascending index, each placed after its expert's
     * earlier ones. */
    int *next = malloc(sizeof(int) * (size_t)E);
    if (!next) { fprintf(stderr, "grader: out of host memory\n"); exit(70); }
    memcpy(next, offset, sizeof(int) * (size_t)E);
    for (long p = 0; p < (long)T * K; p++) {
        const int pos = next[idx[p]]++;
        perm[pos] = (int)p;
        inv_perm[p] = pos;
    }
    free(next);
}

/* Integers exact, weights to float rounding. The tolerance serves both: an element is wrong when
 * it is off by more than 8 tol (|ref| + rms(ref)) (compare.h), which for integers up to M =
 * max(T * top_k, E + 1) is below 1 while tol < 1 / (16 M); the weights' float error (an expf, a
 * sum of top_k, a division: a few eps each, 8 eps at worst) fits under 16 eps, and under the
 * integers' cap at DeepSeek's bench shape (1 / (17 * 32768), 15 eps). */
double fm_route_tolerance(const gr_shape *s) {
    const double pairs = (double)RT(s) * RK(s), M = fmax(pairs, (double)RE(s) + 1);
    return fmin(16 * GR_EPS_F32, 1.0 / (17 * M));
}

/* The logits and biases read once; every output written once. */
double fm_route_bytes(const gr_shape *s) {
    const double T = RT(s), E = RE(s), K = RK(s);
    return 4 * (T * E + E) + 4 * (4 * T * K) + 4 * (2 * E + 1);
}

void fm_route_note(const gr_shape *s, char *buf, size_t len) {
    const double logit_mb = 4.0 * RT(s) * RE(s) / 1e6;
    snprintf(buf, len, "%.2f MB of logits, %ld (token, slot) pairs to group; %s", logit_mb, RT(s) * RK(s),
             logit_mb < 1 ? "a few microseconds of launches and a scan: launch-bound" : "memory-bound on the logits");
}
