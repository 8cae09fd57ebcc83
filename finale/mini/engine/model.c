/* Forward pass, final norm, lm_head, the MTP module, cache rollback. See model.h. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moe.h"
#include "ops.h"

_Static_assert(MINI_FOOTPRINT_BATCH == MINI_MAX_BATCH, "weights.c sizes the workspace by MINI_FOOTPRINT_BATCH");

/* What the serving numerics need of the model and its weights: 0, or -1 and one line in err. */
static int check_serving(const MiniWeights *w, int naive_mla, char *err, size_t err_len) {
    if (naive_mla) {
        snprintf(err, err_len, "the serving numerics attend by the absorbed path, as the GPU engine does; "
                 "the naive MLA path is float only");
        return -1;
    }
    const MiniConfig *c = &w->cfg;
    for (int l = 0; l <= c->n_layers; l++) {   /* the main layers, then the MTP block */
        const MiniBlock *b = l < c->n_layers ? &w->layers[l] : &w->mtp_block;
        for (int e = 0; e < c->n_experts; e++) {
            const MiniSwiGLU *f = &b->experts[e];
            if (!f->w1_fp8.codes || !f->w2_fp8.codes || !f->w3_fp8.codes) {
                snprintf(err, err_len, "the serving numerics need the routed experts' FP8 copies; these weights have "
                         "none for expert %d of %s", e, l < c->n_layers ? "a main layer" : "the MTP block");
                return -1;
            }
        }
    }
    return 0;
}

int mini_model_init(MiniModel *m, const MiniWeights *w, int use_fp8, int naive_mla, char *err, size_t err_len) {
    return mini_model_init_numerics(m, w, use_fp8, naive_mla, MINI_NUMERICS_FLOAT, err, err_len);
}

int mini_model_init_numerics(MiniModel *m, const MiniWeights *w, int use_fp8, int naive_mla, int numerics, char *err,
                             size_t err_len) {
    memset(m, 0, sizeof *m);
    if (numerics != MINI_NUMERICS_FLOAT && numerics != MINI_NUMERICS_SERVING) {
        snprintf(err, err_len, "numerics %d is neither float (%d) nor serving (%d)", numerics, MINI_NUMERICS_FLOAT,
                 MINI_NUMERICS_SERVING);
        return -1;
    }
    m->w = w;
    m->cfg = &w->cfg;
    m->use_fp8 = use_fp8 || numerics == MINI_NUMERICS_SERVING;
    m->naive_mla = naive_mla;
    m->numerics = numerics;
    const MiniConfig *c = m->cfg;
    /* The loader checked this already; a config made some other way is checked here, before any
     * allocation sized by it. */
    if (c->n_layers < 1 || c->max_seq < 1 || mini_check_footprint(c, err, err_len)) {
        if (c->n_layers < 1 || c->max_seq < 1) snprintf(err, err_len, "config: n_layers and max_seq must be at least 1");
        m->cfg = NULL;
        return -1;
    }
    if (numerics == MINI_NUMERICS_SERVING && check_serving(w, naive_mla, err, err_len)) {
        m->cfg = NULL;
        return -1;
    }
    m->caches = calloc((size_t)c->n_layers, sizeof *m->caches);
    int failed = !m->caches || mini_rope_init(&m->rope, c->d_rope, c->max_seq, c->rope_theta) ||
                 mini_kv_cache_init(&m->mtp_cache, c) || mini_workspace_init(&m->ws, c, MINI_MAX_BATCH);
    for (int l = 0; l < c->n_layers && !failed; l++) failed = mini_kv_cache_init(&m->caches[l], c);
    if (failed) {
        mini_model_free(m);
        snprintf(err, err_len, "out of memory for the KV caches (max_seq = %d)", c->max_seq);
        return -1;
    }
    return 0;
}

void mini_model_free(MiniModel *m) {
    if (m->caches && m->cfg)
        for (int l = 0; l < m->cfg->n_layers; l++) mini_kv_cache_free(&m->caches[l]);
    free(m->caches);
    mini_kv_cache_free(&m->mtp_cache);
    mini_rope_free(&m->rope);
    mini_workspace_free(&m->ws);
    memset(m, 0, sizeof *m);
}

/* Y[n][d_model] = rmsnorm(X, g) row by row: a linear layer's input, so BF16 in the serving numerics (N1). */
static void norm_rows(const MiniModel *m, const float *X, const float *g, int n, float *Y) {
    const MiniConfig *c = m->cfg;
    for (int t = 0; t < n; t++)
        mini_rmsnorm(X + (size_t)t * c->d_model, g, c->d_model, c->norm_eps, Y + (size_t)t * c->d_model);
    if (m->numerics == MINI_NUMERICS_SERVING) mini_round_bf16_array(Y, (size_t)n * c->d_model);
}

/* x = x + attention(rmsnorm(x)); x = x + moe(rmsnorm(x)) for the n rows of ws->x. The residual
 * stream stays float in both numerics (N7). */
