/* The test weights-file writer. See testfile.h. */
#include "testfile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

MiniConfig mini_default_config(void) {
    MiniConfig c = {.vocab = 256, .d_model = 256, .n_layers = 3, .n_heads = 4, .d_nope = 32, .d_rope = 16,
                    .d_v = 32, .d_latent = 64, .n_experts = 8, .top_k = 2, .d_expert = 64, .d_shared = 128,
                    .mtp_depth = 1, .max_seq = 1024, .fp8_block = 128, .reserved = 0,
                    .rope_theta = 10000.0f, .norm_eps = 1e-6f};
    return c;
}

MiniConfig mini_small_config(void) {
    MiniConfig c = {.vocab = 256, .d_model = 64, .n_layers = 2, .n_heads = 2, .d_nope = 16, .d_rope = 8,
                    .d_v = 16, .d_latent = 32, .n_experts = 4, .top_k = 2, .d_expert = 40, .d_shared = 48,
                    .mtp_depth = 1, .max_seq = 160, .fp8_block = 32, .reserved = 0,
                    .rope_theta = 10000.0f, .norm_eps = 1e-6f};
    return c;
}

/* The layout is walked twice by the same code: pass 0 lists the tensors (names, shapes, offsets),
 * pass 1 draws the values and writes them, so the two can never disagree. */
typedef struct {
    int pass;
    int n_tensors;
    uint64_t data_end;     /* running end of the data */
    uint64_t largest;      /* elements of the largest tensor */
    unsigned char *image;  /* pass 1 */
    uint64_t rng;
    float *scratch;        /* pass 1: one matrix's values */
} Writer;

static void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put_f32(unsigned char *p, float f) { uint32_t u; memcpy(&u, &f, 4); put_u32(p, u); }

/* Uniform in [-1, 1) from splitmix64. */
static float uniform(Writer *w) {
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)((z >> 40) * (1.0 / (1ull << 23)) - 1.0);
}

static uint64_t align_up(uint64_t x) { return (x + MINI_DATA_ALIGN - 1) / MINI_DATA_ALIGN * MINI_DATA_ALIGN; }

/* Adds (pass 0) or locates (pass 1) the next tensor; returns its data in pass 1, else NULL. */
static unsigned char *tensor(Writer *w, const char *name, uint32_t dtype, int rows, int cols) {
    const int index = w->n_tensors++;
    uint64_t elements = (uint64_t)rows * (cols ? cols : 1), bytes = elements * mini_dtype_bytes(dtype);
    if (elements > w->largest) w->largest = elements;
    if (w->pass == 0) {
        w->data_end = align_up(w->data_end) + bytes;
        return NULL;
    }
    unsigned char *entry = w->image + MINI_FIXED_HEADER + (size_t)index * MINI_ENTRY_BYTES;
    uint64_t offset = align_up(w->data_end);
    w->data_end = offset + bytes;
    memset(entry, 0, MINI_ENTRY_BYTES);
    snprintf((char *)entry, MINI_NAME_BYTES, "%s", name);
    put_u32(entry + 64, dtype);
    put_u32(entry + 68, cols ? 2 : 1);
    put_u32(entry + 72, (uint32_t)rows);
    put_u32(entry + 76, cols ? (uint32_t)cols : 1);
    put_u32(entry + 80, 1);
    put_u32(entry + 84, 1);
    put_u64(entry + 88, offset);
    return w->image + offset;
}

/* n values near `center`, spread +-spread*sqrt(3) (uniform with that standard deviation). */
static void vector_f32(Writer *w, const char *name, int n, float center, float spread) {
    unsigned char *data = tensor(w, name, MINI_F32, n, 0);
    if (data) for (int i = 0; i < n; i++) put_f32(data + 4 * i, center + spread * 1.7320508f * uniform(w));
}

static void matrix_f32(Writer *w, const char *name, int rows, int cols) {
    unsigned char *data = tensor(w, name, MINI_F32, rows, cols);
    if (data) for (int i = 0; i < rows * cols; i++) put_f32(data + 4 * i, 1.7320508f / sqrtf((float)cols) * uniform(w));
}

