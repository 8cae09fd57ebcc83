/* Router, SwiGLU experts, shared expert. See moe.h. */
#include "moe.h"

#include <math.h>
#include <string.h>

#include "ops.h"

void mini_moe_route(const MiniConfig *c, const MiniBlock *b, const float *a, int *chosen, float *gates,
                    float *router_logits) {
    float *score = router_logits;   /* becomes the sigmoid scores in place */
    mini_matmul(b->router, c->n_experts, c->d_model, a, 1, score);
    for (int e = 0; e < c->n_experts; e++) score[e] = 1.0f / (1.0f + expf(-score[e]));
    /* top_k by score + bias: repeatedly take the best expert not yet taken; strict > keeps the lower
     * index on a tie. n_experts is small, so this beats sorting. */
    unsigned char taken[1024] = {0};
    for (int r = 0; r < c->top_k; r++) {
        int best = -1;
        for (int e = 0; e < c->n_experts; e++)
            if (!taken[e] && (best < 0 || score[e] + b->bias[e] > score[best] + b->bias[best])) best = e;
        taken[best] = 1;
    }
    int k = 0;
    float sum = 0.0f;
    for (int e = 0; e < c->n_experts; e++)
        if (taken[e]) { chosen[k++] = e; sum += score[e]; }
    for (int r = 0; r < c->top_k; r++) gates[r] = score[chosen[r]] / sum;
}

void mini_swiglu_forward(const MiniSwiGLU *f, int d_model, const float *A, int n, int use_fp8, float *out,
                         MiniWorkspace *ws) {
    const int dh = f->d_hidden;
    if (use_fp8 && f->w1_fp8.codes) {
        mini_matmul_fp8(&f->w1_fp8, A, n, ws->hidden1, ws->row_buffer);
        mini_matmul_fp8(&f->w3_fp8, A, n, ws->hidden3, ws->row_buffer);
    } else {
        mini_matmul(f->w1, dh, d_model, A, n, ws->hidden1);
        mini_matmul(f->w3, dh, d_model, A, n, ws->hidden3);
    }
    for (int i = 0; i < n * dh; i++) ws->hidden1[i] = mini_silu(ws->hidden1[i]) * ws->hidden3[i];
    if (use_fp8 && f->w2_fp8.codes) mini_matmul_fp8(&f->w2_fp8, ws->hidden1, n, out, ws->row_buffer);
    else mini_matmul(f->w2, d_model, dh, ws->hidden1, n, out);
}

void mini_moe_forward(const MiniConfig *c, const MiniBlock *b, const float *A, int n, int use_fp8, float *out,
                      MiniWorkspace *ws) {
    const int d = c->d_model, k = c->top_k;
    mini_swiglu_forward(&b->shared, d, A, n, 0, out, ws);   /* the shared expert is BF16 only */
    for (int t = 0; t < n; t++)
        mini_moe_route(c, b, A + (size_t)t * d, ws->chosen + (size_t)t * k, ws->gates + (size_t)t * k,
                       ws->router_logits);
    /* Expert by expert in ascending order, so each token adds its experts in ascending order too. */
    for (int e = 0; e < c->n_experts; e++) {
        int m = 0;
        for (int t = 0; t < n; t++)
            for (int r = 0; r < k; r++)
                if (ws->chosen[t * k + r] == e) {
                    memcpy(ws->gathered + (size_t)m * d, A + (size_t)t * d, (size_t)d * sizeof(float));
                    ws->gathered_token[m] = t;
                    ws->gathered_gate[m] = ws->gates[t * k + r];
                    m++;
                }
        if (m == 0) continue;
        mini_swiglu_forward(&b->experts[e], d, ws->gathered, m, use_fp8, ws->expert_out, ws);
        for (int j = 0; j < m; j++) {
            float *o = out + (size_t)ws->gathered_token[j] * d;
            const float g = ws->gathered_gate[j], *y = ws->expert_out + (size_t)j * d;
            for (int i = 0; i < d; i++) o[i] += g * y[i];
        }
    }
}
