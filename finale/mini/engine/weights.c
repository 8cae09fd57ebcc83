/* Loading and validating the weights file; BF16 / FP8 e4m3 decoding; FNV-1a 64. See weights.h. */
#include "weights.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- number formats ------------------------------------------------------------------------ */

float mini_bf16_to_float(uint16_t bits) {
    uint32_t u = (uint32_t)bits << 16;   /* BF16 is the top half of an FP32 */
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t mini_float_to_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);   /* keep NaN a NaN */
    u += 0x7fffu + ((u >> 16) & 1u);   /* round to nearest, ties to even */
    return (uint16_t)(u >> 16);
}

float mini_fp8_e4m3_to_float(uint8_t code) {
    int sign = code >> 7, exponent = (code >> 3) & 15, mantissa = code & 7;
    float value;
    if (exponent == 15 && mantissa == 7) return NAN;               /* e4m3 has NaN, no infinity */
    if (exponent == 0) value = ldexpf((float)mantissa, -9);        /* subnormal: m/8 * 2^-6 */
    else value = ldexpf(1.0f + mantissa / 8.0f, exponent - 7);
    return sign ? -value : value;
}

uint8_t mini_float_to_fp8_e4m3(float x) {
    uint8_t sign = signbit(x) ? 0x80 : 0;
    float a = fabsf(x);
    if (isnan(x)) return 0x7f;
    if (a >= 448.0f) return sign | 0x7e;                           /* saturate at the largest finite */
    int e2;
    frexpf(a, &e2);                                                /* a = f * 2^e2, f in [0.5, 1) */
    int exponent = e2 - 1;                                         /* a = (2f) * 2^exponent */
    if (a == 0.0f || exponent < -6) {                              /* subnormal: steps of 2^-9 */
        int q = (int)rintf(a * 512.0f);                            /* q == 8 is the smallest normal */
        return sign | (uint8_t)q;
    }
    int mantissa = (int)rintf((ldexpf(a, -exponent) - 1.0f) * 8.0f);   /* rintf: ties to even */
    if (mantissa == 8) { mantissa = 0; exponent++; }
    if (exponent + 7 > 15 || (exponent + 7 == 15 && mantissa == 7)) return sign | 0x7e;
    return sign | (uint8_t)((exponent + 7) << 3 | mantissa);
}

