/* Scratch buffers for one forward pass of up to max_batch positions, allocated once per model so
 * that decoding allocates nothing per token. */
#ifndef MINI_WORKSPACE_H
#define MINI_WORKSPACE_H

#include "weights.h"

/* Positions in one pass: the last committed token and up to 7 drafts. */
#define MINI_MAX_BATCH 8
#define MINI_MAX_DRAFTS (MINI_MAX_BATCH - 1)

typedef struct {
    int max_batch;
    float *x;              /* [B][d_model] the residual stream */
    float *normed;         /* [B][d_model] rmsnorm of it: the input of attention or MoE */
    float *block_out;      /* [B][d_model] what attention or MoE adds to the residual */
    float *q;              /* [B][n_heads*(d_nope+d_rope)] */
    float *heads_out;      /* [B][n_heads*d_v] concat of the heads' outputs */
    float *kv_a;           /* [B][d_latent] wkv_a · a before its norm */
    float *k_rope;         /* [B][d_rope] */
    float *scores;         /* [max_seq] one head's attention scores, then probabilities */
    float *q_latent;       /* [d_latent] absorbed query of one head */
    float *o_latent;       /* [d_latent] probability-weighted sum of cached latents */
    float *k_head, *v_head;/* [d_nope], [d_v] naive path: one up-projected key and value */
    float *router_logits;  /* [n_experts] */
    int *chosen;           /* [B][top_k] chosen experts, ascending index */
    float *gates;          /* [B][top_k] their normalised gates */
    float *gathered;       /* [B][d_model] the inputs of the tokens routed to one expert */
    int *gathered_token;   /* [B] which token each gathered row is */
    float *gathered_gate;  /* [B] and its gate */
    float *hidden1, *hidden3; /* [B][max(d_expert, d_shared)] SwiGLU hidden activations */
    float *expert_out;     /* [B][d_model] */
    float *row_buffer;     /* [max width] one dequantised FP8 row tile */
    float *mtp_concat;     /* [2*d_model] the MTP module's input */
    /* serving numerics only: a routed expert's inputs quantised to FP8 (numerics.h) */
    uint8_t *act_codes;    /* [B][max(d_model, d_hidden)] e4m3 codes */
    float *act_scales;     /* [B][ceil(max(d_model, d_hidden) / fp8_block)] their block scales */
    float *act_values;     /* [B][max(d_model, d_hidden)] the codes decoded */
} MiniWorkspace;

/* Returns 0, or -1 when out of memory. */
int mini_workspace_init(MiniWorkspace *ws, const MiniConfig *c, int max_batch);
void mini_workspace_free(MiniWorkspace *ws);

#endif