/* A BF16 [rows][cols] matrix with std 1/sqrt(cols); with fp8, also its .fp8 codes and .scale tiles. */
static void matrix_bf16(Writer *w, const char *name, int rows, int cols, float std, int fp8, int block) {
    char sub[MINI_NAME_BYTES + 16];
    unsigned char *data = tensor(w, name, MINI_BF16, rows, cols);
    unsigned char *codes = NULL, *scales = NULL;
    const int tile_rows = (rows + block - 1) / block, tile_cols = (cols + block - 1) / block;
    if (fp8) {
        snprintf(sub, sizeof sub, "%s.fp8", name);
        codes = tensor(w, sub, MINI_FP8, rows, cols);
        snprintf(sub, sizeof sub, "%s.scale", name);
        scales = tensor(w, sub, MINI_F32, tile_rows, tile_cols);
    }
    if (!data) return;
    float *v = w->scratch;
    for (int i = 0; i < rows * cols; i++) {
        uint16_t bits = mini_float_to_bf16(std * 1.7320508f * uniform(w));
        data[2 * i] = (unsigned char)bits;
        data[2 * i + 1] = (unsigned char)(bits >> 8);
        v[i] = mini_bf16_to_float(bits);   /* the FP8 copy is made from the BF16 values */
    }
    if (!fp8) return;
    for (int tr = 0; tr < tile_rows; tr++)
        for (int tc = 0; tc < tile_cols; tc++) {
            float max = 0.0f;
            for (int r = tr * block; r < rows && r < (tr + 1) * block; r++)
                for (int cc = tc * block; cc < cols && cc < (tc + 1) * block; cc++) max = fmaxf(max, fabsf(v[r * cols + cc]));
            float scale = max > 0.0f ? max / 448.0f : 1.0f;
            put_f32(scales + 4 * (tr * tile_cols + tc), scale);
            for (int r = tr * block; r < rows && r < (tr + 1) * block; r++)
                for (int cc = tc * block; cc < cols && cc < (tc + 1) * block; cc++)
                    codes[r * cols + cc] = mini_float_to_fp8_e4m3(v[r * cols + cc] / scale);
        }
}

static void swiglu(Writer *w, const char *prefix, const MiniConfig *c, int d_hidden, int fp8) {
    char name[MINI_NAME_BYTES];
    snprintf(name, sizeof name, "%s.w1", prefix);
    matrix_bf16(w, name, d_hidden, c->d_model, 1.0f / sqrtf((float)c->d_model), fp8, c->fp8_block);
    snprintf(name, sizeof name, "%s.w2", prefix);
    matrix_bf16(w, name, c->d_model, d_hidden, 1.0f / sqrtf((float)d_hidden), fp8, c->fp8_block);
    snprintf(name, sizeof name, "%s.w3", prefix);
    matrix_bf16(w, name, d_hidden, c->d_model, 1.0f / sqrtf((float)c->d_model), fp8, c->fp8_block);
}

static void block(Writer *w, const char *prefix, const MiniConfig *c) {
    char name[MINI_NAME_BYTES];
    const float in_std = 1.0f / sqrtf((float)c->d_model);
#define NAME(suffix) (snprintf(name, sizeof name, "%s.%s", prefix, suffix), name)
    vector_f32(w, NAME("attn_norm"), c->d_model, 1.0f, 0.1f);
    matrix_bf16(w, NAME("attn.wq"), c->n_heads * (c->d_nope + c->d_rope), c->d_model, in_std, 0, 1);
    matrix_bf16(w, NAME("attn.wkv_a"), c->d_latent, c->d_model, in_std, 0, 1);
    vector_f32(w, NAME("attn.kv_norm"), c->d_latent, 1.0f, 0.1f);
    matrix_bf16(w, NAME("attn.wk_rope"), c->d_rope, c->d_model, in_std, 0, 1);
    matrix_bf16(w, NAME("attn.wk_b"), c->n_heads * c->d_nope, c->d_latent, 1.0f / sqrtf((float)c->d_latent), 0, 1);
    matrix_bf16(w, NAME("attn.wv_b"), c->n_heads * c->d_v, c->d_latent, 1.0f / sqrtf((float)c->d_latent), 0, 1);
    matrix_bf16(w, NAME("attn.wo"), c->d_model, c->n_heads * c->d_v, 1.0f / sqrtf((float)(c->n_heads * c->d_v)), 0, 1);
    vector_f32(w, NAME("ffn_norm"), c->d_model, 1.0f, 0.1f);
    matrix_f32(w, NAME("moe.router"), c->n_experts, c->d_model);
    vector_f32(w, NAME("moe.bias"), c->n_experts, 0.0f, 0.1f);
    swiglu(w, NAME("moe.shared"), c, c->d_shared, 0);
#undef NAME
    for (int e = 0; e < c->n_experts; e++) {
        snprintf(name, sizeof name, "%s.moe.experts.%d", prefix, e);
        swiglu(w, name, c, c->d_expert, 1);
    }
}

