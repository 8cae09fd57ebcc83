/* The mini-model's weights file (finale/mini/MODEL.md, format version 1): load, validate, decode.
 *
 * mini_load_weights reads the whole file, checks it (magic, version, size, tensor table, checksum,
 * config, every expected tensor with its dtype and shape) and decodes it: BF16 and F32 tensors
 * become float arrays; the FP8 expert copies stay as e4m3 bytes with their float block scales and
 * are dequantised on the fly, one row tile at a time (see mini_matmul_fp8 in ops.h). On failure
 * it returns non-zero and writes one line saying what is wrong into err. */
#ifndef MINI_WEIGHTS_H
#define MINI_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#define MINI_MAGIC "KWMINI\0\1"
#define MINI_VERSION 1
#define MINI_FIXED_HEADER 92   /* magic .. n_tensors */
#define MINI_ENTRY_BYTES 96    /* one tensor table entry */
#define MINI_NAME_BYTES 64
#define MINI_DATA_ALIGN 64

enum { MINI_F32 = 0, MINI_BF16 = 1, MINI_FP8 = 2 };

typedef struct {
    int vocab, d_model, n_layers, n_heads, d_nope, d_rope, d_v, d_latent;
    int n_experts, top_k, d_expert, d_shared, mtp_depth, max_seq, fp8_block, reserved;
    float rope_theta, norm_eps;
} MiniConfig;

/* One FP8 e4m3 matrix [rows][cols] with a float scale per block x block tile: w ~ code * scale. */
typedef struct {
    const uint8_t *codes;   /* rows*cols bytes, pointing into the file image */
    const float *scales;    /* [ceil(rows/block)][ceil(cols/block)] */
    int rows, cols, block;
} MiniFp8Matrix;

/* A SwiGLU feed-forward: w2 · (silu(w1 a) * (w3 a)); w1, w3: [d_hidden][d_model], w2: [d_model][d_hidden]. */
typedef struct {
    int d_hidden;
    const float *w1, *w2, *w3;              /* from BF16, decoded once at load */
    MiniFp8Matrix w1_fp8, w2_fp8, w3_fp8;   /* routed experts only (codes == NULL for the shared one) */
} MiniSwiGLU;

/* One transformer block: MLA attention + MoE feed-forward (the main layers and the MTP block). */
typedef struct {
    const float *attn_norm, *wq, *wkv_a, *kv_norm, *wk_rope, *wk_b, *wv_b, *wo;
    const float *ffn_norm, *router, *bias;
    MiniSwiGLU shared;
    MiniSwiGLU *experts;   /* [n_experts] */
} MiniBlock;

typedef struct {
    MiniConfig cfg;
    const float *embed, *lm_head, *final_norm;
    MiniBlock *layers;     /* [n_layers] */
    const float *mtp_hnorm, *mtp_enorm, *mtp_final_norm, *mtp_proj;
    MiniBlock mtp_block;
    /* Ownership: the file image (the FP8 codes point into it) and every decoded array. */
    unsigned char *image;
    size_t image_bytes;
    void **allocations;
    int n_allocations, cap_allocations;
} MiniWeights;

/* Reads and validates a weights file. Returns 0, or non-zero with one line in err. */
int mini_load_weights(const char *path, MiniWeights *w, char *err, size_t err_len);

/* The same from a file image in memory; takes ownership of image (malloc'd) even on failure. */
int mini_parse_weights(unsigned char *image, size_t bytes, MiniWeights *w, char *err, size_t err_len);

/* What a model of config c allocates besides its weights, in bytes (saturating, never wrapping):
 * the RoPE tables, the KV caches (every main layer's and the MTP block's), and a bound on the
 * workspace of a MINI_FOOTPRINT_BATCH-position pass. A file whose header asks for more than
 * MINI_MAX_STATE_BYTES of any of them is refused before anything is allocated. */
#define MINI_MAX_STATE_BYTES (4ull << 30)
#define MINI_FOOTPRINT_BATCH 8   /* MINI_MAX_BATCH (workspace.h; model.c checks they agree) */
typedef struct {
    uint64_t rope, kv_cache, workspace;
} MiniFootprint;
MiniFootprint mini_footprint(const MiniConfig *c);

/* 0 when the footprint is within the limit; else -1 and one line in err naming the header field
 * most to blame, e.g. "header field max_seq = 1048576 asks for 40 GiB of KV cache (...); the limit
 * is 4 GiB". mini_parse_weights and mini_model_init both call it. */
int mini_check_footprint(const MiniConfig *c, char *err, size_t err_len);

/* Frees everything mini_load_weights / mini_parse_weights allocated (safe on a failed load). */
void mini_free_weights(MiniWeights *w);

/* Bytes a tensor of this dtype needs per element (0 for an unknown dtype). */
size_t mini_dtype_bytes(uint32_t dtype);

float mini_bf16_to_float(uint16_t bits);
uint16_t mini_float_to_bf16(float x);          /* round to nearest even */
float mini_fp8_e4m3_to_float(uint8_t code);    /* OCP e4m3: bias 7, max 448, no infinities */
uint8_t mini_float_to_fp8_e4m3(float x);       /* round to nearest even, saturating at 448 */
uint64_t mini_fnv1a64(const void *data, size_t bytes);

#endif
