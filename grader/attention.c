/* Attention exercises: counting, inputs, reference and tolerance shared by sessions 08 and 09. */
#include "attention.h"

#include <math.h>
#include <string.h>

#include "ref/attention.h"

double gr_attention_visible_pairs(const gr_shape *s) {
    const long sq = ATTN_SQ(s), skv = ATTN_SKV(s);
    if (!ATTN_CAUSAL(s)) return (double)sq * (double)skv;
    double pairs = 0;
    for (long i = 0; i < sq; i++) pairs += ref_attention_visible((int)i, (int)sq, (int)skv, true);
    return pairs;
}

double gr_attention_flops(const gr_shape *s) {
    return 4.0 * ATTN_HEADS(s) * gr_attention_visible_pairs(s) * ATTN_HD(s);
}

static float bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}
static uint16_t float_to_bf16_exact(float f) {  /* only for values that are BF16 already */
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return (uint16_t)(bits >> 16);
}

void gr_attention_stretch_queries(gr_case *c) {
    const gr_shape *s = &c->shape;
    uint16_t *q = (uint16_t *)gr_in(c, "q");
    const long rows = ATTN_HEADS(s) * ATTN_SQ(s), d = ATTN_HD(s);
    for (long r = 0; r < rows; r++) {
        const float f = ldexpf(1.0f, (int)gr_random_uniform(c, 0.0, 9.0));
        for (long x = 0; x < d; x++) q[r * d + x] = float_to_bf16_exact(bf16_to_float(q[r * d + x]) * f);
    }
}

void gr_attention_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    const long sq = ATTN_SQ(s), skv = ATTN_SKV(s), d = ATTN_HD(s);
    const float *q = gr_in_f32(c, "q"), *k = gr_in_f32(c, "k"), *v = gr_in_f32(c, "v");
    float *out = gr_ref(c, "out"), *mag = gr_scale(c, "out");
    bool has_lse = false;
    for (int b = 0; b < c->n_buffers; b++) has_lse |= strcmp(c->buf[b].name, "lse") == 0;
    float *lse = has_lse ? gr_ref(c, "lse") : NULL, *lse_mag = has_lse ? gr_scale(c, "lse") : NULL;
    for (long r = r0; r < r1; r++) {
        const long head = r / sq;
        const int visible = ref_attention_visible((int)(r % sq), (int)sq, (int)skv, ATTN_CAUSAL(s));
        ref_attention_row(q + r * d, k + head * skv * d, v + head * skv * d, (int)skv, (int)d, ATTN_SCALE(s),
                          visible, out + r * d, lse ? lse + r : NULL, mag + r * d);
        if (lse_mag) lse_mag[r] = 1.0f;
    }
}

double gr_attention_tolerance(const gr_shape *s) {
    (void)s;
    return 1.0 / 256.0;
}

/* The output is BF16, as PyTorch's is; the log-sum-exp FP32. */
void gr_flash_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    const long heads = ATTN_HEADS(s), sq = ATTN_SQ(s), skv = ATTN_SKV(s), d = ATTN_HD(s);
    gr_input(c, "q", GR_BF16, (size_t)(heads * sq * d), GR_FILL_SIGNED);
    gr_input(c, "k", GR_BF16, (size_t)(heads * skv * d), GR_FILL_SIGNED);
    gr_input(c, "v", GR_BF16, (size_t)(heads * skv * d), GR_FILL_SIGNED);
    gr_output(c, "out", GR_BF16, (size_t)(heads * sq * d), d);
    gr_output(c, "lse", GR_F32, (size_t)(heads * sq), 1);
    c->rows = heads * sq;  /* one reference row: one query row's output and its log-sum-exp */
}

double gr_flash_bytes(const gr_shape *s) {
    return ATTN_HEADS(s) * (2.0 * ATTN_HD(s) * (2.0 * ATTN_SQ(s) + 2.0 * ATTN_SKV(s)) + 4.0 * ATTN_SQ(s));
}
