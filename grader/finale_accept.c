/* Session 14, exercise 04 as the grader sees it: speculative decoding's verify step for a batch
 * (finale/14-deepseek/exercises.h, accept_greedy and accept_sampled). Greedy shapes are (B, k),
 * sampled ones (B, k, V). Outputs are integers, compared exactly; the sampled inputs keep every
 * random number clear of the decisions it takes, so that float arithmetic on the GPU and float64
 * here cannot legitimately disagree. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finale.h"

#define AB(s) ((s)->d[0])
#define AK(s) ((s)->d[1])
#define AV(s) ((s)->d[2])
#define GREEDY_VOCAB 32000   /* token ids of the greedy inputs: 0 .. GREEDY_VOCAB - 1 */

static void declare_outputs(gr_case *c, long B, long k) {
    gr_output(c, "accepted", GR_I32, (size_t)B, 1);
    gr_output(c, "out_tokens", GR_I32, (size_t)(B * (k + 1)), k + 1);
    c->rows = B;   /* a reference row: one sequence */
}

static void bad_shape(const gr_shape *s, const char *want) {
    fprintf(stderr, "grader: accept shape (");
    for (int i = 0; i < s->rank; i++) fprintf(stderr, "%s%ld", i ? ", " : "", s->d[i]);
    fprintf(stderr, "): want %s\n", want);
    exit(70);
}

/* The common tail of both rules: n accepted drafts, then the target's token, then -1. */
static void write_tokens(const int *draft, int n, int k, int token, int *out) {
    for (int i = 0; i < n; i++) out[i] = draft[i];
    out[n] = token;
    for (int i = n + 1; i <= k; i++) out[i] = -1;
}

/* ==== greedy ===================================================================================== */

void fm_greedy_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    if (s->rank != 2 || AB(s) < 1 || AK(s) < 1) bad_shape(s, "(B, k) with B >= 1, k >= 1");
    gr_input(c, "draft", GR_I32, (size_t)(AB(s) * AK(s)), GR_FILL_SIGNED);
    gr_input(c, "target_argmax", GR_I32, (size_t)(AB(s) * (AK(s) + 1)), GR_FILL_SIGNED);
    declare_outputs(c, AB(s), AK(s));
}

static int random_token(gr_case *c) { return (int)gr_random_uniform(c, 0, GREEDY_VOCAB); }

void fm_greedy_adjust(gr_case *c) {
    const int B = (int)AB(&c->shape), k = (int)AK(&c->shape);
    int *draft = (int *)gr_in(c, "draft"), *target = (int *)gr_in(c, "target_argmax");
    for (int b = 0; b < B; b++) {
        int *d = draft + (size_t)b * k, *t = target + (size_t)b * (k + 1);
        for (int i = 0; i <= k; i++) t[i] = random_token(c);
        const int n = (int)gr_random_uniform(c, 0, k + 1);   /* 0 .. k accepted */
        for (int i = 0; i < k; i++) {
            if (i < n) d[i] = t[i];
            else if (i == n) d[i] = (t[i] + 1 + (int)gr_random_uniform(c, 0, GREEDY_VOCAB - 1)) % GREEDY_VOCAB;
            else d[i] = gr_random_uniform(c, 0, 1) < 0.5 ? t[i] : random_token(c);   /* matches after n count for nothing */
        }
    }
}

void fm_greedy_reference(gr_case *c, long r0, long r1) {
    const int k = (int)AK(&c->shape);
    const int *draft = gr_in(c, "draft"), *target = gr_in(c, "target_argmax");
    int *accepted = gr_ref(c, "accepted"), *out = gr_ref(c, "out_tokens");
    for (long b = r0; b < r1; b++) {
        const int *d = draft + b * k, *t = target + b * (k + 1);
        int n = 0;
        while (n < k && d[n] == t[n]) n++;
        accepted[b] = n;
        write_tokens(d, n, k, t[n], out + b * (k + 1));
    }
}

double fm_accept_tolerance(const gr_shape *s) {
    (void)s;
    return 0;
}

/* Drafts and the target's tokens read once, the outputs written once. */
double fm_greedy_bytes(const gr_shape *s) {
    const double B = AB(s), k = AK(s);
    return 4 * (B * k + B * (k + 1)) + 4 * (B + B * (k + 1));
}

void fm_greedy_note(const gr_shape *s, char *buf, size_t len) {
    snprintf(buf, len, "%.0f bytes in all: a few microseconds of launch, not the memory, set this time",
             fm_greedy_bytes(s));
}

