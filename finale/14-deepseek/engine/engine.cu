// The mini-model on the GPU: weights uploaded once, one decode step recorded as a sequence of
// launches (the course's kernels and kernels.cu's glue), captured as a CUDA graph and replayed
// once per position. See engine.h.
#include "engine.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../exercises.h"                      // session 14: mla_decode, moe_route, fp8_grouped_gemm_masked
#include "../../../serving/12-serving/exercises.h"  // session 12: gemv_bf16
#include "kernels.h"
#ifdef WB_HAVE_NCCL
#include <nccl.h>
#endif
extern "C" {  // the CPU engine's headers (C)
#include "generate.h"  // MINI_MAX_DRAFTS
#include "rope.h"
}

namespace {

// One transformer block's weights on the device; the experts' FP8 matrices stacked [E][rows][cols].
struct GpuBlock {
    float *attn_norm, *kv_norm, *ffn_norm, *router, *bias;
    uint16_t *w_proj;  // wq, wkv_a and wk_rope stacked: one gemv_bf16 for the three
    uint16_t *wk_b, *wv_b, *wo, *sh_w1, *sh_w2, *sh_w3;
    // w1 of every expert, then w3 of every expert: both products of a token's experts in one grouped
    // GEMM of 2E groups (twice the blocks of one launch in flight, one launch instead of two).
    uint8_t *e_w13, *e_w2;
    float *e_s13, *e_s2;
    uint16_t *kv_cache;  // [max_blocks][MLA_BLOCK][d_latent + d_rope]
};

}  // namespace

#define T_MAX (MINI_MAX_DRAFTS + 1)  // rows of a verify pass: the last committed token and the drafts

struct GpuModel {
    MiniConfig c;
    int max_blocks;
    uint16_t *embed, *lm_head, *mtp_proj;
    float *final_norm, *mtp_hnorm, *mtp_enorm, *mtp_final_norm, *cos_t, *sin_t;
    GpuBlock *layers, mtp;
    // A pass's activations (up to T_MAX rows) and the routing's outputs.
    float *x, *router_logits, *topk_w, *sa, *sa2, *logits, *logits_all, *hidden_all, *mla_work, *hidden_rows, *h_last, *z;
    uint16_t *normed, *proj, *q_mla, *o_lat, *heads, *attn_out, *D13, *D2, *sh_u, *sh_v, *sh_h,
        *sh_out, *mtp_cat, *z0;
    uint8_t *A, *A2;
    int *topk_idx, *count, *count13, *offset, *perm, *inv_perm, *block_table, *seq_len, *pos, *fill_pos, *prompt_len,
        *tokens;
    int *draft, *target, *accepted, *out_tokens, *accept_hist;
    cudaStream_t stream;
    cudaStream_t side;                       // the shared expert, beside the routed ones
    cudaEvent_t fork, join;
    cudaGraphExec_t step;                    // greedy's step; NULL: launched one by one (not capturable)
    cudaGraphExec_t pass[MINI_MAX_DRAFTS + 1];  // speculative passes by k (made on first use)
    int graphs_ok;
    void **allocations;
    int n_alloc, cap_alloc;
    int last_steps;
    uint64_t seed;  // the scaled configuration's random weights: the next tensor's stream
    // Expert parallelism (gpu_model_create_ep): rank ep_rank of ep_ranks runs experts
    // first_expert .. end_expert - 1; D2 is summed over the ranks after the experts (1: one GPU).
    int ep_rank, ep_ranks, first_expert, end_expert;
    int *count_local;
    void *comm;  // the ranks' ncclComm_t
};

static void say(char *err, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

// Device memory, recorded for gpu_model_free; NULL with err set when it fails.
static void *dev_alloc(GpuModel *m, size_t bytes, char *err, size_t len) {
    if (m->n_alloc == m->cap_alloc) {
        const int cap = m->cap_alloc ? 2 * m->cap_alloc : 64;
        void **grown = (void **)realloc(m->allocations, (size_t)cap * sizeof *grown);
        if (!grown) { say(err, len, "out of host memory"); return NULL; }
        m->allocations = grown;
        m->cap_alloc = cap;
    }
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 16);
    if (e != cudaSuccess) {
        say(err, len, "cudaMalloc of %zu bytes: %s", bytes, cudaGetErrorString(e));
        return NULL;
    }
    // On the engine's stream, which every upload and fill uses too: they land after the zeros.
    cudaMemsetAsync(p, 0, bytes ? bytes : 16, m->stream);
    m->allocations[m->n_alloc++] = p;
    return p;
}

template <class T>
static T *upload(GpuModel *m, const T *host, size_t n, char *err, size_t len) {
    T *d = (T *)dev_alloc(m, n * sizeof(T), err, len);
    if (d && (cudaMemcpyAsync(d, host, n * sizeof(T), cudaMemcpyHostToDevice, m->stream) != cudaSuccess ||
              cudaStreamSynchronize(m->stream) != cudaSuccess)) {
        say(err, len, "copying weights to the GPU failed");
        return NULL;
    }
    return d;
}

// The loader decoded BF16 tensors to floats; they go back to their exact BF16 bits.
static uint16_t *upload_bf16(GpuModel *m, const float *w, size_t n, char *err, size_t len) {
    uint16_t *h = (uint16_t *)malloc(n * sizeof(uint16_t));
    if (!h) { say(err, len, "out of host memory"); return NULL; }
    for (size_t i = 0; i < n; i++) h[i] = mini_float_to_bf16(w[i]);
    uint16_t *d = upload(m, h, n, err, len);
    free(h);
    return d;
}

