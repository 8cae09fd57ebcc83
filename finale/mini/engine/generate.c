/* Greedy and speculative decoding with the MTP draft module. See generate.h. */
#include "generate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

int mini_accept(const uint8_t *drafts, const uint8_t *verified, int k) {
    int a = 0;
    while (a < k && drafts[a] == verified[a]) a++;
    return a;
}

int mini_decoder_start(MiniDecoder *d, MiniModel *m, const uint8_t *prompt, int prompt_len, int keep_mtp_cache,
                       char *err, size_t err_len) {
    const MiniConfig *c = m->cfg;
    memset(d, 0, sizeof *d);
    if (prompt_len < 1) { snprintf(err, err_len, "the prompt is empty"); return -1; }
    if (prompt_len >= c->max_seq) {
        snprintf(err, err_len, "the prompt is %d bytes; the model's context is %d", prompt_len, c->max_seq);
        return -1;
    }
    d->model = m;
    d->keep_mtp_cache = keep_mtp_cache;
    d->last_hidden = malloc((size_t)c->d_model * sizeof(float));
    d->draft_hidden = malloc((size_t)c->d_model * sizeof(float));
    d->pass_hidden = malloc((size_t)MINI_MAX_BATCH * c->d_model * sizeof(float));
    d->pass_logits = malloc((size_t)MINI_MAX_BATCH * c->vocab * sizeof(float));
    if (!d->last_hidden || !d->draft_hidden || !d->pass_hidden || !d->pass_logits) {
        mini_decoder_free(d);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    mini_truncate(m, 0);
    mini_mtp_truncate(m, 0);
    /* Prefill in batches; only the last position's logits are needed. */
    for (int start = 0; start < prompt_len; start += MINI_MAX_BATCH) {
        int n = prompt_len - start < MINI_MAX_BATCH ? prompt_len - start : MINI_MAX_BATCH;
        int last_batch = start + n == prompt_len;
        mini_forward(m, prompt + start, n, d->pass_hidden, last_batch ? d->pass_logits : NULL);
        if (keep_mtp_cache)   /* MTP position i from (h_i, tok_{i+1}) wherever the next token is known */
            for (int i = 0; i < n && start + i + 1 < prompt_len; i++)
                mini_mtp_fill(m, d->pass_hidden + (size_t)i * c->d_model, prompt[start + i + 1]);
        if (last_batch) {
            memcpy(d->last_hidden, d->pass_hidden + (size_t)(n - 1) * c->d_model, (size_t)c->d_model * sizeof(float));
            d->next_token = (uint8_t)mini_argmax(d->pass_logits + (size_t)(n - 1) * c->vocab, c->vocab);
        }
    }
    return 0;
}

void mini_decoder_free(MiniDecoder *d) {
    free(d->last_hidden);
    free(d->draft_hidden);
    free(d->pass_hidden);
    free(d->pass_logits);
    memset(d, 0, sizeof *d);
}

uint8_t mini_decoder_greedy_step(MiniDecoder *d) {
    uint8_t produced;
    mini_decoder_verify(d, NULL, 0, &produced);   /* a pass with no drafts is one greedy step */
    return produced;
}

void mini_decoder_draft(MiniDecoder *d, int k, uint8_t *drafts) {
    MiniModel *m = d->model;
    const MiniConfig *c = m->cfg;
    const float *hidden = d->last_hidden;
    uint8_t token = d->next_token;
    /* Step 1 sits at position n-1, after the committed MTP entries 0 .. n-2. */
    if (!d->keep_mtp_cache || m->mtp_len != m->len - 1) {
        fprintf(stderr, "mini_decoder_draft: the MTP cache was not kept (%d entries for %d main positions)\n",
                m->mtp_len, m->len);
        abort();   /* a bug in the caller: start the decoder with keep_mtp_cache = 1 */
    }
    for (int j = 0; j < k; j++) {
        mini_mtp_step(m, hidden, token, d->draft_hidden, d->pass_logits);
        drafts[j] = (uint8_t)mini_argmax(d->pass_logits, c->vocab);
        hidden = d->draft_hidden;   /* the next step continues from this step's z */
        token = drafts[j];
    }
}

int mini_decoder_verify(MiniDecoder *d, const uint8_t *drafts, int k, uint8_t *out) {
    MiniModel *m = d->model;
    const MiniConfig *c = m->cfg;
    const int n = m->len;   /* position of next_token */
    uint8_t tokens[MINI_MAX_BATCH], verified[MINI_MAX_BATCH];
    tokens[0] = d->next_token;
    for (int j = 0; j < k; j++) tokens[j + 1] = drafts[j];
    mini_forward(m, tokens, k + 1, d->pass_hidden, d->pass_logits);
    for (int i = 0; i <= k; i++) verified[i] = (uint8_t)mini_argmax(d->pass_logits + (size_t)i * c->vocab, c->vocab);
    const int a = mini_accept(drafts, verified, k);
    for (int j = 0; j < a; j++) out[j] = drafts[j];
    out[a] = verified[a];

    /* Roll back: the main model keeps positions n .. n+a (next_token and the accepted drafts). */
    mini_truncate(m, n + a + 1);
    if (d->keep_mtp_cache) {
        /* MTP entries from main hidden states: position p from (h_p, tok_{p+1}), for p up to n+a-1.
         * Drafting may have left speculative entries from position n on; position n-1 came from
         * (h_{n-1}, tok_n) and stays. */
        mini_mtp_truncate(m, n);
        for (int p = m->mtp_len; p <= n + a - 1; p++) {
            const float *h = p == n - 1 ? d->last_hidden : d->pass_hidden + (size_t)(p - n) * c->d_model;
            mini_mtp_fill(m, h, tokens[p + 1 - n]);
        }
    }
    memcpy(d->last_hidden, d->pass_hidden + (size_t)a * c->d_model, (size_t)c->d_model * sizeof(float));
    d->next_token = out[a];
    d->passes++;
    d->drafted += k;
    d->accepted += a;
    return a + 1;
}

int mini_generate(MiniModel *m, const uint8_t *prompt, int prompt_len, int n_new, int speculative_k, uint8_t *out,
                  MiniGenerateStats *stats, char *err, size_t err_len) {
    const MiniConfig *c = m->cfg;
    if (speculative_k < 0 || speculative_k > MINI_MAX_DRAFTS) {
        snprintf(err, err_len, "speculative k = %d is out of range (1 .. %d)", speculative_k, MINI_MAX_DRAFTS);
        return -1;
    }
    if (n_new < 1 || (long)prompt_len + n_new > c->max_seq) {
        snprintf(err, err_len, "%d bytes of prompt + %d new tokens do not fit the model's context of %d", prompt_len,
                 n_new, c->max_seq);
        return -1;
    }
    MiniDecoder d;
    if (mini_decoder_start(&d, m, prompt, prompt_len, speculative_k > 0, err, err_len)) return -1;
    int produced = 0;
    out[produced++] = d.next_token;
    while (produced < n_new) {
        /* Never draft past the tokens still wanted: the last pass stays within the context. */
        int k = n_new - produced - 1 < speculative_k ? n_new - produced - 1 : speculative_k;
        uint8_t drafts[MINI_MAX_DRAFTS];
        if (k > 0) mini_decoder_draft(&d, k, drafts);
        produced += mini_decoder_verify(&d, drafts, k, out + produced);
    }
    if (stats) {
        stats->passes = d.passes;
        stats->drafted = d.drafted;
        stats->accepted = d.accepted;
    }
    mini_decoder_free(&d);
    return 0;
}