/* ==== sampled ===================================================================================== */

void fm_sampled_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    if (s->rank != 3 || AB(s) < 1 || AK(s) < 1 || AV(s) < 2) bad_shape(s, "(B, k, V) with B >= 1, k >= 1, V >= 2");
    const long B = AB(s), k = AK(s), V = AV(s);
    gr_input(c, "p_target", GR_F32, (size_t)(B * (k + 1) * V), GR_FILL_UNIT);
    gr_input(c, "p_draft", GR_F32, (size_t)(B * k * V), GR_FILL_UNIT);
    gr_input(c, "draft", GR_I32, (size_t)(B * k), GR_FILL_SIGNED);
    gr_input(c, "u_accept", GR_F32, (size_t)(B * k), GR_FILL_UNIT);
    gr_input(c, "u_sample", GR_F32, (size_t)B, GR_FILL_UNIT);
    declare_outputs(c, B, k);
}

/* What the draw samples from: the residual max(0, p_target - p_draft) after a rejection, p_target
 * itself when every draft was accepted (p_draft NULL). */
static double draw_weight(const float *pt, const float *pd, int v) {
    return pd ? fmax(0.0, (double)pt[v] - (double)pd[v]) : (double)pt[v];
}

/* The smallest v with w[0] + ... + w[v] > target; the last v of positive weight when rounding left
 * the target at the total. */
static int draw(const float *pt, const float *pd, int V, double target) {
    double sum = 0;
    int last = 0;
    for (int v = 0; v < V; v++) {
        const double w = draw_weight(pt, pd, v);
        if (w <= 0) continue;
        sum += w;
        last = v;
        if (sum > target) return v;
    }
    return last;
}

int fm_sampled_row(const float *pt, const float *pd, const int *draft, const float *u_accept, float u_sample, int k,
                   int V, int *out_tokens) {
    int n = 0;
    while (n < k) {
        const int x = draft[n];
        const double p = pt[(size_t)n * V + x], q = pd[(size_t)n * V + x];
        if (!((double)u_accept[n] * q < p)) break;   /* u < p / q, without dividing by a zero q */
        n++;
    }
    const float *w_pt = pt + (size_t)n * V, *w_pd = n < k ? pd + (size_t)n * V : NULL;
    double total = 0;
    for (int v = 0; v < V; v++) total += draw_weight(w_pt, w_pd, v);
    write_tokens(draft, n, k, draw(w_pt, w_pd, V, (double)u_sample * total), out_tokens);
    return n;
}

/* A peaked distribution, as a language model's: w_v = exp(12 x_v) for x uniform in [0, 1), then
 * normalised; the largest tokens are some 10^5 times the smallest. */
#define PEAK 12.0
static void normalise_exp(const float *x, float *p, int V) {
    double sum = 0;
    for (int v = 0; v < V; v++) sum += exp(PEAK * x[v]);
    for (int v = 0; v < V; v++) p[v] = (float)(exp(PEAK * x[v]) / sum);
}

/* A token drawn from a probability row (inverse CDF in float64). */
static int sample_token(gr_case *c, const float *p, int V) {
    double total = 0;
    for (int v = 0; v < V; v++) total += p[v];
    return draw(p, NULL, V, gr_random_uniform(c, 0, 1) * total);
}

static float below_one(double u) {   /* as a float in [0, 1) */
    const float f = (float)u;
    return f < 1.0f ? f : 0x1.fffffep-1f;
}