// The E experts' FP8 copies of the matrices `which` lists (1, 2, 3 for w1, w2, w3; one or two of
// them), stacked: every expert's first matrix, then every expert's second.
static int upload_experts(GpuModel *m, const MiniBlock *b, const char *which, uint8_t **codes, float **scales,
                          char *err, size_t len) {
    const int E = m->c.n_experts, n = (int)strlen(which);
    const MiniSwiGLU *x0 = &b->experts[0];
    const MiniFp8Matrix *f0 = which[0] == '1' ? &x0->w1_fp8 : which[0] == '2' ? &x0->w2_fp8 : &x0->w3_fp8;
    const size_t n_codes = (size_t)f0->rows * f0->cols;
    const size_t n_scales = (size_t)((f0->rows + f0->block - 1) / f0->block) * ((f0->cols + f0->block - 1) / f0->block);
    *codes = (uint8_t *)dev_alloc(m, n_codes * E * n, err, len);
    *scales = (float *)dev_alloc(m, n_scales * E * n * sizeof(float), err, len);
    if (!*codes || !*scales) return -1;
    for (int i = 0; i < n * E; i++) {
        const MiniSwiGLU *x = &b->experts[i % E];
        const MiniFp8Matrix *f = which[i / E] == '1' ? &x->w1_fp8 : which[i / E] == '2' ? &x->w2_fp8 : &x->w3_fp8;
        if (!f->codes) { say(err, len, "the weights file has no FP8 copies of the experts"); return -1; }
        cudaMemcpyAsync(*codes + n_codes * i, f->codes, n_codes, cudaMemcpyHostToDevice, m->stream);
        cudaMemcpyAsync(*scales + n_scales * i, f->scales, n_scales * sizeof(float), cudaMemcpyHostToDevice, m->stream);
        cudaStreamSynchronize(m->stream);
    }
    return 0;
}

static int upload_block(GpuModel *m, const MiniBlock *b, GpuBlock *g, char *err, size_t len) {
    const MiniConfig *c = &m->c;
    const int d = c->d_model, H = c->n_heads, dl = c->d_latent, dr = c->d_rope;
    g->attn_norm = upload(m, b->attn_norm, d, err, len);
    g->kv_norm = upload(m, b->kv_norm, dl, err, len);
    g->ffn_norm = upload(m, b->ffn_norm, d, err, len);
    g->router = upload(m, b->router, (size_t)c->n_experts * d, err, len);
    g->bias = upload(m, b->bias, c->n_experts, err, len);
    {  // [wq; wkv_a; wk_rope]: rows of q, then of the latent, then of the RoPE key
        const size_t nq = (size_t)H * (c->d_nope + dr) * d, nl = (size_t)dl * d, nr = (size_t)dr * d;
        float *stacked = (float *)malloc((nq + nl + nr) * sizeof(float));
        if (!stacked) { say(err, len, "out of host memory"); return -1; }
        memcpy(stacked, b->wq, nq * sizeof(float));
        memcpy(stacked + nq, b->wkv_a, nl * sizeof(float));
        memcpy(stacked + nq + nl, b->wk_rope, nr * sizeof(float));
        g->w_proj = upload_bf16(m, stacked, nq + nl + nr, err, len);
        free(stacked);
    }
    g->wk_b = upload_bf16(m, b->wk_b, (size_t)H * c->d_nope * dl, err, len);
    g->wv_b = upload_bf16(m, b->wv_b, (size_t)H * c->d_v * dl, err, len);
    g->wo = upload_bf16(m, b->wo, (size_t)d * H * c->d_v, err, len);
    g->sh_w1 = upload_bf16(m, b->shared.w1, (size_t)c->d_shared * d, err, len);
    g->sh_w3 = upload_bf16(m, b->shared.w3, (size_t)c->d_shared * d, err, len);
    g->sh_w2 = upload_bf16(m, b->shared.w2, (size_t)d * c->d_shared, err, len);
    g->kv_cache = (uint16_t *)dev_alloc(m, (size_t)m->max_blocks * MLA_BLOCK * (dl + dr) * sizeof(uint16_t), err, len);
    if (!g->attn_norm || !g->kv_norm || !g->ffn_norm || !g->router || !g->bias || !g->w_proj || !g->wk_b || !g->wv_b ||
        !g->wo || !g->sh_w1 || !g->sh_w3 || !g->sh_w2 || !g->kv_cache)
        return -1;
    if (upload_experts(m, b, "13", &g->e_w13, &g->e_s13, err, len) || upload_experts(m, b, "2", &g->e_w2, &g->e_s2, err, len))
        return -1;
    return 0;
}

