/* CPU references for attention: softmax, online softmax, scaled dot-product attention. float64
 * inside, one rounding to float32 at the end. See attention.h for the layouts and the mask. */
#include "attention.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double *alloc_doubles(long n) {
    double *p = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (!p) { fprintf(stderr, "attention reference: out of host memory\n"); exit(70); }
    return p;
}

/* ---- softmax ---------------------------------------------------------------------------------- */

void ref_softmax_row(const float *x, int n, float *out) {
    double m = -INFINITY, s = 0;
    for (int j = 0; j < n; j++) m = x[j] > m ? x[j] : m;
    if (m == -INFINITY) {  /* nothing visible: no probability to hand out */
        for (int j = 0; j < n; j++) out[j] = 0.0f;
        return;
    }
    for (int j = 0; j < n; j++) s += exp((double)x[j] - m);
    for (int j = 0; j < n; j++) out[j] = (float)(exp((double)x[j] - m) / s);
}

void ref_online_softmax_row(const float *x, int n, int tile, float *out, ref_online_trace trace, void *ctx) {
    if (tile < 1 || tile > n) tile = n > 0 ? n : 1;
    double m = -INFINITY, s = 0;  /* the running max and the sum of exp(x - m) so far */
    int step = 0;
    for (int begin = 0; begin < n; begin += tile) {
        int end = begin + tile < n ? begin + tile : n;
        ref_online_step st = {.step = ++step, .begin = begin, .end = end, .tile_max = -INFINITY, .old_max = m};
        for (int j = begin; j < end; j++) st.tile_max = x[j] > st.tile_max ? x[j] : st.tile_max;
        st.running_max = st.tile_max > m ? st.tile_max : m;
        /* The old sum was taken against the old max: multiplying by exp(m_old - m_new) re-bases it.
         * An empty old sum (m = -inf) contributes nothing, and exp(-inf - -inf) would be NaN. */
        st.rescale = m == -INFINITY ? 0.0 : exp(m - st.running_max);
        if (st.running_max != -INFINITY)
            for (int j = begin; j < end; j++) st.tile_sum += exp((double)x[j] - st.running_max);
        st.running_sum = s * st.rescale + st.tile_sum;
        m = st.running_max;
        s = st.running_sum;
        if (trace) trace(&st, ctx);
    }
    for (int j = 0; j < n; j++) out[j] = m == -INFINITY ? 0.0f : (float)(exp((double)x[j] - m) / s);
}

/* ---- attention -------------------------------------------------------------------------------- */

int ref_attention_visible(int i, int sq, int skv, bool causal) {
    if (!causal) return skv;
    long v = (long)i + 1 + skv - sq;  /* keys 0 .. i + (skv - sq) */
    return (int)(v < 0 ? 0 : v > skv ? skv : v);
}

void ref_attention_row(const float *q_row, const float *k_head, const float *v_head, int skv, int d, float scale,
                       int visible_keys, float *out_row, float *lse_out, float *scale_out) {
    (void)skv;
    const int n = visible_keys;
    if (n <= 0) {
        for (int c = 0; c < d; c++) {
            out_row[c] = 0.0f;
            if (scale_out) scale_out[c] = 0.0f;
        }
        if (lse_out) *lse_out = -INFINITY;
        return;
    }
    /* Scores, their max, and the unnormalised probabilities exp(score - max) (never above 1). */
    double *p = alloc_doubles(n), m = -INFINITY;
    for (int j = 0; j < n; j++) {
        const float *k = k_head + (long)j * d;
        double dot = 0;
        for (int c = 0; c < d; c++) dot += (double)q_row[c] * k[c];
        p[j] = (double)scale * dot;
        m = p[j] > m ? p[j] : m;
    }
    double l = 0;
    for (int j = 0; j < n; j++) l += p[j] = exp(p[j] - m);

    double *acc = alloc_doubles(2L * d), *mag = acc + d;
    for (int c = 0; c < d; c++) acc[c] = mag[c] = 0;
    for (int j = 0; j < n; j++) {
        const float *v = v_head + (long)j * d;
        for (int c = 0; c < d; c++) {
            acc[c] += p[j] * v[c];
            mag[c] += p[j] * fabs((double)v[c]);
        }
    }
    for (int c = 0; c < d; c++) {
        out_row[c] = (float)(acc[c] / l);
        if (scale_out) scale_out[c] = (float)(mag[c] / l);
    }
    if (lse_out) *lse_out = (float)(m + log(l));
    free(acc);
    free(p);
}

void ref_attention(const float *q, const float *k, const float *v, float *out, float *lse, int batch, int heads,
                   int sq, int skv, int d, float scale, bool causal) {
    for (long bh = 0; bh < (long)batch * heads; bh++) {
        const float *kh = k + bh * skv * d, *vh = v + bh * skv * d;
        for (int i = 0; i < sq; i++) {
            long row = bh * sq + i;
            ref_attention_row(q + row * d, kh, vh, skv, d, scale, ref_attention_visible(i, sq, skv, causal),
                              out + row * d, lse ? lse + row : NULL, NULL);
        }
    }
}
