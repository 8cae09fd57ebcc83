/* MLA attention with a latent KV cache, naive and absorbed. See mla.h. */
#include "mla.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

int mini_kv_cache_init(MiniKvCache *cache, const MiniConfig *c) {
    cache->capacity = c->max_seq;
    cache->latent = malloc((size_t)c->max_seq * c->d_latent * sizeof(float));
    cache->rope_key = malloc((size_t)c->max_seq * c->d_rope * sizeof(float));
    if (!cache->latent || !cache->rope_key) { mini_kv_cache_free(cache); return -1; }
    return 0;
}

void mini_kv_cache_free(MiniKvCache *cache) {
    free(cache->latent);
    free(cache->rope_key);
    cache->latent = cache->rope_key = NULL;
}

void mini_mla_write_cache(const MiniConfig *c, const MiniBlock *b, const MiniRope *rope, const float *A, int n,
                          int start, MiniKvCache *cache, int numerics, MiniWorkspace *ws) {
    const int serving = numerics == MINI_NUMERICS_SERVING;
    mini_matmul(b->wkv_a, c->d_latent, c->d_model, A, n, ws->kv_a);
    mini_matmul(b->wk_rope, c->d_rope, c->d_model, A, n, ws->k_rope);
    if (serving) {   /* N2: the BF16 products' outputs */
        mini_round_bf16_array(ws->kv_a, (size_t)n * c->d_latent);
        mini_round_bf16_array(ws->k_rope, (size_t)n * c->d_rope);
    }
    for (int i = 0; i < n; i++) {
        int t = start + i;
        float *latent = cache->latent + (size_t)t * c->d_latent, *kr = cache->rope_key + (size_t)t * c->d_rope;
        mini_rmsnorm(ws->kv_a + (size_t)i * c->d_latent, b->kv_norm, c->d_latent, c->norm_eps, latent);
        memcpy(kr, ws->k_rope + (size_t)i * c->d_rope, (size_t)c->d_rope * sizeof(float));
        mini_rope_apply(rope, kr, t);
        if (serving) {   /* N3: the cache holds BF16, as the GPU engine's does */
            mini_round_bf16_array(latent, (size_t)c->d_latent);
            mini_round_bf16_array(kr, (size_t)c->d_rope);
        }
    }
}

/* One head of one query at position t, absorbed: scores from q_lat · c_s, output wv_b_h · (sum p c). */
static void attend_head_absorbed(const MiniConfig *c, const MiniBlock *b, int h, const float *q_nope,
                                 const float *q_rope, const MiniKvCache *cache, int t, int serving, float *o,
                                 MiniWorkspace *ws) {
    const int dl = c->d_latent;
    const float scale = 1.0f / sqrtf((float)(c->d_nope + c->d_rope));
    /* q_lat[j] = sum_i wk_b[h*d_nope + i][j] * q_nope[i]: the key up-projection moved onto the query */
    const float *wk_b_h = b->wk_b + (size_t)h * c->d_nope * dl;
    for (int j = 0; j < dl; j++) ws->q_latent[j] = 0.0f;
    for (int i = 0; i < c->d_nope; i++)
        for (int j = 0; j < dl; j++) ws->q_latent[j] += wk_b_h[(size_t)i * dl + j] * q_nope[i];
    if (serving) mini_round_bf16_array(ws->q_latent, (size_t)dl);   /* N4: the score kernel's BF16 query */
    for (int s = 0; s <= t; s++)
        ws->scores[s] = (mini_dot(ws->q_latent, cache->latent + (size_t)s * dl, dl) +
                         mini_dot(q_rope, cache->rope_key + (size_t)s * c->d_rope, c->d_rope)) * scale;
    mini_softmax(ws->scores, t + 1);
    for (int j = 0; j < dl; j++) ws->o_latent[j] = 0.0f;
    for (int s = 0; s <= t; s++) {
        const float p = ws->scores[s], *latent = cache->latent + (size_t)s * dl;
        for (int j = 0; j < dl; j++) ws->o_latent[j] += p * latent[j];
    }
    if (serving) mini_round_bf16_array(ws->o_latent, (size_t)dl);   /* N4: the attention kernel's BF16 output */
    mini_matmul(b->wv_b + (size_t)h * c->d_v * dl, c->d_v, dl, ws->o_latent, 1, o);
    if (serving) mini_round_bf16_array(o, (size_t)c->d_v);          /* N4: wo's BF16 input */
}

/* One head of one query at position t, naive: every cached latent up-projected to a key and a value. */
static void attend_head_naive(const MiniConfig *c, const MiniBlock *b, int h, const float *q_nope,
                              const float *q_rope, const MiniKvCache *cache, int t, float *o, MiniWorkspace *ws) {
    const int dl = c->d_latent;
    const float scale = 1.0f / sqrtf((float)(c->d_nope + c->d_rope));
    const float *wk_b_h = b->wk_b + (size_t)h * c->d_nope * dl, *wv_b_h = b->wv_b + (size_t)h * c->d_v * dl;
    for (int s = 0; s <= t; s++) {
        mini_matmul(wk_b_h, c->d_nope, dl, cache->latent + (size_t)s * dl, 1, ws->k_head);
        ws->scores[s] = (mini_dot(q_nope, ws->k_head, c->d_nope) +
                         mini_dot(q_rope, cache->rope_key + (size_t)s * c->d_rope, c->d_rope)) * scale;
    }
    mini_softmax(ws->scores, t + 1);
    for (int j = 0; j < c->d_v; j++) o[j] = 0.0f;
    for (int s = 0; s <= t; s++) {
        mini_matmul(wv_b_h, c->d_v, dl, cache->latent + (size_t)s * dl, 1, ws->v_head);
        for (int j = 0; j < c->d_v; j++) o[j] += ws->scores[s] * ws->v_head[j];
    }
}

void mini_mla_forward(const MiniConfig *c, const MiniBlock *b, const MiniRope *rope, const float *A, int n, int start,
                      MiniKvCache *cache, int naive, int numerics, float *out, MiniWorkspace *ws) {
    const int head_q = c->d_nope + c->d_rope, q_width = c->n_heads * head_q, o_width = c->n_heads * c->d_v;
    const int serving = numerics == MINI_NUMERICS_SERVING;
    mini_matmul(b->wq, q_width, c->d_model, A, n, ws->q);
    if (serving) mini_round_bf16_array(ws->q, (size_t)n * q_width);   /* N2 */
    mini_mla_write_cache(c, b, rope, A, n, start, cache, numerics, ws);   /* all n entries before any query reads them */
    for (int i = 0; i < n; i++) {
        const int t = start + i;
        for (int h = 0; h < c->n_heads; h++) {
            float *q_nope = ws->q + (size_t)i * q_width + (size_t)h * head_q, *q_rope = q_nope + c->d_nope;
            float *o = ws->heads_out + (size_t)i * o_width + (size_t)h * c->d_v;
            mini_rope_apply(rope, q_rope, t);
            if (serving) mini_round_bf16_array(q_rope, (size_t)c->d_rope);   /* N3: roped in float, then BF16 */
            if (naive) attend_head_naive(c, b, h, q_nope, q_rope, cache, t, o, ws);
            else attend_head_absorbed(c, b, h, q_nope, q_rope, cache, t, serving, o, ws);
        }
    }
    mini_matmul(b->wo, c->d_model, o_width, ws->heads_out, n, out);
    if (serving) mini_round_bf16_array(out, (size_t)n * c->d_model);   /* N2 */
}