// The scaled configuration's weights, random, drawn on the GPU (seed, then one stream of numbers per
// tensor): BF16 matrices uniform with standard deviation 1 / sqrt(fan_in), norm gains near 1, FP8
// expert codes of magnitude 0.25 to 3.75 with scales that bring them to the same spread. Its tokens
// mean nothing; its speed is the point (MODEL.md's contract is the trained file's).
static uint16_t *random_bf16(GpuModel *m, size_t n, int fan_in, char *err, size_t len) {
    uint16_t *d = (uint16_t *)dev_alloc(m, n * sizeof(uint16_t), err, len);
    if (d) k_fill_bf16(d, n, m->seed++, sqrtf(3.0f / (float)fan_in), m->stream);
    return d;
}
static float *random_f32(GpuModel *m, size_t n, float center, float amplitude, char *err, size_t len) {
    float *d = (float *)dev_alloc(m, n * sizeof(float), err, len);
    if (d) k_fill_f32(d, n, m->seed++, center, amplitude, m->stream);
    return d;
}
// n matrices (rows x cols) of each of the E experts, stacked as upload_experts stacks them; each
// matrix kind's codes, then its scales, drawn from a stream of its own.
static int random_experts(GpuModel *m, int n, int rows, int cols, uint8_t **codes, float **scales, char *err,
                          size_t len) {
    const size_t E = (size_t)m->c.n_experts, n_codes = (size_t)rows * cols;
    const size_t n_scales = (size_t)((rows + 127) / 128) * ((cols + 127) / 128);
    *codes = (uint8_t *)dev_alloc(m, n_codes * E * n, err, len);
    *scales = (float *)dev_alloc(m, n_scales * E * n * sizeof(float), err, len);
    if (!*codes || !*scales) return -1;
    for (int i = 0; i < n; i++) {
        k_fill_fp8(*codes + n_codes * E * i, n_codes * E, m->seed++, m->stream);
        // codes average about 1.6 in magnitude: scales bring the products to 1 / sqrt(fan_in)
        k_fill_f32(*scales + n_scales * E * i, n_scales * E, m->seed++, 0.6f / sqrtf((float)cols),
                   0.1f / sqrtf((float)cols), m->stream);
    }
    return 0;
}
static int random_block(GpuModel *m, GpuBlock *g, char *err, size_t len) {
    const MiniConfig *c = &m->c;
    const int d = c->d_model, H = c->n_heads, dl = c->d_latent, dr = c->d_rope;
    g->attn_norm = random_f32(m, d, 1.0f, 0.2f, err, len);
    g->kv_norm = random_f32(m, dl, 1.0f, 0.2f, err, len);
    g->ffn_norm = random_f32(m, d, 1.0f, 0.2f, err, len);
    g->router = random_f32(m, (size_t)c->n_experts * d, 0.0f, sqrtf(3.0f / (float)d), err, len);
    g->bias = random_f32(m, c->n_experts, 0.0f, 0.1f, err, len);
    g->w_proj = random_bf16(m, (size_t)(H * (c->d_nope + dr) + dl + dr) * d, d, err, len);
    g->wk_b = random_bf16(m, (size_t)H * c->d_nope * dl, dl, err, len);
    g->wv_b = random_bf16(m, (size_t)H * c->d_v * dl, dl, err, len);
    g->wo = random_bf16(m, (size_t)d * H * c->d_v, H * c->d_v, err, len);
    g->sh_w1 = random_bf16(m, (size_t)c->d_shared * d, d, err, len);
    g->sh_w3 = random_bf16(m, (size_t)c->d_shared * d, d, err, len);
    g->sh_w2 = random_bf16(m, (size_t)d * c->d_shared, c->d_shared, err, len);
    g->kv_cache = (uint16_t *)dev_alloc(m, (size_t)m->max_blocks * MLA_BLOCK * (dl + dr) * sizeof(uint16_t), err, len);
    if (!g->attn_norm || !g->kv_norm || !g->ffn_norm || !g->router || !g->bias || !g->w_proj || !g->wk_b || !g->wv_b ||
        !g->wo || !g->sh_w1 || !g->sh_w3 || !g->sh_w2 || !g->kv_cache)
        return -1;
    return random_experts(m, 2, c->d_expert, d, &g->e_w13, &g->e_s13, err, len) ||
           random_experts(m, 1, d, c->d_expert, &g->e_w2, &g->e_s2, err, len);
}

// The sizes the course's kernels take (exercises.h of sessions 12 and 14) and this engine's glue.
static int check_config(const MiniConfig *c, char *err, size_t len) {
    if (!((c->d_latent == 64 && c->d_rope == 16) || (c->d_latent == 512 && c->d_rope == 64))) {
        say(err, len, "config: mla_decode takes d_latent 64 with d_rope 16, or 512 with 64 (file: %d, %d)", c->d_latent,
            c->d_rope);
        return -1;
    }
    if (c->fp8_block != 128) {
        say(err, len, "config: the FP8 GEMM's scales are per 128 values, the file's per %d", c->fp8_block);
        return -1;
    }
    if (c->d_model % 16 || c->d_expert % 16 || c->top_k > 8 || c->n_experts > 256 || c->d_rope % 2) {
        say(err, len, "config: the FP8 GEMM needs d_model and d_expert multiples of 16, moe_route top_k <= 8 and "
                      "n_experts <= 256");
        return -1;
    }
    return 0;
}

static int step_record(GpuModel *m);
static int ep_sum_expert_rows(GpuModel *m, int T, cudaStream_t s);

