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

/* Y[n][rows] = W · X for one of a SwiGLU's matrices: from the BF16 weights (decoded to float) or,
 * with use_fp8 and a routed expert, from the FP8 codes. Serving numerics (N2, N6): the FP8 product
 * takes the input quantised to FP8 per block too, and every output is rounded to BF16. */
static void swiglu_product(const float *w, const MiniFp8Matrix *w_fp8, int rows, int cols, const float *X, int n,
                           int use_fp8, int serving, float *Y, MiniWorkspace *ws) {
    if (use_fp8 && w_fp8->codes && serving) {
        const int tiles = (cols + w_fp8->block - 1) / w_fp8->block;
        for (int t = 0; t < n; t++)   /* row by row: a token's codes do not depend on the batch */
            mini_quantize_fp8_blocks(X + (size_t)t * cols, cols, w_fp8->block, ws->act_codes + (size_t)t * cols,
                                     ws->act_scales + (size_t)t * tiles);
        mini_matmul_fp8_fp8(w_fp8, ws->act_codes, ws->act_scales, n, Y, ws->row_buffer, ws->act_values);
    } else if (use_fp8 && w_fp8->codes) {
        mini_matmul_fp8(w_fp8, X, n, Y, ws->row_buffer);
    } else {
        mini_matmul(w, rows, cols, X, n, Y);
    }
    if (serving) mini_round_bf16_array(Y, (size_t)n * rows);
}

void mini_swiglu_forward(const MiniSwiGLU *f, int d_model, const float *A, int n, int use_fp8, int numerics,
                         float *out, MiniWorkspace *ws) {
    const int dh = f->d_hidden, serving = numerics == MINI_NUMERICS_SERVING;
    swiglu_product(f->w1, &f->w1_fp8, dh, d_model, A, n, use_fp8, serving, ws->hidden1, ws);
    swiglu_product(f->w3, &f->w3_fp8, dh, d_model, A, n, use_fp8, serving, ws->hidden3, ws);
    for (int i = 0; i < n * dh; i++) ws->hidden1[i] = mini_silu(ws->hidden1[i]) * ws->hidden3[i];
    /* Serving (N5, N6): w2's input is BF16 for a BF16 product; an FP8 product quantises the float h itself. */
    if (serving && !(use_fp8 && f->w2_fp8.codes)) mini_round_bf16_array(ws->hidden1, (size_t)n * dh);
    swiglu_product(f->w2, &f->w2_fp8, d_model, dh, ws->hidden1, n, use_fp8, serving, out, ws);
}

void mini_moe_forward(const MiniConfig *c, const MiniBlock *b, const float *A, int n, int use_fp8, int numerics,
                      float *out, MiniWorkspace *ws) {
    const int d = c->d_model, k = c->top_k;
    mini_swiglu_forward(&b->shared, d, A, n, 0, numerics, out, ws);   /* the shared expert is BF16 only */
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
        mini_swiglu_forward(&b->experts[e], d, ws->gathered, m, use_fp8, numerics, ws->expert_out, ws);
        for (int j = 0; j < m; j++) {
            float *o = out + (size_t)ws->gathered_token[j] * d;
            const float g = ws->gathered_gate[j], *y = ws->expert_out + (size_t)j * d;
            for (int i = 0; i < d; i++) o[i] += g * y[i];
        }
    }
}
