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
    const unsigned char **by_name;   /* the table's entries sorted by name: lookups by bisection */
    uint32_t n_tensors;
    char *err;
    size_t err_len;
    int failed;
} Parser;

/* Entries start with their NUL-padded name. */
static int cmp_entry_name(const void *a, const void *b) {
    return strncmp(*(const char *const *)a, *(const char *const *)b, MINI_NAME_BYTES);
}

static int cmp_entry_offset(const void *a, const void *b) {
    uint64_t x = read_u64(*(const unsigned char *const *)a + 88), y = read_u64(*(const unsigned char *const *)b + 88);
    return (x > y) - (x < y);
}

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
    /* Bisection, not a scan: a crafted table of a million entries must not cost a million scans. */
    const unsigned char *found = NULL;
    size_t lo = 0, hi = p->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp((const char *)p->by_name[mid], name, MINI_NAME_BYTES);
        if (c == 0) { found = p->by_name[mid]; lo = mid; break; }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    if (found && ((lo > 0 && !strncmp((const char *)p->by_name[lo - 1], name, MINI_NAME_BYTES)) ||
                  (lo + 1 < p->n_tensors && !strncmp((const char *)p->by_name[lo + 1], name, MINI_NAME_BYTES)))) {
        p->failed = fail(p->err, p->err_len, "tensor table: '%s' appears twice", name);
        return NULL;
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

/* ---- what a config makes a model allocate --------------------------------------------------- */

/* a * b, or UINT64_MAX where that would not fit: a crafted config must not wrap to a small size. */
static uint64_t mul_sat(uint64_t a, uint64_t b) { return b && a > UINT64_MAX / b ? UINT64_MAX : a * b; }
static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
static uint64_t dim(int v) { return v > 0 ? (uint64_t)v : 0; }

MiniFootprint mini_footprint(const MiniConfig *c) {
    MiniFootprint f;
    const uint64_t F = sizeof(float), B = MINI_FOOTPRINT_BATCH;
    /* rope.c: cosines and sines, [max_seq][d_rope/2] each */
    f.rope = mul_sat(mul_sat(2 * F, dim(c->max_seq)), dim(c->d_rope / 2));
    /* mla.c: per cache [max_seq][d_latent] latents and [max_seq][d_rope] keys; one cache per main
     * layer and one for the MTP block */
    f.kv_cache = mul_sat(mul_sat(mul_sat(F, dim(c->n_layers) + 1), dim(c->max_seq)), dim(c->d_latent) + dim(c->d_rope));
    /* workspace.c: the buffers per position of a batch, then those allocated once (its row buffer,
     * the widest of four widths, counted as their sum: a bound) */
    uint64_t hidden = dim(c->d_expert) > dim(c->d_shared) ? dim(c->d_expert) : dim(c->d_shared);
    uint64_t per_position = 5 * dim(c->d_model);
    per_position = add_sat(per_position, mul_sat(dim(c->n_heads), dim(c->d_nope) + dim(c->d_rope) + dim(c->d_v)));
    per_position = add_sat(per_position, dim(c->d_latent) + dim(c->d_rope) + 2 * dim(c->top_k) + 2 + 2 * hidden);
    /* the serving numerics' FP8 activations: codes, scales (at most one per value), decoded values */
    per_position = add_sat(per_position, 3 * (dim(c->d_model) > hidden ? dim(c->d_model) : hidden));
    uint64_t once = dim(c->max_seq) + 2 * dim(c->d_latent) + dim(c->d_nope) + dim(c->d_v) + dim(c->n_experts) +
                    2 * dim(c->d_model) + dim(c->d_model) + hidden + dim(c->d_latent) + mul_sat(dim(c->n_heads), dim(c->d_v));
    f.workspace = mul_sat(F, add_sat(mul_sat(B, per_position), once));
    return f;
}

/* The header field that makes a product large: the one furthest above its MODEL.md value. */
typedef struct { const char *name; int value, usual; } Field;

static const Field *culprit(const Field *fields, int n) {
    const Field *worst = &fields[0];
    for (int i = 1; i < n; i++)
        if ((double)fields[i].value / fields[i].usual > (double)worst->value / worst->usual) worst = &fields[i];
    return worst;
}

static int too_big(char *err, size_t err_len, const Field *fields, int n, uint64_t bytes, const char *what) {
    const Field *f = culprit(fields, n);
    double gib = (double)bytes / (double)(1ull << 30);
    char others[160] = "";
    size_t used = 0;
    for (int i = 0; i < n; i++)
        if (&fields[i] != f && used < sizeof others)
            used += (size_t)snprintf(others + used, sizeof others - used, "%s%s %d", used ? ", " : "", fields[i].name, fields[i].value);
    return fail(err, err_len, "header field %s = %d asks for %.*f GiB of %s (with %s); the limit is %llu GiB", f->name,
                f->value, gib < 10 ? 1 : 0, gib, what, others, (unsigned long long)(MINI_MAX_STATE_BYTES >> 30));
}

int mini_check_footprint(const MiniConfig *c, char *err, size_t err_len) {
    const MiniFootprint f = mini_footprint(c);
    const Field rope[] = {{"max_seq", c->max_seq, 1024}, {"d_rope", c->d_rope, 16}};
    const Field kv[] = {{"max_seq", c->max_seq, 1024}, {"n_layers", c->n_layers, 3}, {"d_latent", c->d_latent, 64},
                        {"d_rope", c->d_rope, 16}};
    const Field ws[] = {{"n_heads", c->n_heads, 4}, {"d_nope", c->d_nope, 32}, {"d_v", c->d_v, 32},
                        {"d_model", c->d_model, 256}, {"d_expert", c->d_expert, 64}, {"d_shared", c->d_shared, 128},
                        {"max_seq", c->max_seq, 1024}};
    if (f.kv_cache > MINI_MAX_STATE_BYTES) return too_big(err, err_len, kv, 4, f.kv_cache, "KV cache");
    if (f.rope > MINI_MAX_STATE_BYTES) return too_big(err, err_len, rope, 2, f.rope, "RoPE tables");
    if (f.workspace > MINI_MAX_STATE_BYTES) return too_big(err, err_len, ws, 7, f.workspace, "workspace");
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
        for (const char *c = name; *c; c++)   /* names end up in messages: one printable line */
            if (*c < 0x21 || *c > 0x7e) return fail(err, err_len, "tensor table: entry %u has a name that is not printable ASCII", i);
        uint32_t dtype = read_u32(e + 64), ndim = read_u32(e + 68);
        if (mini_dtype_bytes(dtype) == 0) return fail(err, err_len, "tensor '%s': unknown dtype %u", name, dtype);
        if (ndim < 1 || ndim > 4) return fail(err, err_len, "tensor '%s': ndim = %u is out of range (1 .. 4)", name, ndim);
        /* Sizes from the file are checked before they are multiplied or added, so nothing wraps:
         * elements stays below 2^40 and a dim below 2^32, and offset + bytes is never formed
         * before offset is known to lie in the file. */
        const uint64_t max_elements = (uint64_t)1 << 40;
        uint64_t elements = 1;
        for (uint32_t d = 0; d < 4; d++) {
            uint32_t dim = read_u32(e + 72 + 4 * d);
            if (dim == 0 || (d >= ndim && dim != 1))
                return fail(err, err_len, "tensor '%s': dims[%u] = %u (a used dim is >= 1, an unused one is 1)", name, d, dim);
            if (dim > max_elements / elements) return fail(err, err_len, "tensor '%s': absurdly large", name);
            elements *= dim;
        }
        uint64_t offset = read_u64(e + 88), bytes = elements * mini_dtype_bytes(dtype);
        if (offset % MINI_DATA_ALIGN != 0)
            return fail(err, err_len, "tensor '%s': data offset %llu is not %d-byte aligned", name,
                        (unsigned long long)offset, MINI_DATA_ALIGN);
        if (offset < header_bytes)
            return fail(err, err_len, "tensor '%s': data offset %llu lies inside the header", name, (unsigned long long)offset);
        if (offset > data_end || bytes > data_end - offset)
            return fail(err, err_len, "tensor '%s' (bytes from %llu, %llu of them) lies outside the file's %zu data bytes: the file is truncated or its table is wrong",
                        name, (unsigned long long)offset, (unsigned long long)bytes, data_end);
    }

    /* No two tensors share bytes: then the decoded weights are at most twice the file, whatever
     * the config says (BF16 becomes F32; FP8 codes stay in the image). */
    const unsigned char **entries = malloc((size_t)n_tensors * sizeof *entries);
    if (!entries) return fail(err, err_len, "out of memory for the tensor table");
    for (uint32_t i = 0; i < n_tensors; i++) entries[i] = img + MINI_FIXED_HEADER + (size_t)i * MINI_ENTRY_BYTES;
    qsort(entries, n_tensors, sizeof *entries, cmp_entry_offset);
    for (uint32_t i = 1; i < n_tensors; i++) {
        const unsigned char *a = entries[i - 1], *b = entries[i];
        uint64_t a_bytes = mini_dtype_bytes(read_u32(a + 64));
        for (int d = 0; d < 4; d++) a_bytes *= read_u32(a + 72 + 4 * d);   /* checked above: no wrap */
        if (read_u64(a + 88) + a_bytes > read_u64(b + 88)) {   /* both lie in the file: no wrap */
            int rc = fail(err, err_len, "tensor table: the data of '%.64s' and '%.64s' overlap", (const char *)a, (const char *)b);
            free(entries);
            return rc;
        }
    }

    /* 3. the checksum: any flipped byte in the file */
    uint64_t stored = read_u64(img + data_end), computed = mini_fnv1a64(img, data_end);
    if (stored != computed) {
        free(entries);
        return fail(err, err_len, "checksum mismatch: the file says %016llx, its bytes give %016llx (corrupt file)",
                    (unsigned long long)stored, (unsigned long long)computed);
    }

    /* 4. the config */
    MiniConfig *cf = &w->cfg;
    int *fields[16] = {&cf->vocab,     &cf->d_model,  &cf->n_layers, &cf->n_heads,   &cf->d_nope,    &cf->d_rope,
                       &cf->d_v,       &cf->d_latent, &cf->n_experts, &cf->top_k,    &cf->d_expert,  &cf->d_shared,
                       &cf->mtp_depth, &cf->max_seq,  &cf->fp8_block, &cf->reserved};   /* file order */
    static const char *const names[16] = {"vocab", "d_model", "n_layers", "n_heads", "d_nope", "d_rope", "d_v",
                                          "d_latent", "n_experts", "top_k", "d_expert", "d_shared", "mtp_depth",
                                          "max_seq", "fp8_block", "reserved"};
    for (int i = 0; i < 16; i++) {
        uint32_t v = read_u32(img + 16 + 4 * i);
        if (v > (1u << 30)) {   /* far above every range below; and it would not fit an int */
            free(entries);
            return fail(err, err_len, "config: %s = %u is out of range", names[i], v);
        }
        *fields[i] = (int)v;
    }
    w->cfg.rope_theta = read_f32(img + 80);
    w->cfg.norm_eps = read_f32(img + 84);
    /* and what it would make a model allocate (RoPE tables, KV caches, workspace), before anything is */
    if (check_config(&w->cfg, err, err_len) || mini_check_footprint(&w->cfg, err, err_len)) { free(entries); return -1; }

    /* 5. every tensor the model needs, with its dtype and shape */
    const MiniConfig *c = &w->cfg;
    qsort(entries, n_tensors, sizeof *entries, cmp_entry_name);
    Parser p = {w, entries, n_tensors, err, err_len, 0};
    w->embed = tensor_bf16(&p, "embed", c->vocab, c->d_model);
    w->lm_head = tensor_bf16(&p, "lm_head", c->vocab, c->d_model);
    w->final_norm = tensor_f32(&p, "final_norm", c->d_model, 0);
    w->layers = owned_alloc(w, (size_t)c->n_layers * sizeof *w->layers);
    if (!w->layers) { free(entries); return fail(err, err_len, "out of memory"); }
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
    free(entries);
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
        /* Not a weights file (or /dev/zero): say so now rather than after reading all of it. */
        if (size >= 8 && size - got < 8 && memcmp(image, MINI_MAGIC, 8) != 0) break;
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