void fm_sampled_adjust(gr_case *c) {
    const int B = (int)AB(&c->shape), k = (int)AK(&c->shape), V = (int)AV(&c->shape);
    float *pt = (float *)gr_in(c, "p_target"), *pd = (float *)gr_in(c, "p_draft");
    float *u_accept = (float *)gr_in(c, "u_accept"), *u_sample = (float *)gr_in(c, "u_sample");
    int *draft = (int *)gr_in(c, "draft");
    for (int b = 0; b < B; b++) {
        float *t_rows = pt + (size_t)b * (k + 1) * V, *d_rows = pd + (size_t)b * k * V;
        /* The draft model guesses the target: its exponents are 3/4 the target's, 1/4 its own. */
        for (int i = 0; i < k; i++) {
            float *xd = d_rows + (size_t)i * V;
            const float *xt = t_rows + (size_t)i * V;
            for (int v = 0; v < V; v++) xd[v] = 0.75f * xt[v] + 0.25f * xd[v];
            normalise_exp(xd, xd, V);
        }
        for (int i = 0; i <= k; i++) normalise_exp(t_rows + (size_t)i * V, t_rows + (size_t)i * V, V);

        const int n = FM_ALL_ACCEPTED(b) ? k : (int)gr_random_uniform(c, 0, k);   /* where it rejects */
        for (int i = 0; i < k; i++) {
            const float *prow = t_rows + (size_t)i * V, *qrow = d_rows + (size_t)i * V;
            int x = 0;
            double ratio = 0;
            for (int attempt = 0; attempt < 1000; attempt++) {
                x = sample_token(c, qrow, V);
                ratio = (double)prow[x] / qrow[x];
                if (i != n ? ratio > 2 * FM_ACCEPT_MARGIN : ratio < 1 - 2 * FM_ACCEPT_MARGIN) break;
            }
            /* Rarely none came: the token of the smallest ratio (to reject) or the largest (to accept). */
            if (i == n && !(ratio < 1 - 2 * FM_ACCEPT_MARGIN))
                for (int v = 0; v < V; v++)
                    if ((double)prow[v] / qrow[v] < ratio) { x = v; ratio = (double)prow[v] / qrow[v]; }
            if (i != n && !(ratio > 2 * FM_ACCEPT_MARGIN))
                for (int v = 0; v < V; v++)
                    if ((double)prow[v] / qrow[v] > ratio) { x = v; ratio = (double)prow[v] / qrow[v]; }
            draft[(size_t)b * k + i] = x;
            float *u = u_accept + (size_t)b * k + i;
            if (i < n) *u = below_one(gr_random_uniform(c, 0, fmin(ratio, 1.0) - FM_ACCEPT_MARGIN));
            else if (i == n) *u = below_one(gr_random_uniform(c, ratio + FM_ACCEPT_MARGIN, 1.0));
            /* after n: the fill's u, never looked at */
        }
        /* u_sample: redrawn until its target sits FM_DRAW_MARGIN of the total inside a token. */
        const float *w_pt = t_rows + (size_t)n * V, *w_pd = n < k ? d_rows + (size_t)n * V : NULL;
        double total = 0;
        for (int v = 0; v < V; v++) total += draw_weight(w_pt, w_pd, v);
        for (int attempt = 0;; attempt++) {
            if (attempt == 1000) {
                fprintf(stderr, "grader: no u_sample clear of a token's edges for sequence %d\n", b);
                exit(70);
            }
            const float u = below_one(gr_random_uniform(c, 0, 1));
            const double target = (double)u * total;
            const int v = draw(w_pt, w_pd, V, target);
            double before = 0;
            for (int j = 0; j < v; j++) before += draw_weight(w_pt, w_pd, j);
            const double after = before + draw_weight(w_pt, w_pd, v);
            if (target - before >= FM_DRAW_MARGIN * total && after - target >= FM_DRAW_MARGIN * total) {
                u_sample[b] = u;
                break;
            }
        }
    }
}

void fm_sampled_reference(gr_case *c, long r0, long r1) {
    const int k = (int)AK(&c->shape), V = (int)AV(&c->shape);
    const float *pt = gr_in(c, "p_target"), *pd = gr_in(c, "p_draft");
    const float *u_accept = gr_in(c, "u_accept"), *u_sample = gr_in(c, "u_sample");
    const int *draft = gr_in(c, "draft");
    int *accepted = gr_ref(c, "accepted"), *out = gr_ref(c, "out_tokens");
    for (long b = r0; b < r1; b++)
        accepted[b] = fm_sampled_row(pt + b * (k + 1) * V, pd + b * k * V, draft + b * k, u_accept + b * k,
                                     u_sample[b], k, V, out + b * (k + 1));
}

/* At least: the row each sequence draws from (after a rejection the target's and the draft's rows
 * at that position, 2V floats; FM_ALL_ACCEPTED sequences the target's last row, V floats), its
 * u_sample, and the outputs. The few probabilities the accept tests read are left out. */
double fm_sampled_bytes(const gr_shape *s) {
    const double B = AB(s), k = AK(s), V = AV(s), all = floor(B / 4);
    return 4 * V * (2 * (B - all) + all) + 4 * B + 4 * (B + B * (k + 1));
}

void fm_sampled_note(const gr_shape *s, char *buf, size_t len) {
    const double B = AB(s), k = AK(s), V = AV(s);
    snprintf(buf, len, "%.0f MB of probability rows given, %.0f MB of them needed: only the row a sequence draws "
             "from is read whole", 4 * V * B * (2 * k + 1) / 1e6, (fm_sampled_bytes(s) - 4 * B * (k + 3)) / 1e6);
}