uint64_t mini_fnv1a64(const void *data, size_t bytes) {
    const unsigned char *p = data;
    uint64_t hash = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < bytes; i++) {
        hash ^= p[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

size_t mini_dtype_bytes(uint32_t dtype) {
    return dtype == MINI_F32 ? 4 : dtype == MINI_BF16 ? 2 : dtype == MINI_FP8 ? 1 : 0;
}

/* ---- reading the file ---------------------------------------------------------------------- */

static uint32_t read_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t read_u64(const unsigned char *p) { return read_u32(p) | (uint64_t)read_u32(p + 4) << 32; }

static float read_f32(const unsigned char *p) {
    uint32_t u = read_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static int fail(char *err, size_t err_len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Everything the tensor lookups need while parsing. */
typedef struct {
    MiniWeights *w;
    const unsigned char *table;   /* the first entry */
    uint32_t n_tensors;
    char *err;
    size_t err_len;
    int failed;
} Parser;

static void *owned_alloc(MiniWeights *w, size_t bytes) {
    if (w->n_allocations == w->cap_allocations) {
        int cap = w->cap_allocations ? 2 * w->cap_allocations : 64;
        void **grown = realloc(w->allocations, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        w->allocations = grown;
        w->cap_allocations = cap;
    }
    void *p = malloc(bytes ? bytes : 1);
    if (p) w->allocations[w->n_allocations++] = p;
    return p;
}

static const char *dtype_name(uint32_t dtype) {
    return dtype == MINI_F32 ? "f32" : dtype == MINI_BF16 ? "bf16" : dtype == MINI_FP8 ? "fp8" : "unknown";
}

/* The data of tensor `name`, which must have this dtype and shape [rows][cols] (cols == 0: 1-D
 * [rows]). NULL with the parser's error set when it is missing, twice present or shaped wrong. */
static const unsigned char *find_tensor(Parser *p, const char *name, uint32_t dtype, int rows, int cols) {
    if (p->failed) return NULL;
    const unsigned char *found = NULL;
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        const unsigned char *e = p->table + (size_t)i * MINI_ENTRY_BYTES;
        if (strncmp((const char *)e, name, MINI_NAME_BYTES) != 0) continue;
        if (found) {
            p->failed = fail(p->err, p->err_len, "tensor table: '%s' appears twice", name);
            return NULL;
        }
        found = e;
    }
    if (!found) {
        p->failed = fail(p->err, p->err_len, "tensor table: '%s' is missing", name);
        return NULL;
    }
    uint32_t got_dtype = read_u32(found + 64), ndim = read_u32(found + 68);
    uint32_t d0 = read_u32(found + 72), d1 = read_u32(found + 76);
    if (got_dtype != dtype) {
        p->failed = fail(p->err, p->err_len, "tensor '%s' is %s, expected %s", name, dtype_name(got_dtype),
                         dtype_name(dtype));
        return NULL;
    }
    uint32_t want_ndim = cols ? 2 : 1, want_d1 = cols ? (uint32_t)cols : 1;
    if (ndim != want_ndim || d0 != (uint32_t)rows || d1 != want_d1) {
        if (cols) p->failed = fail(p->err, p->err_len, "tensor '%s' has the wrong shape: expected [%d][%d]", name, rows, cols);
        else p->failed = fail(p->err, p->err_len, "tensor '%s' has the wrong shape: expected [%d]", name, rows);
        return NULL;
    }
    return p->w->image + read_u64(found + 88);
}

static const float *tensor_f32(Parser *p, const char *name, int rows, int cols) {
    const unsigned char *data = find_tensor(p, name, MINI_F32, rows, cols);
    if (!data) return NULL;
    size_t n = (size_t)rows * (cols ? cols : 1);
    float *out = owned_alloc(p->w, n * sizeof *out);
    if (!out) { p->failed = fail(p->err, p->err_len, "out of memory decoding '%s'", name); return NULL; }
    for (size_t i = 0; i < n; i++) out[i] = read_f32(data + 4 * i);
    return out;
}

static const float *tensor_bf16(Parser *p, const char *name, int rows, int cols) {
    const unsigned char *data = find_tensor(p, name, MINI_BF16, rows, cols);
    if (!data) return NULL;
    size_t n = (size_t)rows * (cols ? cols : 1);
    float *out = owned_alloc(p->w, n * sizeof *out);
    if (!out) { p->failed = fail(p->err, p->err_len, "out of memory decoding '%s'", name); return NULL; }
    for (size_t i = 0; i < n; i++) out[i] = mini_bf16_to_float((uint16_t)(data[2 * i] | data[2 * i + 1] << 8));
    return out;
}

/* "<base>.fp8" and "<base>.scale": the codes stay in the image; the scales are decoded. */
static MiniFp8Matrix tensor_fp8(Parser *p, const char *base, int rows, int cols, int block) {
    MiniFp8Matrix m = {0};
    char name[MINI_NAME_BYTES + 16];
    snprintf(name, sizeof name, "%s.fp8", base);
    m.codes = find_tensor(p, name, MINI_FP8, rows, cols);
    snprintf(name, sizeof name, "%s.scale", base);
    m.scales = tensor_f32(p, name, (rows + block - 1) / block, (cols + block - 1) / block);
    m.rows = rows, m.cols = cols, m.block = block;
    return m;
}

static void swiglu(Parser *p, const char *prefix, int d_model, int d_hidden, int with_fp8, int block, MiniSwiGLU *f) {
    char name[128];
    f->d_hidden = d_hidden;
    snprintf(name, sizeof name, "%s.w1", prefix);
    f->w1 = tensor_bf16(p, name, d_hidden, d_model);
    snprintf(name, sizeof name, "%s.w2", prefix);
    f->w2 = tensor_bf16(p, name, d_model, d_hidden);
    snprintf(name, sizeof name, "%s.w3", prefix);
    f->w3 = tensor_bf16(p, name, d_hidden, d_model);
    if (!with_fp8) return;
    snprintf(name, sizeof name, "%s.w1", prefix);
    f->w1_fp8 = tensor_fp8(p, name, d_hidden, d_model, block);
    snprintf(name, sizeof name, "%s.w2", prefix);
    f->w2_fp8 = tensor_fp8(p, name, d_model, d_hidden, block);
    snprintf(name, sizeof name, "%s.w3", prefix);
    f->w3_fp8 = tensor_fp8(p, name, d_hidden, d_model, block);
}

/* One block's tensors under prefix ("layers.0" or "mtp.block"). */
static void block(Parser *p, const char *prefix, MiniBlock *b) {
    const MiniConfig *c = &p->w->cfg;
    char name[128];
#define NAME(suffix) (snprintf(name, sizeof name, "%s.%s", prefix, suffix), name)
    b->attn_norm = tensor_f32(p, NAME("attn_norm"), c->d_model, 0);
    b->wq = tensor_bf16(p, NAME("attn.wq"), c->n_heads * (c->d_nope + c->d_rope), c->d_model);
    b->wkv_a = tensor_bf16(p, NAME("attn.wkv_a"), c->d_latent, c->d_model);
    b->kv_norm = tensor_f32(p, NAME("attn.kv_norm"), c->d_latent, 0);
    b->wk_rope = tensor_bf16(p, NAME("attn.wk_rope"), c->d_rope, c->d_model);
    b->wk_b = tensor_bf16(p, NAME("attn.wk_b"), c->n_heads * c->d_nope, c->d_latent);
    b->wv_b = tensor_bf16(p, NAME("attn.wv_b"), c->n_heads * c->d_v, c->d_latent);
    b->wo = tensor_bf16(p, NAME("attn.wo"), c->d_model, c->n_heads * c->d_v);
    b->ffn_norm = tensor_f32(p, NAME("ffn_norm"), c->d_model, 0);
    b->router = tensor_f32(p, NAME("moe.router"), c->n_experts, c->d_model);
    b->bias = tensor_f32(p, NAME("moe.bias"), c->n_experts, 0);
    swiglu(p, NAME("moe.shared"), c->d_model, c->d_shared, 0, c->fp8_block, &b->shared);
#undef NAME
    b->experts = owned_alloc(p->w, (size_t)c->n_experts * sizeof *b->experts);
    if (!b->experts) { p->failed = fail(p->err, p->err_len, "out of memory"); return; }
    memset(b->experts, 0, (size_t)c->n_experts * sizeof *b->experts);
    for (int e = 0; e < c->n_experts && !p->failed; e++) {
        snprintf(name, sizeof name, "%s.moe.experts.%d", prefix, e);
        swiglu(p, name, c->d_model, c->d_expert, 1, c->fp8_block, &b->experts[e]);
    }
}

/* Zero or out-of-range config values: one line naming the first. */
static int check_config(const MiniConfig *c, char *err, size_t err_len) {
    struct { const char *name; int value, lo, hi; } range[] = {
        {"vocab", c->vocab, 256, 256},         /* byte tokens: every byte must be a token */
        {"d_model", c->d_model, 1, 16384},     {"n_layers", c->n_layers, 1, 256},
        {"n_heads", c->n_heads, 1, 1024},      {"d_nope", c->d_nope, 1, 4096},
        {"d_rope", c->d_rope, 2, 4096},        {"d_v", c->d_v, 1, 4096},
        {"d_latent", c->d_latent, 1, 16384},   {"n_experts", c->n_experts, 1, 1024},
        {"top_k", c->top_k, 1, c->n_experts},  {"d_expert", c->d_expert, 1, 65536},
        {"d_shared", c->d_shared, 1, 65536},   {"mtp_depth", c->mtp_depth, 1, 1},
        {"max_seq", c->max_seq, 2, 1 << 20},   {"fp8_block", c->fp8_block, 1, 65536},
        {"reserved", c->reserved, 0, 0},
    };
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++)
        if (range[i].value < range[i].lo || range[i].value > range[i].hi)
            return fail(err, err_len, "config: %s = %d is out of range (%d .. %d)", range[i].name, range[i].value,
                        range[i].lo, range[i].hi);
    if (c->d_rope % 2) return fail(err, err_len, "config: d_rope = %d must be even (RoPE rotates pairs)", c->d_rope);
    if (!(c->rope_theta > 1.0f) || !isfinite(c->rope_theta))
        return fail(err, err_len, "config: rope_theta = %g must be a finite number above 1", c->rope_theta);
    if (!(c->norm_eps > 0.0f) || !(c->norm_eps < 1.0f))
        return fail(err, err_len, "config: norm_eps = %g must lie in (0, 1)", c->norm_eps);
    return 0;
}

int mini_parse_weights(unsigned char *image, size_t size, MiniWeights *w, char *err, size_t err_len) {
    memset(w, 0, sizeof *w);
    w->image = image;
    w->image_bytes = size;
    const unsigned char *img = image;

    /* 1. what the file is, before trusting anything in it */
    if (size < MINI_FIXED_HEADER + 8)
        return fail(err, err_len, "truncated: %zu bytes is too short for the %d-byte header and the checksum", size,
                    MINI_FIXED_HEADER);
    if (memcmp(img, MINI_MAGIC, 8) != 0)
        return fail(err, err_len, "bad magic: not a mini-model weights file (expected \"KWMINI\\0\\1\")");
    uint32_t version = read_u32(img + 8);
    if (version != MINI_VERSION)
        return fail(err, err_len, "format version %u, but this engine reads version %d", version, MINI_VERSION);

    /* 2. the tensor table and the size: does the file hold all the data its table lists? */
    uint32_t header_bytes = read_u32(img + 12), n_tensors = read_u32(img + 88);
    if (n_tensors == 0 || n_tensors > 1000000)
        return fail(err, err_len, "tensor table: n_tensors = %u is out of range", n_tensors);
    uint64_t want_header = MINI_FIXED_HEADER + (uint64_t)n_tensors * MINI_ENTRY_BYTES;
    if (header_bytes != want_header)
        return fail(err, err_len, "header_bytes = %u, but %u tensors make a %llu-byte header", header_bytes, n_tensors,
                    (unsigned long long)want_header);
    if (size < (uint64_t)header_bytes + 8)
        return fail(err, err_len, "truncated: the file is %zu bytes, its header alone needs %u plus the checksum", size,
                    header_bytes);
    const size_t data_end = size - 8;   /* the checksum follows the data */
    for (uint32_t i = 0; i < n_tensors; i++) {
        const unsigned char *e = img + MINI_FIXED_HEADER + (size_t)i * MINI_ENTRY_BYTES;
        char name[MINI_NAME_BYTES + 1];
        memcpy(name, e, MINI_NAME_BYTES);
        name[MINI_NAME_BYTES] = 0;
        if (memchr(e, 0, MINI_NAME_BYTES) == NULL || name[0] == 0)
            return fail(err, err_len, "tensor table: entry %u has no NUL-terminated name", i);
        uint32_t dtype = read_u32(e + 64), ndim = read_u32(e + 68);
        if (mini_dtype_bytes(dtype) == 0) return fail(err, err_len, "tensor '%s': unknown dtype %u", name, dtype);
        if (ndim < 1 || ndim > 4) return fail(err, err_len, "tensor '%s': ndim = %u is out of range (1 .. 4)", name, ndim);
        uint64_t elements = 1;
        for (uint32_t d = 0; d < 4; d++) {
            uint32_t dim = read_u32(e + 72 + 4 * d);
            if (dim == 0 || (d >= ndim && dim != 1))
                return fail(err, err_len, "tensor '%s': dims[%u] = %u (a used dim is >= 1, an unused one is 1)", name, d, dim);
            elements *= dim;
            if (elements > ((uint64_t)1 << 40)) return fail(err, err_len, "tensor '%s': absurdly large", name);
        }
        uint64_t offset = read_u64(e + 88), bytes = elements * mini_dtype_bytes(dtype);
        if (offset % MINI_DATA_ALIGN != 0)
            return fail(err, err_len, "tensor '%s': data offset %llu is not %d-byte aligned", name,
                        (unsigned long long)offset, MINI_DATA_ALIGN);
        if (offset < header_bytes)
            return fail(err, err_len, "tensor '%s': data offset %llu lies inside the header", name, (unsigned long long)offset);
        if (offset + bytes > data_end)
            return fail(err, err_len, "tensor '%s' (bytes %llu .. %llu) lies outside the file's %zu data bytes: the file is truncated or its table is wrong",
                        name, (unsigned long long)offset, (unsigned long long)(offset + bytes), data_end);
    }

    /* 3. the checksum: any flipped byte in the file */
    uint64_t stored = read_u64(img + data_end), computed = mini_fnv1a64(img, data_end);
    if (stored != computed)
        return fail(err, err_len, "checksum mismatch: the file says %016llx, its bytes give %016llx (corrupt file)",
                    (unsigned long long)stored, (unsigned long long)computed);

    /* 4. the config */
    MiniConfig *cf = &w->cfg;
    int *fields[16] = {&cf->vocab,     &cf->d_model,  &cf->n_layers, &cf->n_heads,   &cf->d_nope,    &cf->d_rope,
                       &cf->d_v,       &cf->d_latent, &cf->n_experts, &cf->top_k,    &cf->d_expert,  &cf->d_shared,
                       &cf->mtp_depth, &cf->max_seq,  &cf->fp8_block, &cf->reserved};   /* file order */
    for (int i = 0; i < 16; i++) {
        uint32_t v = read_u32(img + 16 + 4 * i);
        *fields[i] = v > (1u << 30) ? -1 : (int)v;   /* huge values: out of range below */
    }
    w->cfg.rope_theta = read_f32(img + 80);
    w->cfg.norm_eps = read_f32(img + 84);
    if (check_config(&w->cfg, err, err_len)) return -1;

    /* 5. every tensor the model needs, with its dtype and shape */
    const MiniConfig *c = &w->cfg;
    Parser p = {w, img + MINI_FIXED_HEADER, n_tensors, err, err_len, 0};
    w->embed = tensor_bf16(&p, "embed", c->vocab, c->d_model);
    w->lm_head = tensor_bf16(&p, "lm_head", c->vocab, c->d_model);
    w->final_norm = tensor_f32(&p, "final_norm", c->d_model, 0);
    w->layers = owned_alloc(w, (size_t)c->n_layers * sizeof *w->layers);
    if (!w->layers) return fail(err, err_len, "out of memory");
    for (int l = 0; l < c->n_layers && !p.failed; l++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "layers.%d", l);
        block(&p, prefix, &w->layers[l]);
    }
    w->mtp_hnorm = tensor_f32(&p, "mtp.hnorm", c->d_model, 0);
    w->mtp_enorm = tensor_f32(&p, "mtp.enorm", c->d_model, 0);
    w->mtp_final_norm = tensor_f32(&p, "mtp.final_norm", c->d_model, 0);
    w->mtp_proj = tensor_bf16(&p, "mtp.proj", c->d_model, 2 * c->d_model);
    block(&p, "mtp.block", &w->mtp_block);
    return p.failed ? -1 : 0;
}

int mini_load_weights(const char *path, MiniWeights *w, char *err, size_t err_len) {
    memset(w, 0, sizeof *w);
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, err_len, "cannot open it: %s", strerror(errno));
    unsigned char *image = NULL;
    size_t size = 0, cap = 0, got;
    do {   /* read to the end without trusting a reported size */
        if (size == cap) {
            cap = cap ? 2 * cap : (1 << 20);
            unsigned char *grown = realloc(image, cap);
            if (!grown) { free(image); fclose(f); return fail(err, err_len, "out of memory reading %s", path); }
            image = grown;
        }
        got = fread(image + size, 1, cap - size, f);
        size += got;
    } while (got > 0);
    int read_error = ferror(f);
    fclose(f);
    if (read_error) { free(image); return fail(err, err_len, "cannot read %s", path); }
    return mini_parse_weights(image, size, w, err, err_len);
}

void mini_free_weights(MiniWeights *w) {
    for (int i = 0; i < w->n_allocations; i++) free(w->allocations[i]);
    free(w->allocations);
    free(w->image);
    memset(w, 0, sizeof *w);
}
