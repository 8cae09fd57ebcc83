/* Session 14, exercise 05 as the grader sees it: expert parallelism's dispatch and combine over R
 * GPUs (finale/14-deepseek/exercises.h, ep_dispatch_combine). What moves where is the launcher's
 * business; the result is a plain formula per token, so the reference is that formula. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finale_ep.h"

#define ET(s) ((s)->d[0])
#define EE(s) ((s)->d[1])
#define EK(s) ((s)->d[2])
#define EH(s) ((s)->d[3])
#define EDT(s) ((s)->rank > 4 ? (s)->d[4] : 0)
#define EROUTE(s) ((s)->rank > 5 ? (int)(s)->d[5] : 0)

long fm_ep_tokens(const gr_shape *s, int r) { return ET(s) + (long)r * EDT(s); }
long fm_ep_first_row(const gr_shape *s, int r) { return (long)r * ET(s) + EDT(s) * ((long)r * (r - 1) / 2); }
long fm_ep_tokens_all(const gr_shape *s, int ranks) { return fm_ep_first_row(s, ranks); }
int fm_ep_first_expert(int r, int E, int ranks) { return (int)((long)r * E / ranks); }
int fm_ep_owner(int e, int E, int ranks) { return (int)(((long)(e + 1) * ranks - 1) / E); }

static int ranks_of(const gr_case *c) { return (int)c->param[0]; }

void fm_ep_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    const int R = ranks_of(c);
    const long E = EE(s), K = EK(s), H = EH(s), route = EROUTE(s);
    const long T_all = R >= 1 ? fm_ep_tokens_all(s, R) : 0;
    if (R < 2 || R > FM_EP_MAX_RANKS || E < R || E > FM_EP_MAX_EXPERTS || K < 1 || K > FM_EP_MAX_TOP_K || K > E ||
        H < 8 || H % 8 || ET(s) < 0 || fm_ep_tokens(s, R - 1) < 0 || T_all < 1 || route < 0 || route > 2) {
        fprintf(stderr, "grader: EP shape T %ld, E %ld, top_k %ld, H %ld, dT %ld, routing %ld over %d ranks: want 2 <= "
                "ranks <= %d, ranks <= E <= %d, 1 <= top_k <= min(E, %d), H a multiple of 8, tokens >= 0 (some), "
                "routing 0 to 2\n", ET(s), E, K, H, (long)EDT(s), route, R, FM_EP_MAX_RANKS, FM_EP_MAX_EXPERTS,
                FM_EP_MAX_TOP_K);
        exit(70);
    }
    gr_input(c, "x", GR_BF16, (size_t)(T_all * H), GR_FILL_SIGNED);
    gr_input(c, "topk_idx", GR_I32, (size_t)(T_all * K), GR_FILL_SIGNED);
    gr_input(c, "topk_weight", GR_F32, (size_t)(T_all * K), GR_FILL_UNIT);
    gr_input(c, "expert_scale", GR_F32, (size_t)E, GR_FILL_UNIT);
    gr_output(c, "y", GR_BF16, (size_t)(T_all * H), H);
    c->rows = T_all;
}

void fm_ep_adjust(gr_case *c) {
    const gr_shape *s = &c->shape;
    const int E = (int)EE(s), K = (int)EK(s), route = EROUTE(s);
    const long T_all = c->rows;
    int *idx = (int *)gr_in(c, "topk_idx");
    float *weight = (float *)gr_in(c, "topk_weight"), *scale = (float *)gr_in(c, "expert_scale");
    int pool[FM_EP_MAX_EXPERTS];
    for (long t = 0; t < T_all; t++) {
        /* The candidates, then a partial Fisher-Yates shuffle: the first K are distinct and in a
         * random order. */
        const int n = route == 0 ? E : K, base = route == 2 ? E - K : 0;
        for (int i = 0; i < n; i++) pool[i] = base + i;
        for (int j = 0; j < K; j++) {
            const int pick = j + (int)gr_random_uniform(c, 0, n - j);
            const int keep = pool[j];
            pool[j] = pool[pick < n ? pick : n - 1];
            pool[pick < n ? pick : n - 1] = keep;
            idx[t * K + j] = pool[j];
        }
        double sum = 0;
        float *w = weight + t * K;
        for (int j = 0; j < K; j++) sum += w[j] = (float)gr_random_uniform(c, 0.05, 1.0);
        for (int j = 0; j < K; j++) w[j] = (float)(w[j] / sum);
    }
    for (int e = 0; e < E; e++) {
        const double magnitude = exp2(gr_random_uniform(c, -2, 2));
        scale[e] = (float)(gr_random_uniform(c, 0, 1) < 0.5 ? -magnitude : magnitude);
    }
}

void fm_ep_reference(gr_case *c, long row_begin, long row_end) {
    const gr_shape *s = &c->shape;
    const int K = (int)EK(s), H = (int)EH(s);
    const float *x = gr_in_f32(c, "x"), *weight = gr_in(c, "topk_weight"), *scale = gr_in(c, "expert_scale");
    const int *idx = gr_in(c, "topk_idx");
    float *y = gr_ref(c, "y"), *mag = gr_scale(c, "y");
    for (long t = row_begin; t < row_end; t++) {
        double factor = 0, magnitude = 0;  /* the token's row is x_t times one number */
        for (int j = 0; j < K; j++) {
            const double term = (double)weight[t * K + j] * scale[idx[t * K + j]];
            factor += term;
            magnitude += fabs(term);
        }
        for (int h = 0; h < H; h++) {
            const double v = x[t * H + h];
            y[t * H + h] = (float)(factor * v);
            mag[t * H + h] = (float)(magnitude * fabs(v));
        }
    }
}

/* Two BF16 roundings stand between the exact value and the result: each expert's output (relative
 * 2^-8 at most, of its own term) and y itself (2^-8 of the sum); the FP32 sum of top_k terms adds
 * top_k * 2^-24. Against the magnitudes above both are at most 2^-8 each, their root mean square
 * about a third of that; the same allowance as 03's BF16 outputs. A dropped or doubled term, a
 * wrong expert's scale or a row from another token is off by a term's size, far past it. */
double fm_ep_tolerance(const gr_shape *s) {
    (void)s;
    return 0x1p-8 + 0x1p-10;
}

double fm_ep_bytes(const gr_shape *s) {
    const double T = (double)ET(s) + 0.5 * (double)EDT(s);
    return 2.0 * T * (double)EK(s) * (double)EH(s) * 2.0;
}