// The weights file's model (w), or (w NULL) random weights of config cfg drawn from seed; ep NULL:
// one GPU.
static GpuModel *create(const MiniConfig *cfg, const MiniWeights *w, uint64_t seed, const GpuEp *ep, char *err,
                        size_t len) {
    int n_dev = 0;
    cudaError_t e = cudaGetDeviceCount(&n_dev);
    if (e != cudaSuccess || n_dev == 0) {
        say(err, len, "no CUDA GPU usable here (%s)", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
        return NULL;
    }
    if (check_config(cfg, err, len)) return NULL;
    GpuModel *m = (GpuModel *)calloc(1, sizeof *m);
    if (!m) { say(err, len, "out of host memory"); return NULL; }
    m->c = *cfg;
    m->seed = seed;
    const MiniConfig *c = &m->c;
    const int d = c->d_model, H = c->n_heads, dl = c->d_latent, dr = c->d_rope, E = c->n_experts;
    m->ep_ranks = ep ? ep->ranks : 1;
    m->ep_rank = ep ? ep->rank : 0;
    m->comm = ep ? ep->comm : NULL;
    m->first_expert = (int)((long)m->ep_rank * E / m->ep_ranks);  // the same split as exercise 05's
    m->end_expert = (int)((long)(m->ep_rank + 1) * E / m->ep_ranks);
#ifndef WB_HAVE_NCCL
    if (m->ep_ranks > 1) {
        say(err, len, "expert parallelism needs NCCL, and this build has none (make found no nccl.h and libnccl)");
        free(m);
        return NULL;
    }
#endif
    if (m->ep_ranks > 1 && m->end_expert == m->first_expert) {
        say(err, len, "expert parallelism over %d GPUs needs at least as many experts (the model has %d)", m->ep_ranks, E);
        free(m);
        return NULL;
    }
    m->max_blocks = (c->max_seq + MLA_BLOCK - 1) / MLA_BLOCK;
    if (cudaStreamCreateWithFlags(&m->stream, cudaStreamNonBlocking) != cudaSuccess ||
        cudaStreamCreateWithFlags(&m->side, cudaStreamNonBlocking) != cudaSuccess ||
        cudaEventCreateWithFlags(&m->fork, cudaEventDisableTiming) != cudaSuccess ||
        cudaEventCreateWithFlags(&m->join, cudaEventDisableTiming) != cudaSuccess) {
        say(err, len, "creating the engine's streams and events failed");
        gpu_model_free(m);
        return NULL;
    }
    MiniRope rope;
    if (mini_rope_init(&rope, dr, c->max_seq, c->rope_theta)) {
        say(err, len, "out of host memory for the RoPE tables");
        gpu_model_free(m);
        return NULL;
    }
    const size_t half = (size_t)c->max_seq * (dr / 2);
    m->cos_t = upload(m, rope.cos_table, half, err, len);
    m->sin_t = upload(m, rope.sin_table, half, err, len);
    mini_rope_free(&rope);
    m->layers = (GpuBlock *)calloc((size_t)c->n_layers, sizeof(GpuBlock));
    if (!m->layers) say(err, len, "out of host memory");
    int failed = !m->cos_t || !m->sin_t || !m->layers;
    if (!failed && w) {
        m->embed = upload_bf16(m, w->embed, (size_t)c->vocab * d, err, len);
        m->lm_head = upload_bf16(m, w->lm_head, (size_t)c->vocab * d, err, len);
        m->final_norm = upload(m, w->final_norm, d, err, len);
        m->mtp_proj = upload_bf16(m, w->mtp_proj, (size_t)d * 2 * d, err, len);
        m->mtp_hnorm = upload(m, w->mtp_hnorm, d, err, len);
        m->mtp_enorm = upload(m, w->mtp_enorm, d, err, len);
        m->mtp_final_norm = upload(m, w->mtp_final_norm, d, err, len);
        for (int l = 0; l < c->n_layers && !failed; l++) failed = upload_block(m, &w->layers[l], &m->layers[l], err, len);
        if (!failed) failed = upload_block(m, &w->mtp_block, &m->mtp, err, len);
    } else if (!failed) {
        m->embed = random_bf16(m, (size_t)c->vocab * d, 1, err, len);
        m->lm_head = random_bf16(m, (size_t)c->vocab * d, d, err, len);
        m->final_norm = random_f32(m, d, 1.0f, 0.2f, err, len);
        m->mtp_proj = random_bf16(m, (size_t)d * 2 * d, 2 * d, err, len);
        m->mtp_hnorm = random_f32(m, d, 1.0f, 0.2f, err, len);
        m->mtp_enorm = random_f32(m, d, 1.0f, 0.2f, err, len);
        m->mtp_final_norm = random_f32(m, d, 1.0f, 0.2f, err, len);
        for (int l = 0; l < c->n_layers && !failed; l++) failed = random_block(m, &m->layers[l], err, len);
        if (!failed) failed = random_block(m, &m->mtp, err, len);
    }
    if (!failed) failed = !m->embed || !m->lm_head || !m->final_norm || !m->mtp_proj || !m->mtp_hnorm || !m->mtp_enorm ||
                          !m->mtp_final_norm;

    const int M = T_MAX, KB = (d + 127) / 128, KB2 = (c->d_expert + 127) / 128;
#define DEV(field, type, n) \
    if (!failed) failed = !(m->field = (type *)dev_alloc(m, (size_t)(n) * sizeof(type), err, len))
    DEV(x, float, M * d);
    DEV(normed, uint16_t, M * d);
    DEV(proj, uint16_t, M * (H * (c->d_nope + dr) + dl + dr));
    DEV(q_mla, uint16_t, M * H * (dl + dr));
    DEV(o_lat, uint16_t, M * H * dl);
    DEV(heads, uint16_t, M * H * c->d_v);
    DEV(attn_out, uint16_t, M * d);
    DEV(router_logits, float, M * E);
    DEV(topk_idx, int, M * c->top_k);
    DEV(topk_w, float, M * c->top_k);
    DEV(count, int, E);
    DEV(count13, int, 2 * E);
    DEV(count_local, int, E);
    DEV(offset, int, E + 1);
    DEV(perm, int, M * c->top_k);
    DEV(inv_perm, int, M * c->top_k);
    DEV(A, uint8_t, (size_t)2 * E * M * d);  // the experts' inputs twice: for w1's groups, then w3's
    DEV(sa, float, (size_t)2 * E * M * KB);
    DEV(D13, uint16_t, (size_t)2 * E * M * c->d_expert);
    DEV(A2, uint8_t, (size_t)E * M * c->d_expert);
    DEV(sa2, float, (size_t)E * M * KB2);
    DEV(D2, uint16_t, (size_t)E * M * d);
    DEV(sh_u, uint16_t, M * c->d_shared);
    DEV(sh_v, uint16_t, M * c->d_shared);
    DEV(sh_h, uint16_t, M * c->d_shared);
    DEV(sh_out, uint16_t, M * d);
    DEV(mtp_cat, uint16_t, M * 2 * d);
    DEV(z0, uint16_t, M * d);
    DEV(hidden_rows, float, M * d);
    DEV(h_last, float, d);
    DEV(z, float, d);
    DEV(logits, float, M * c->vocab);
    DEV(logits_all, float, (size_t)c->max_seq * c->vocab);
    DEV(hidden_all, float, (size_t)c->max_seq * d);
    DEV(mla_work, float, (size_t)M * H * MLA_SPLIT_MAX * (dl + 1));
    DEV(block_table, int, M * m->max_blocks);
    DEV(seq_len, int, M);
    DEV(pos, int, 1);
    DEV(fill_pos, int, 1);
    DEV(prompt_len, int, 1);
    DEV(tokens, int, c->max_seq + 2 * T_MAX);
    DEV(draft, int, T_MAX);
    DEV(target, int, T_MAX);
    DEV(accepted, int, 1);
    DEV(out_tokens, int, T_MAX);
    DEV(accept_hist, int, T_MAX);
#undef DEV
    if (!failed) {  // one sequence, its blocks in order; the same row for each of a pass's positions
        const size_t n = (size_t)M * m->max_blocks;
        int *table = (int *)malloc(n * sizeof(int));
        failed = !table;
        if (failed) say(err, len, "out of host memory");
        for (size_t i = 0; !failed && i < n; i++) table[i] = (int)(i % m->max_blocks);
        if (!failed) {
            cudaMemcpyAsync(m->block_table, table, n * sizeof(int), cudaMemcpyHostToDevice, m->stream);
            cudaStreamSynchronize(m->stream);
        }
        free(table);
    }
    // NCCL connects the ranks at a collective's first call, which may not happen inside a graph's
    // capture: the step's exchange once now, on every rank alike (the counts are still 0).
    if (!failed && m->ep_ranks > 1 && ep_sum_expert_rows(m, T_MAX, m->stream)) {
        say(err, len, "the ranks' first exchange (NCCL) failed");
        failed = 1;
    }
    // Every upload and fill ran on the engine's stream: wait for them, and for any error they met.
    if (!failed && (cudaDeviceSynchronize() != cudaSuccess || cudaGetLastError() != cudaSuccess)) {
        say(err, len, "uploading the weights failed: %s", cudaGetErrorString(cudaGetLastError()));
        failed = 1;
    }
    if (failed || step_record(m)) {
        if (!failed) say(err, len, "recording the decode step failed: %s", cudaGetErrorString(cudaGetLastError()));
        gpu_model_free(m);
        return NULL;
    }
    return m;
}

GpuModel *gpu_model_create(const MiniWeights *w, char *err, size_t len) {
    return create(&w->cfg, w, 0, NULL, err, len);
}

GpuModel *gpu_model_create_random(const MiniConfig *c, uint64_t seed, char *err, size_t len) {
    return create(c, NULL, seed, NULL, err, len);
}

GpuModel *gpu_model_create_ep(const MiniWeights *w, const MiniConfig *c, uint64_t seed, const GpuEp *ep, char *err,
                              size_t len) {
    return create(w ? &w->cfg : c, w, seed, ep, err, len);
}

void gpu_model_free(GpuModel *m) {
    if (!m) return;
    if (m->step) cudaGraphExecDestroy(m->step);
    for (int k = 0; k <= MINI_MAX_DRAFTS; k++)
        if (m->pass[k]) cudaGraphExecDestroy(m->pass[k]);
    for (int i = 0; i < m->n_alloc; i++) cudaFree(m->allocations[i]);
    free(m->allocations);
    free(m->layers);
    if (m->stream) cudaStreamDestroy(m->stream);
    if (m->side) cudaStreamDestroy(m->side);
    if (m->fork) cudaEventDestroy(m->fork);
    if (m->join) cudaEventDestroy(m->join);
    free(m);
}

// Expert parallelism's one exchange a block: every expert's rows of D2 (laid out [E][T][d] for a
// pass of T rows, as the grouped GEMMs write it), each filled by its owner and -0 on every other
// rank, summed over the ranks: every rank then holds every row with its owner's bits (x + -0 is
// x), and combines them in the order one GPU does, so the tokens are one GPU's. (At batch 1 every
// rank has the token: no dispatch, only this combine. Exercise 05 is the general case, where each
// rank has tokens of its own.)
// Returns non-zero when NCCL refused the call.
static int ep_sum_expert_rows(GpuModel *m, int T, cudaStream_t s) {
    const MiniConfig *c = &m->c;
    k_ep_zero_remote(m->D2, m->count, c->n_experts, m->first_expert, m->end_expert, T, c->d_model, s);
#ifdef WB_HAVE_NCCL
    return ncclAllReduce(m->D2, m->D2, (size_t)c->n_experts * T * c->d_model, ncclBfloat16, ncclSum,
                         (ncclComm_t)m->comm, s) != ncclSuccess;
#else
    return 1;  // not reached: create() refuses expert parallelism without NCCL
#endif
}

// One block (main layer or the MTP's) on the T rows of m->x at positions *pos + pos_off + t,
// against its latent cache. On entry m->normed holds BF16(rmsnorm(x, g->attn_norm)); on exit, with a
// next gain, BF16(rmsnorm(x, next_gain)) (the next block's, or the output head's). The shared
// expert runs on a side stream beside the routed experts (branches of the graph).
static void block_launches(GpuModel *m, const GpuBlock *g, const int *pos, int pos_off, int T, const float *next_gain) {
    const MiniConfig *c = &m->c;
    const int d = c->d_model, H = c->n_heads, dl = c->d_latent, dr = c->d_rope, E = c->n_experts, k = c->top_k;
    const int n_proj = H * (c->d_nope + dr) + dl + dr;
    cudaStream_t s = m->stream;
    const MlaShape sh = {H, c->d_nope, dr, dl, c->norm_eps};
    const float scale = 1.0f / sqrtf((float)(c->d_nope + dr));
    // attention (MLA, absorbed, over the latent cache)
    gemv_bf16(g->w_proj, m->normed, m->proj, T, n_proj, d, s);
    k_mla_prep(sh, m->proj, 1, g->kv_norm, g->wk_b, m->cos_t, m->sin_t, pos, pos_off, T, g->kv_cache, m->seq_len,
               m->q_mla, s);
    // The T positions as T sequences over the same blocks, position t seeing seq_len[t] tokens: causal.
    mla_decode(m->q_mla, g->kv_cache, m->block_table, m->seq_len, m->max_blocks, scale, m->o_lat, T, 1, H, dl, dr,
               m->mla_work, s);
    k_value_up(g->wv_b, m->o_lat, T, H, c->d_v, dl, m->heads, s);
    gemv_bf16(g->wo, m->heads, m->attn_out, T, d, H * c->d_v, s);
    // MoE: the norm of x + attn and the router in one launch (the add itself is the combine's);
    // then the shared expert (BF16) on the side stream while the routed experts (FP8, at most T
    // rows each) run here
    k_add_norm_router(m->x, m->attn_out, g->ffn_norm, g->router, E, d, c->norm_eps, T, m->normed, m->router_logits, s);
    cudaEventRecord(m->fork, s);
    cudaStreamWaitEvent(m->side, m->fork, 0);
    gemv_bf16(g->sh_w1, m->normed, m->sh_u, T, c->d_shared, d, m->side);
    gemv_bf16(g->sh_w3, m->normed, m->sh_v, T, c->d_shared, d, m->side);
    k_swiglu_bf16(m->sh_u, m->sh_v, T * c->d_shared, m->sh_h, m->side);
    gemv_bf16(g->sh_w2, m->sh_h, m->sh_out, T, d, c->d_shared, m->side);
    cudaEventRecord(m->join, m->side);
    moe_route(m->router_logits, g->bias, T, E, k, m->topk_idx, m->topk_w, m->count, m->offset, m->perm, m->inv_perm,
              s);
    // Expert parallelism: every rank routes the same tokens and runs only its own experts (the
    // others' counts are 0 to the GEMMs); their rows are summed over the ranks below.
    const int *count = m->count;
    if (m->ep_ranks > 1) {
        k_ep_local_counts(m->count, E, m->first_expert, m->end_expert, m->count_local, s);
        count = m->count_local;
    }
    // w1 and w3 as one grouped GEMM of 2E groups: the inputs and the counts twice, D13 = [D1; D3]
    k_gather_quantize(m->normed, m->perm, m->offset, count, k, E, T, d, m->A, m->sa, m->count13, s);
    fp8_grouped_gemm_masked(m->A, m->sa, g->e_w13, g->e_s13, m->D13, m->count13, 2 * E, T, c->d_expert, d, s);
    const uint16_t *D1 = m->D13, *D3 = m->D13 + (size_t)E * T * c->d_expert;
    k_swiglu_quantize(D1, D3, count, E, T, c->d_expert, m->A2, m->sa2, s);
    fp8_grouped_gemm_masked(m->A2, m->sa2, g->e_w2, g->e_s2, m->D2, count, E, T, d, c->d_expert, s);
    if (m->ep_ranks > 1) ep_sum_expert_rows(m, T, s);
    cudaStreamWaitEvent(s, m->join, 0);
    k_moe_combine(m->x, m->attn_out, m->sh_out, m->D2, m->topk_idx, m->topk_w, m->inv_perm, m->offset, k, T, d, T, next_gain,
                  c->norm_eps, m->normed, s);
}

// The main model on tokens[*pos .. *pos + T - 1]: m->x ends as their hidden states, m->logits [T][vocab].
static void main_forward(GpuModel *m, int T) {
    const MiniConfig *c = &m->c;
    k_embed(m->embed, m->tokens, m->pos, T, m->x, c->d_model, m->stream);
    k_rmsnorm(m->x, m->layers[0].attn_norm, c->d_model, c->norm_eps, T, m->normed, m->stream);
    for (int l = 0; l < c->n_layers; l++)
        block_launches(m, &m->layers[l], m->pos, 0, T, l + 1 < c->n_layers ? m->layers[l + 1].attn_norm : m->final_norm);
    k_gemv_bf16w_f32out(m->lm_head, m->normed, c->vocab, c->d_model, T, m->logits, m->stream);
}

// Greedy's step: one position, its token, logits and hidden state kept.
static void step_launches(GpuModel *m) {
    const MiniConfig *c = &m->c;
    main_forward(m, 1);
    k_step_end(m->logits, c->vocab, m->x, c->d_model, m->prompt_len, m->tokens, m->logits_all, m->hidden_all, m->pos,
               m->stream);
}

// The MTP block's input for T rows: x = BF16(proj . [norm(h), norm(embed[tokens[*pos + tok_off + t]])]).
static void mtp_input(GpuModel *m, const float *h, const int *pos, int tok_off, int T) {
    const MiniConfig *c = &m->c;
    const int d = c->d_model;
    k_mtp_input(h, m->embed, m->tokens, pos, tok_off, T, m->mtp_hnorm, m->mtp_enorm, d, c->norm_eps, m->mtp_cat,
                m->stream);
    gemv_bf16(m->mtp_proj, m->mtp_cat, m->z0, T, d, 2 * d, m->stream);
    k_bf16_to_float(m->z0, T * d, m->x, m->stream);
}

// The MTP cache's entries at positions *pos + t from main hidden states h[t] and tokens[*pos + 1 + t]
// (MODEL.md: an entry depends only on the block's input, so the rest of the block is skipped).
static void mtp_fill(GpuModel *m, const float *h, const int *pos, int T) {
    const MiniConfig *c = &m->c;
    const GpuBlock *g = &m->mtp;
    const MlaShape sh = {c->n_heads, c->d_nope, c->d_rope, c->d_latent, c->norm_eps};
    const int n_proj = c->n_heads * (c->d_nope + c->d_rope) + c->d_latent + c->d_rope;
    mtp_input(m, h, pos, 1, T);
    k_rmsnorm(m->x, g->attn_norm, c->d_model, c->norm_eps, T, m->normed, m->stream);
    gemv_bf16(g->w_proj, m->normed, m->proj, T, n_proj, c->d_model, m->stream);
    k_mla_prep(sh, m->proj, 0, g->kv_norm, g->wk_b, m->cos_t, m->sin_t, pos, 0, T, g->kv_cache, m->seq_len, NULL,
               m->stream);
}

// One speculative pass with k drafts, n = *pos (tokens[n] committed, not yet run; h_last = h_{n-1}):
// the MTP drafts d_1 .. d_k into tokens[n + 1 ..], the main model verifies n .. n + k in one pass,
// accept_greedy keeps a drafts and the correction, the MTP cache is refilled at n .. n + k from the
// verified hidden states (entries past n + a are overwritten later), and *pos moves to n + a + 1.
static void pass_launches(GpuModel *m, int k) {
    const MiniConfig *c = &m->c;
    const int d = c->d_model;
    cudaStream_t s = m->stream;
    for (int j = 1; j <= k; j++) {
        // step j at MTP position n - 2 + j, from (h_{n-1}, tok_n) first, then (its own z, d_{j-1})
        mtp_input(m, j == 1 ? m->h_last : m->z, m->pos, j - 1, 1);
        k_rmsnorm(m->x, m->mtp.attn_norm, d, c->norm_eps, 1, m->normed, s);
        block_launches(m, &m->mtp, m->pos, j - 2, 1, m->mtp_final_norm);
        cudaMemcpyAsync(m->z, m->x, (size_t)d * sizeof(float), cudaMemcpyDeviceToDevice, s);
        k_gemv_bf16w_f32out(m->lm_head, m->normed, c->vocab, d, 1, m->logits, s);
        k_draft_pick(m->logits, c->vocab, m->tokens, m->pos, j, m->draft, s);
    }
    main_forward(m, k + 1);
    k_argmax_rows(m->logits, c->vocab, k + 1, m->target, s);
    accept_greedy(m->draft, m->target, 1, k, m->accepted, m->out_tokens, s);
    cudaMemcpyAsync(m->hidden_rows, m->x, (size_t)(k + 1) * d * sizeof(float), cudaMemcpyDeviceToDevice, s);
    k_accept_commit(m->accepted, m->out_tokens, m->hidden_rows, d, m->tokens, m->pos, m->h_last, m->accept_hist, s);
    mtp_fill(m, m->hidden_rows, m->pos, k + 1);
    k_advance(m->accepted, m->pos, s);
}

// Launches captured as a CUDA graph. A launcher that cannot be captured (one that synchronises,
// say) leaves the engine launching directly, and says so once.
static cudaGraphExec_t capture(GpuModel *m, void (*launches)(GpuModel *, int), int arg) {
    if (!m->graphs_ok) return NULL;
    cudaGraph_t graph = NULL;
    cudaGraphExec_t exec = NULL;
    cudaError_t e = cudaStreamBeginCapture(m->stream, cudaStreamCaptureModeRelaxed);
    if (e == cudaSuccess) {
        launches(m, arg);
        e = cudaStreamEndCapture(m->stream, &graph);
    }
    if (e == cudaSuccess) e = cudaGraphInstantiate(&exec, graph, 0);
    if (graph) cudaGraphDestroy(graph);
    if (e != cudaSuccess) {
        fprintf(stderr, "mini-gpu: a step could not be captured as a CUDA graph (%s); launching directly from now on\n",
                cudaGetErrorString(e));
        cudaGetLastError();  // reported; the engine goes on without graphs
        m->graphs_ok = 0;
        return NULL;
    }
    return exec;
}
static void greedy_step(GpuModel *m, int) { step_launches(m); }

static int step_record(GpuModel *m) {
    m->graphs_ok = 1;
    m->step = capture(m, greedy_step, 0);
    return 0;
}

static void run_step(GpuModel *m) {
    if (m->step) cudaGraphLaunch(m->step, m->stream);
    else step_launches(m);
}
static void run_pass(GpuModel *m, int k) {
    if (!m->pass[k] && m->graphs_ok) m->pass[k] = capture(m, pass_launches, k);
    if (m->pass[k]) cudaGraphLaunch(m->pass[k], m->stream);
    else pass_launches(m, k);
}

static cudaError_t sync_error(GpuModel *m) {
    cudaError_t e = cudaStreamSynchronize(m->stream);
    return e == cudaSuccess ? cudaGetLastError() : e;
}

// The state before a generation: the prompt in tokens[], position 0, nothing accepted yet.
static void reset(GpuModel *m, const int *host_tokens, int prompt_len) {
    const int zero = 0;
    cudaMemcpyAsync(m->tokens, host_tokens, ((size_t)m->c.max_seq + 2 * T_MAX) * sizeof(int), cudaMemcpyHostToDevice,
                    m->stream);
    cudaMemcpyAsync(m->pos, &zero, sizeof(int), cudaMemcpyHostToDevice, m->stream);
    cudaMemcpyAsync(m->prompt_len, &prompt_len, sizeof(int), cudaMemcpyHostToDevice, m->stream);
    cudaMemsetAsync(m->accept_hist, 0, T_MAX * sizeof(int), m->stream);
}

int gpu_generate(GpuModel *m, const uint8_t *prompt, int prompt_len, int n_new, int k, int trace, uint8_t *out,
                 GpuGenerateStats *stats, char *err, size_t len) {
    const MiniConfig *c = &m->c;
    if (k < 0 || k > MINI_MAX_DRAFTS) {
        say(err, len, "--speculative takes 0 (greedy) to %d drafts, not %d", MINI_MAX_DRAFTS, k);
        return -1;
    }
    // A speculative pass may run k positions past the last token asked for.
    if (prompt_len < 1 || n_new < 1 || prompt_len + n_new + k > c->max_seq) {
        say(err, len, "a prompt of %d bytes and %d new tokens do not fit (at least 1 each, %d in all%s)", prompt_len,
            n_new, c->max_seq - k, k ? " with the drafts" : "");
        return -1;
    }
    const size_t n_tok = (size_t)c->max_seq + 2 * T_MAX;
    int *host = (int *)calloc(n_tok, sizeof(int));
    if (!host) { say(err, len, "out of host memory"); return -1; }
    for (int i = 0; i < prompt_len; i++) host[i] = prompt[i];
    cudaEvent_t t0, t1, t2;
    cudaEventCreate(&t0);
    cudaEventCreate(&t1);
    cudaEventCreate(&t2);
    reset(m, host, prompt_len);
    cudaEventRecord(t0, m->stream);
    int passes = 0, status = 0;
    cudaError_t e = cudaSuccess;
    if (k == 0) {
        // Greedy: one graph launch a position, the prompt's and the new ones alike.
        const int steps = prompt_len - 1 + n_new;
        for (int i = 0; i < steps; i++) {
            if (i == prompt_len - 1) cudaEventRecord(t1, m->stream);
            run_step(m);
        }
        m->last_steps = steps;
    } else {
        // The prompt, then tok_P committed; the MTP cache filled for 0 .. P-2 from the prompt's hidden
        // states (8 rows at a time), h_last = h_{P-1}; then passes until n_new tokens are committed.
        const int d = c->d_model;
        for (int i = 0; i < prompt_len; i++) run_step(m);
        for (int start = 0; start < prompt_len - 1; start += T_MAX) {
            const int T = prompt_len - 1 - start < T_MAX ? prompt_len - 1 - start : T_MAX;
            cudaMemcpyAsync(m->fill_pos, &start, sizeof(int), cudaMemcpyHostToDevice, m->stream);
            mtp_fill(m, m->hidden_all + (size_t)start * d, m->fill_pos, T);
        }
        cudaMemcpyAsync(m->h_last, m->hidden_all + (size_t)(prompt_len - 1) * d, (size_t)d * sizeof(float),
                        cudaMemcpyDeviceToDevice, m->stream);
        cudaEventRecord(t1, m->stream);
        // Passes go out in batches, the host reading the position once a batch. A pass commits 1 to
        // k + 1 tokens, so with r still to commit, ceil(r / (k + 1)) passes each start before the
        // last token asked for (none is wasted) and end at most k past it (the room checked above).
        int pos = prompt_len;  // n: tokens[P .. n] are committed
        if (stats) stats->n_trace = 0;
        while (e == cudaSuccess && pos - prompt_len + 1 < n_new) {
            const int remaining = n_new - (pos - prompt_len + 1);
            const int traced = stats && passes < trace && passes < GPU_TRACE_MAX;
            const int batch = traced ? 1 : (remaining + k) / (k + 1);
            for (int i = 0; i < batch; i++) run_pass(m, k);
            passes += batch;
            cudaMemcpyAsync(host, m->pos, sizeof(int), cudaMemcpyDeviceToHost, m->stream);
            if (traced) {  // this pass's drafts, the verify's tokens and the count kept
                GpuPassTrace *t = &stats->trace[stats->n_trace++];
                t->pos = pos, t->k = k;
                cudaMemcpyAsync(t->draft, m->draft, (size_t)k * sizeof(int), cudaMemcpyDeviceToHost, m->stream);
                cudaMemcpyAsync(t->target, m->target, (size_t)(k + 1) * sizeof(int), cudaMemcpyDeviceToHost, m->stream);
                cudaMemcpyAsync(&t->accepted, m->accepted, sizeof(int), cudaMemcpyDeviceToHost, m->stream);
            }
            e = sync_error(m);
            pos = host[0];
        }
        // The greedy logits of earlier runs stay readable (gpu_logits_at): only the prompt's rows,
        // identical, were written again.
    }
    cudaEventRecord(t2, m->stream);
    int hist[T_MAX];
    cudaMemcpyAsync(host, m->tokens, n_tok * sizeof(int), cudaMemcpyDeviceToHost, m->stream);
    cudaMemcpyAsync(hist, m->accept_hist, sizeof hist, cudaMemcpyDeviceToHost, m->stream);
    if (e == cudaSuccess) e = sync_error(m);
    if (e != cudaSuccess) {
        say(err, len, "the GPU failed during generation: %s", cudaGetErrorString(e));
        status = -1;
    } else {
        for (int i = 0; i < n_new; i++) out[i] = (uint8_t)host[prompt_len + i];
        float all = 0, decode = 0;
        cudaEventElapsedTime(&all, t0, t2);
        cudaEventElapsedTime(&decode, t1, t2);
        if (stats) {
            const int n_trace = k ? stats->n_trace : 0;
            memset(stats->accept_hist, 0, sizeof stats->accept_hist);
            stats->n_trace = n_trace;
            stats->ms = all, stats->decode_ms = decode, stats->passes = passes;
            for (int a = 0; a <= k; a++) stats->accept_hist[a] = hist[a];
        }
    }
    cudaEventDestroy(t0);
    cudaEventDestroy(t1);
    cudaEventDestroy(t2);
    free(host);
    return status;
}

int gpu_logits_at(GpuModel *m, int pos, float *logits, char *err, size_t len) {
    if (pos < 0 || pos >= m->last_steps) {
        say(err, len, "no logits at position %d (the last generation ran %d positions)", pos, m->last_steps);
        return -1;
    }
    const size_t V = (size_t)m->c.vocab;
    if (cudaMemcpy(logits, m->logits_all + (size_t)pos * V, V * sizeof(float), cudaMemcpyDeviceToHost) != cudaSuccess) {
        say(err, len, "reading the logits back failed");
        return -1;
    }
    return 0;
}

double gpu_step_bytes(const GpuModel *m, int pos) {
    const MiniConfig *c = &m->c;
    const double d = c->d_model, H = c->n_heads, dl = c->d_latent, dr = c->d_rope, de = c->d_expert;
    const double proj = (H * (c->d_nope + dr) + dl + dr) * d, absorb = H * (c->d_nope + c->d_v) * dl;
    const double bf16 = 2.0 * (proj + absorb + d * H * c->d_v + 3.0 * c->d_shared * d);
    const double tiles = 2.0 * ceil(de / 128) * ceil(d / 128) + ceil(d / 128) * ceil(de / 128);
    const double experts = c->top_k * (3.0 * de * d + 4.0 * tiles);
    const double other = 4.0 * (c->n_experts * d + c->n_experts + 3 * d + dl) + 2.0 * (pos + 1) * (dl + dr);
    return c->n_layers * (bf16 + experts + other) + 2.0 * d + 2.0 * c->vocab * d + 4.0 * d;
}

double gpu_copy_gbs(GpuModel *m) {
    const size_t bytes = (size_t)1 << 30;
    void *a = NULL, *b = NULL;
    cudaEvent_t t0, t1;
    double times[10];
    int n = 0;
    if (cudaMalloc(&a, bytes) == cudaSuccess && cudaMalloc(&b, bytes) == cudaSuccess &&
        cudaEventCreate(&t0) == cudaSuccess && cudaEventCreate(&t1) == cudaSuccess) {
        cudaMemsetAsync(a, 1, bytes, m->stream);
        cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, m->stream);  // a first, untimed
        for (; n < 10; n++) {
            cudaEventRecord(t0, m->stream);
            cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, m->stream);
            cudaEventRecord(t1, m->stream);
            float ms = 0;
            if (cudaEventSynchronize(t1) != cudaSuccess || cudaEventElapsedTime(&ms, t0, t1) != cudaSuccess) break;
            times[n] = ms;
        }
        cudaEventDestroy(t0);
        cudaEventDestroy(t1);
    }
    cudaFree(a);
    cudaFree(b);
    cudaGetLastError();
    if (n < 10) return 0;
    for (int i = 1; i < n; i++)  // insertion sort: ten values
        for (int j = i; j > 0 && times[j] < times[j - 1]; j--) {
            const double t = times[j];
            times[j] = times[j - 1];
            times[j - 1] = t;
        }
    const double median_ms = 0.5 * (times[4] + times[5]);
    return 2.0 * bytes / (median_ms * 1e-3) / 1e9;
}
