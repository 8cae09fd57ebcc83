/* The mini-model's forward pass (MODEL.md "One token's path"), its KV caches and the MTP draft module.
 *
 * The main model keeps one latent KV cache per layer; `len` positions are filled. mini_forward runs
 * n tokens (1 .. MINI_MAX_BATCH) at positions len .. len+n-1 in one batched pass with a causal mask;
 * one-token decode is the same call with n = 1, so both compute every position identically.
 * Rolling back after rejected drafts is mini_truncate: positions past the new length are simply
 * overwritten later. The MTP module has its own block and cache (mtp_len positions).
 *
 * Numerics (numerics.h): mini_model_init computes in float; mini_model_init_numerics can choose
 * MINI_NUMERICS_SERVING, the GPU engine's roundings (MODEL.md "Serving numerics"). */
#ifndef MINI_MODEL_H
#define MINI_MODEL_H

#include <stdint.h>

#include "mla.h"
#include "numerics.h"
#include "rope.h"
#include "weights.h"
#include "workspace.h"

typedef struct {
    const MiniWeights *w;
    const MiniConfig *cfg;
    int use_fp8;          /* routed experts from the FP8 codes and block scales */
    int naive_mla;        /* attention by up-projecting cached latents (else absorbed) */
    int numerics;         /* MINI_NUMERICS_FLOAT or MINI_NUMERICS_SERVING */
    MiniRope rope;
    MiniKvCache *caches;  /* [n_layers] */
    int len;              /* main cache positions filled */
    MiniKvCache mtp_cache;
    int mtp_len;          /* MTP cache positions filled */
    MiniWorkspace ws;
} MiniModel;

/* Returns 0, or non-zero with one line in err. The weights must outlive the model. Float numerics. */
int mini_model_init(MiniModel *m, const MiniWeights *w, int use_fp8, int naive_mla, char *err, size_t err_len);

/* The same with the numerics chosen: MINI_NUMERICS_FLOAT (then it is mini_model_init) or
 * MINI_NUMERICS_SERVING, which runs the routed experts from their FP8 copies whatever use_fp8 says
 * (m->use_fp8 becomes 1) and attends by the absorbed path: it refuses naive_mla, and weights without
 * the FP8 copies, with one line in err. */
int mini_model_init_numerics(MiniModel *m, const MiniWeights *w, int use_fp8, int naive_mla, int numerics, char *err,
                             size_t err_len);
void mini_model_free(MiniModel *m);

/* Main model on tokens[0..n-1] at positions len .. len+n-1 (n <= MINI_MAX_BATCH, len+n <= max_seq);
 * appends their cache entries. hidden[n][d_model] (h, before the final norm) and logits[n][vocab]
 * are written when not NULL. */
void mini_forward(MiniModel *m, const uint8_t *tokens, int n, float *hidden, float *logits);

/* Forget main cache positions from len on. */
void mini_truncate(MiniModel *m, int len);

/* MTP cache entry at position mtp_len from a main hidden state h_i and the next token tok_{i+1},
 * without running the rest of the MTP block (the cache entry depends only on the block's input). */
void mini_mtp_fill(MiniModel *m, const float *hidden, uint8_t next_token);

/* One MTP draft step at position mtp_len: from a hidden state (main h, or the previous step's z)
 * and the token after it, writes z[d_model] (may be NULL) and draft logits[vocab]. */
void mini_mtp_step(MiniModel *m, const float *hidden, uint8_t next_token, float *z, float *logits);

void mini_mtp_truncate(MiniModel *m, int len);

#endif
