/* Allocation of the scratch buffers. See workspace.h. */
#include "workspace.h"

#include <stdlib.h>
#include <string.h>

static int largest(int a, int b) { return a > b ? a : b; }

int mini_workspace_init(MiniWorkspace *ws, const MiniConfig *c, int max_batch) {
    memset(ws, 0, sizeof *ws);
    /* Every size below is a product of header fields: refuse what the loader would have refused
     * (a zero or negative field, a footprint over the limit) rather than let a size wrap. */
    const int fields[] = {c->d_model, c->n_heads, c->d_nope, c->d_rope, c->d_v, c->d_latent, c->n_experts,
                          c->top_k, c->d_expert, c->d_shared, c->max_seq};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i] < 1) return -1;
    if (max_batch < 1 || max_batch > MINI_FOOTPRINT_BATCH || mini_footprint(c).workspace > MINI_MAX_STATE_BYTES) return -1;
    const size_t B = (size_t)max_batch;
    const int d_hidden = largest(c->d_expert, c->d_shared);
    const int widest = largest(largest(c->d_model, d_hidden), largest(c->d_latent, c->n_heads * c->d_v));
    ws->max_batch = max_batch;
    ws->x = malloc(B * c->d_model * sizeof(float));
    ws->normed = malloc(B * c->d_model * sizeof(float));
    ws->block_out = malloc(B * c->d_model * sizeof(float));
    ws->q = malloc(B * c->n_heads * (c->d_nope + c->d_rope) * sizeof(float));
    ws->heads_out = malloc(B * c->n_heads * c->d_v * sizeof(float));
    ws->kv_a = malloc(B * c->d_latent * sizeof(float));
    ws->k_rope = malloc(B * c->d_rope * sizeof(float));
    ws->scores = malloc((size_t)c->max_seq * sizeof(float));
    ws->q_latent = malloc((size_t)c->d_latent * sizeof(float));
    ws->o_latent = malloc((size_t)c->d_latent * sizeof(float));
    ws->k_head = malloc((size_t)c->d_nope * sizeof(float));
    ws->v_head = malloc((size_t)c->d_v * sizeof(float));
    ws->router_logits = malloc((size_t)c->n_experts * sizeof(float));
    ws->chosen = malloc(B * c->top_k * sizeof(int));
    ws->gates = malloc(B * c->top_k * sizeof(float));
    ws->gathered = malloc(B * c->d_model * sizeof(float));
    ws->gathered_token = malloc(B * sizeof(int));
    ws->gathered_gate = malloc(B * sizeof(float));
    ws->hidden1 = malloc(B * d_hidden * sizeof(float));
    ws->hidden3 = malloc(B * d_hidden * sizeof(float));
    ws->expert_out = malloc(B * c->d_model * sizeof(float));
    ws->row_buffer = malloc((size_t)widest * sizeof(float));
    ws->mtp_concat = malloc(2 * (size_t)c->d_model * sizeof(float));
    const int act_width = largest(c->d_model, d_hidden), block = c->fp8_block > 0 ? c->fp8_block : 1;
    ws->act_codes = malloc(B * act_width);
    ws->act_scales = malloc(B * ((act_width + block - 1) / block) * sizeof(float));
    ws->act_values = malloc(B * act_width * sizeof(float));
    void *all[] = {ws->x, ws->normed, ws->block_out, ws->q, ws->heads_out, ws->kv_a, ws->k_rope, ws->scores,
                   ws->q_latent, ws->o_latent, ws->k_head, ws->v_head, ws->router_logits, ws->chosen, ws->gates,
                   ws->gathered, ws->gathered_token, ws->gathered_gate, ws->hidden1, ws->hidden3, ws->expert_out,
                   ws->row_buffer, ws->mtp_concat, ws->act_codes, ws->act_scales, ws->act_values};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!all[i]) { mini_workspace_free(ws); return -1; }
    return 0;
}

void mini_workspace_free(MiniWorkspace *ws) {
    void *all[] = {ws->x, ws->normed, ws->block_out, ws->q, ws->heads_out, ws->kv_a, ws->k_rope, ws->scores,
                   ws->q_latent, ws->o_latent, ws->k_head, ws->v_head, ws->router_logits, ws->chosen, ws->gates,
                   ws->gathered, ws->gathered_token, ws->gathered_gate, ws->hidden1, ws->hidden3, ws->expert_out,
                   ws->row_buffer, ws->mtp_concat, ws->act_codes, ws->act_scales, ws->act_values};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
    memset(ws, 0, sizeof *ws);
}
