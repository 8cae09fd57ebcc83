/* Forward pass, final norm, lm_head, the MTP module, cache rollback. See model.h. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moe.h"
#include "ops.h"

_Static_assert(MINI_FOOTPRINT_BATCH == MINI_MAX_BATCH, "weights.c sizes the workspace by MINI_FOOTPRINT_BATCH");

int mini_model_init(MiniModel *m, const MiniWeights *w, int use_fp8, int naive_mla, char *err, size_t err_len) {
    memset(m, 0, sizeof *m);
    m->w = w;
    m->cfg = &w->cfg;
    m->use_fp8 = use_fp8;
    m->naive_mla = naive_mla;
    const MiniConfig *c = m->cfg;
    /* The loader checked this already; a config made some other way is checked here, before any
     * allocation sized by it. */
    if (c->n_layers < 1 || c->max_seq < 1 || mini_check_footprint(c, err, err_len)) {
        if (c->n_layers < 1 || c->max_seq < 1) snprintf(err, err_len, "config: n_layers and max_seq must be at least 1");
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

/* x = x + attention(rmsnorm(x)); x = x + moe(rmsnorm(x)) for the n rows of ws->x. */
static void block_forward(MiniModel *m, const MiniBlock *b, MiniKvCache *cache, int n, int start) {
    const MiniConfig *c = m->cfg;
    MiniWorkspace *ws = &m->ws;
    const size_t nd = (size_t)n * c->d_model;
    for (int t = 0; t < n; t++)
        mini_rmsnorm(ws->x + (size_t)t * c->d_model, b->attn_norm, c->d_model, c->norm_eps, ws->normed + (size_t)t * c->d_model);
    mini_mla_forward(c, b, &m->rope, ws->normed, n, start, cache, m->naive_mla, ws->block_out, ws);
    for (size_t i = 0; i < nd; i++) ws->x[i] += ws->block_out[i];
    for (int t = 0; t < n; t++)
        mini_rmsnorm(ws->x + (size_t)t * c->d_model, b->ffn_norm, c->d_model, c->norm_eps, ws->normed + (size_t)t * c->d_model);
    mini_moe_forward(c, b, ws->normed, n, m->use_fp8, ws->block_out, ws);
    for (size_t i = 0; i < nd; i++) ws->x[i] += ws->block_out[i];
}

/* logits[n][vocab] = lm_head · rmsnorm(x, norm) for the n rows of ws->x. */
static void output_head(MiniModel *m, const float *norm, int n, float *logits) {
    const MiniConfig *c = m->cfg;
    for (int t = 0; t < n; t++)
        mini_rmsnorm(m->ws.x + (size_t)t * c->d_model, norm, c->d_model, c->norm_eps, m->ws.normed + (size_t)t * c->d_model);
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
    mini_rmsnorm(hidden, w->mtp_hnorm, c->d_model, c->norm_eps, cat);
    mini_rmsnorm(w->embed + (size_t)next_token * c->d_model, w->mtp_enorm, c->d_model, c->norm_eps, cat + c->d_model);
    mini_matmul(w->mtp_proj, c->d_model, 2 * c->d_model, cat, 1, m->ws.x);
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
    mini_rmsnorm(m->ws.x, b->attn_norm, c->d_model, c->norm_eps, m->ws.normed);
    mini_mla_write_cache(c, b, &m->rope, m->ws.normed, 1, m->mtp_len, &m->mtp_cache, &m->ws);
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