static void layout(Writer *w, const MiniConfig *c) {
    const float in_std = 1.0f / sqrtf((float)c->d_model);
    w->n_tensors = 0;
    matrix_bf16(w, "embed", c->vocab, c->d_model, 1.0f, 0, 1);
    matrix_bf16(w, "lm_head", c->vocab, c->d_model, in_std, 0, 1);
    vector_f32(w, "final_norm", c->d_model, 1.0f, 0.1f);
    for (int l = 0; l < c->n_layers; l++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "layers.%d", l);
        block(w, prefix, c);
    }
    vector_f32(w, "mtp.hnorm", c->d_model, 1.0f, 0.1f);
    vector_f32(w, "mtp.enorm", c->d_model, 1.0f, 0.1f);
    vector_f32(w, "mtp.final_norm", c->d_model, 1.0f, 0.1f);
    matrix_bf16(w, "mtp.proj", c->d_model, 2 * c->d_model, 1.0f / sqrtf(2.0f * c->d_model), 0, 1);
    block(w, "mtp.block", c);
}

void mini_set_checksum(unsigned char *image, size_t bytes) {
    put_u64(image + bytes - 8, mini_fnv1a64(image, bytes - 8));
}

int mini_build_test_image(const MiniConfig *c, uint64_t seed, unsigned char **image_out, size_t *bytes_out) {
    Writer w = {0};
    layout(&w, c);   /* pass 0: the table's size, then where the data ends */
    const uint64_t header = MINI_FIXED_HEADER + (uint64_t)w.n_tensors * MINI_ENTRY_BYTES;
    w.data_end = header;
    layout(&w, c);
    const size_t bytes = (size_t)w.data_end + 8;
    w.image = calloc(bytes, 1);
    w.scratch = malloc((size_t)w.largest * sizeof(float));
    if (!w.image || !w.scratch) { free(w.image); free(w.scratch); return -1; }
    /* pass 1: the values */
    w.pass = 1;
    w.rng = seed;
    w.data_end = header;
    layout(&w, c);
    free(w.scratch);

    memcpy(w.image, MINI_MAGIC, 8);
    put_u32(w.image + 8, MINI_VERSION);
    put_u32(w.image + 12, (uint32_t)header);
    const int fields[16] = {c->vocab, c->d_model, c->n_layers, c->n_heads, c->d_nope, c->d_rope, c->d_v, c->d_latent,
                            c->n_experts, c->top_k, c->d_expert, c->d_shared, c->mtp_depth, c->max_seq, c->fp8_block,
                            c->reserved};
    for (int i = 0; i < 16; i++) put_u32(w.image + 16 + 4 * i, (uint32_t)fields[i]);
    put_f32(w.image + 80, c->rope_theta);
    put_f32(w.image + 84, c->norm_eps);
    put_u32(w.image + 88, (uint32_t)w.n_tensors);
    mini_set_checksum(w.image, bytes);
    *image_out = w.image;
    *bytes_out = bytes;
    return 0;
}

int mini_write_test_file(const char *path, const MiniConfig *c, uint64_t seed, char *err, size_t err_len) {
    unsigned char *image;
    size_t bytes;
    if (mini_build_test_image(c, seed, &image, &bytes)) { snprintf(err, err_len, "out of memory"); return -1; }
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(image, 1, bytes, f) == bytes;
    if (f && fclose(f)) ok = 0;
    free(image);
    if (!ok) { snprintf(err, err_len, "cannot write %s", path); return -1; }
    return 0;
}
