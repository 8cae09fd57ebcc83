/* Greedy and speculative generation (MODEL.md "Decoding").
 *
 * State between steps (a MiniDecoder): committed tokens tok_0 .. tok_n, of which the main model has
 * run positions 0 .. n-1 (its cache length is n) and tok_n, its latest prediction, is still to be run;
 * h_{n-1} is the main hidden state of position n-1. When the MTP cache is kept it holds positions
 * 0 .. n-2, each computed from a main hidden state h_i and the token tok_{i+1}.
 *
 * A speculative pass: the MTP module drafts d_1 .. d_k (step 1 from (h_{n-1}, tok_n) at position
 * n-1, step j+1 from its own z and d_j); the main model runs tok_n, d_1 .. d_k at positions n .. n+k
 * in one batched pass and predicts v_1 .. v_{k+1} (v_i: its token after d_1 .. d_{i-1}). If d_1 .. d_a
 * equal v_1 .. v_a and d_{a+1} != v_{a+1} (or a = k), the pass commits d_1 .. d_a and v_{a+1}: a + 1
 * tokens. The main cache is rolled back to n + a + 1 positions, the MTP cache to n, then refilled
 * from main hidden states up to n + a. */
#ifndef MINI_GENERATE_H
#define MINI_GENERATE_H

#include <stdint.h>

#include "model.h"

typedef struct {
    MiniModel *model;
    int keep_mtp_cache;      /* speculative decoding needs it; greedy can keep it too (for tests) */
    uint8_t next_token;      /* tok_n: committed, not yet run through the main model */
    float *last_hidden;      /* [d_model] h_{n-1} */
    float *pass_hidden;      /* [MINI_MAX_BATCH][d_model] */
    float *pass_logits;      /* [MINI_MAX_BATCH][vocab] */
    float *draft_hidden;     /* [d_model] */
    int passes;              /* verify passes run */
    int drafted, accepted;   /* drafts proposed and accepted, over all passes */
} MiniDecoder;

/* The number of drafts to keep: the longest prefix of drafts[0..k-1] equal to verified[0..k-1].
 * The pass then yields drafts[0 .. a-1] followed by verified[a]: a + 1 tokens. */
int mini_accept(const uint8_t *drafts, const uint8_t *verified, int k);

/* Runs the prompt (prompt_len >= 1 tokens, fewer than max_seq) through the main model and commits
 * the first generated token (decoder->next_token). The model's caches must be empty. Returns 0, or
 * non-zero with one line in err. */
int mini_decoder_start(MiniDecoder *d, MiniModel *m, const uint8_t *prompt, int prompt_len, int keep_mtp_cache,
                       char *err, size_t err_len);
void mini_decoder_free(MiniDecoder *d);

/* Greedy: one main-model step; returns the new token (also the new next_token). */
uint8_t mini_decoder_greedy_step(MiniDecoder *d);

/* The MTP module's k greedy drafts (1 <= k <= MINI_MAX_DRAFTS) into drafts[k]. */
void mini_decoder_draft(MiniDecoder *d, int k, uint8_t *drafts);

/* Verifies k drafts (0 <= k <= MINI_MAX_DRAFTS) in one batched main-model pass, commits the
 * accepted ones and the main model's own next token, rolls the caches back. Writes the committed
 * tokens to out[] and returns how many (1 .. k+1). */
int mini_decoder_verify(MiniDecoder *d, const uint8_t *drafts, int k, uint8_t *out);

/* Whole generation: n_new tokens after the prompt into out[n_new]; speculative_k = 0 is greedy,
 * 1 .. 7 drafts per pass. Fills passes/drafted/accepted in *stats when not NULL. Returns 0, or
 * non-zero with one line in err (e.g. prompt + n_new longer than max_seq). */
typedef struct { int passes, drafted, accepted; } MiniGenerateStats;
int mini_generate(MiniModel *m, const uint8_t *prompt, int prompt_len, int n_new, int speculative_k, uint8_t *out,
                  MiniGenerateStats *stats, char *err, size_t err_len);

#endif