static void block_forward(MiniModel *m, const MiniBlock *b, MiniKvCache *cache, int n, int start) {
    const MiniConfig *c = m->cfg;
    MiniWorkspace *ws = &m->ws;
    const size_t nd = (size_t)n * c->d_model;
    norm_rows(m, ws->x, b->attn_norm, n, ws->normed);
    mini_mla_forward(c, b, &m->rope, ws->normed, n, start, cache, m->naive_mla, m->numerics, ws->block_out, ws);
    for (size_t i = 0; i < nd; i++) ws->x[i] += ws->block_out[i];
    norm_rows(m, ws->x, b->ffn_norm, n, ws->normed);
    mini_moe_forward(c, b, ws->normed, n, m->use_fp8, m->numerics, ws->block_out, ws);
    for (size_t i = 0; i < nd; i++) ws->x[i] += ws->block_out[i];
}

/* logits[n][vocab] = lm_head · rmsnorm(x, norm) for the n rows of ws->x; the logits stay float. */
static void output_head(MiniModel *m, const float *norm, int n, float *logits) {
    const MiniConfig *c = m->cfg;
    norm_rows(m, m->ws.x, norm, n, m->ws.normed);
    mini_matmul(m->w->lm_head, c->vocab, c->d_model, m->ws.normed, n, logits);
}

void mini_forward(MiniModel *m, const uint8_t *tokens, int n, float *hidden, float *logits) {
    const MiniConfig *c = m->cfg;
    if (n < 1 || n > m->ws.max_batch || m->len + n > c->max_seq) {
        fprintf(stderr, "mini_forward: %d tokens at position %d do not fit (batch <= %d, max_seq %d)\n", n, m->len,
                m->ws.max_batch, c->max_seq);
        abort();   /* a bug in the caller: generate.c checks the sizes first */
    }
    for (int t = 0; t < n; t++)
        memcpy(m->ws.x + (size_t)t * c->d_model, m->w->embed + (size_t)tokens[t] * c->d_model, (size_t)c->d_model * sizeof(float));
    for (int l = 0; l < c->n_layers; l++) block_forward(m, &m->w->layers[l], &m->caches[l], n, m->len);
    if (hidden) memcpy(hidden, m->ws.x, (size_t)n * c->d_model * sizeof(float));
    if (logits) output_head(m, m->w->final_norm, n, logits);
    m->len += n;
}

void mini_truncate(MiniModel *m, int len) {
    if (len < m->len) m->len = len < 0 ? 0 : len;
}

/* The MTP block's input: z0 = proj · concat(rmsnorm(h, hnorm), rmsnorm(embed[tok], enorm)), into ws->x. */
static void mtp_input(MiniModel *m, const float *hidden, uint8_t next_token) {
    const MiniConfig *c = m->cfg;
    const MiniWeights *w = m->w;
    float *cat = m->ws.mtp_concat;
    norm_rows(m, hidden, w->mtp_hnorm, 1, cat);
    norm_rows(m, w->embed + (size_t)next_token * c->d_model, w->mtp_enorm, 1, cat + c->d_model);
    mini_matmul(w->mtp_proj, c->d_model, 2 * c->d_model, cat, 1, m->ws.x);
    if (m->numerics == MINI_NUMERICS_SERVING) mini_round_bf16_array(m->ws.x, (size_t)c->d_model);   /* N2, N7 */
}

static void check_mtp_room(const MiniModel *m) {
    if (m->mtp_len >= m->cfg->max_seq) {
        fprintf(stderr, "mini MTP: position %d is past max_seq %d\n", m->mtp_len, m->cfg->max_seq);
        abort();
    }
}

void mini_mtp_fill(MiniModel *m, const float *hidden, uint8_t next_token) {
    const MiniConfig *c = m->cfg;
    const MiniBlock *b = &m->w->mtp_block;
    check_mtp_room(m);
    mtp_input(m, hidden, next_token);
    /* the same operations as the start of block_forward, up to the cache write */
    norm_rows(m, m->ws.x, b->attn_norm, 1, m->ws.normed);
    mini_mla_write_cache(c, b, &m->rope, m->ws.normed, 1, m->mtp_len, &m->mtp_cache, m->numerics, &m->ws);
    m->mtp_len++;
}

void mini_mtp_step(MiniModel *m, const float *hidden, uint8_t next_token, float *z, float *logits) {
    check_mtp_room(m);
    mtp_input(m, hidden, next_token);
    block_forward(m, &m->w->mtp_block, &m->mtp_cache, 1, m->mtp_len);
    m->mtp_len++;
    if (z) memcpy(z, m->ws.x, (size_t)m->cfg->d_model * sizeof(float));
    output_head(m, m->w->mtp_final_norm, 1, logits);
}

void mini_mtp_truncate(MiniModel *m, int len) {
    if (len < m->mtp_len) m->mtp_len = len < 0 ? 0 : len;
}
