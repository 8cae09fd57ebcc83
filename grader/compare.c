/* Output against reference: relative L2 error, the element bound, unwritten elements. */
#include "compare.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

size_t gr_dtype_size(gr_dtype dtype) {
    switch (dtype) {
    case GR_F32: return 4;
    case GR_F64: return 8;
    case GR_BF16: return 2;
    case GR_U8: return 1;
    case GR_I32: return 4;
    case GR_F16: return 2;
    }
    return 1;
}

double gr_value(gr_dtype dtype, const void *data, size_t i) {
    switch (dtype) {
    case GR_F32: return ((const float *)data)[i];
    case GR_F64: return ((const double *)data)[i];
    case GR_BF16: {
        uint32_t bits = (uint32_t)((const uint16_t *)data)[i] << 16;
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    case GR_U8: return ((const unsigned char *)data)[i];
    case GR_I32: return ((const int32_t *)data)[i];
    case GR_F16: return gr_f16_value(((const uint16_t *)data)[i]);
    }
    return NAN;
}

/* FP16: sign, 5 exponent bits (bias 15), 10 mantissa bits; exponent 0 is subnormal (m * 2^-24),
 * exponent 31 infinity (m = 0) or NaN. Every FP16 value is exact in float32. */
float gr_f16_value(uint16_t h) {
    const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
    float v;
    if (e == 31) v = m ? NAN : INFINITY;
    else if (e == 0) v = ldexpf((float)m, -24);
    else v = ldexpf((float)(1024 + m), e - 25);
    return (h & 0x8000) ? -v : v;
}

uint16_t gr_f16_round(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    const uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return sign | 0x7E00;           /* NaN stays a (quiet) NaN */
    if (ax >= 0x477FF000u) return sign | 0x7C00;          /* from 65520, half an ulp above 65504: infinity */
    if (ax < 0x38800000u)                                 /* below 2^-14: FP16 subnormal, m * 2^-24 */
        return sign | (uint16_t)nearbyintf(fabsf(f) * 16777216.0f);   /* exact scaling; rounds to even */
    /* Normal: drop 13 mantissa bits rounding to nearest even (a carry moves into the exponent, as it
     * should), then rebias the exponent from 127 to 15. */
    const uint32_t rounded = ax + 0xFFFu + ((ax >> 13) & 1u);
    return sign | (uint16_t)((rounded >> 13) - ((127u - 15u) << 10));
}

void gr_compare(gr_dtype dtype, const void *out, const void *ref, size_t count, long row_len,
                const unsigned char *row_mask, double tol, gr_comparison *cmp) {
    gr_compare_scaled(dtype, out, ref, NULL, count, row_len, row_mask, tol, cmp);
}

void gr_compare_scaled(gr_dtype dtype, const void *out, const void *ref, const float *scale, size_t count,
                       long row_len, const unsigned char *row_mask, double tol, gr_comparison *cmp) {
    memset(cmp, 0, sizeof *cmp);
    cmp->tol = tol;
    cmp->first_bad = -1;
    cmp->worst = -1;
    if (row_len < 1) row_len = 1;

    /* First pass: the size of the reference, for the relative figures. */
    double ref_sq = 0;
    long n_ref = 0;
    for (size_t i = 0; i < count; i++) {
        if (row_mask && !row_mask[i / (size_t)row_len]) continue;
        double r = scale ? scale[i] : gr_value(gr_ref_dtype(dtype), ref, i);
        if (isfinite(r)) { ref_sq += r * r; n_ref++; }
    }
    double ref_rms = n_ref ? sqrt(ref_sq / (double)n_ref) : 0;

    double diff_sq = 0, worst_scaled = -1;
    for (size_t i = 0; i < count; i++) {
        double o = gr_value(dtype, out, i);
        bool compared = !row_mask || row_mask[i / (size_t)row_len];
        if (!compared) {
            /* No reference here, but an unwritten (NaN) element is still an error. */
            if (!isfinite(o)) {
                cmp->n_unwritten++;
                cmp->n_bad++;
                if (cmp->first_bad < 0) { cmp->first_bad = (long)i; cmp->expected = NAN; cmp->got = o; }
            }
            continue;
        }
        double r = gr_value(gr_ref_dtype(dtype), ref, i);
        cmp->n_compared++;
        bool bad;
        double d;
        if (!isfinite(o) || !isfinite(r)) {
            bad = !(isnan(o) && isnan(r)) && !(o == r);
            if (!isfinite(o) && isfinite(r)) cmp->n_unwritten++;
            d = bad ? INFINITY : 0;
        } else {
            d = fabs(o - r);
            bad = d > GR_ELEMENT_FACTOR * tol * ((scale ? scale[i] : fabs(r)) + ref_rms);
        }
        diff_sq += d * d;
        double scaled = d / ((scale ? scale[i] : fabs(r)) + ref_rms + 1e-300);
        if (scaled > worst_scaled) { worst_scaled = scaled; cmp->worst = (long)i; cmp->worst_expected = r; cmp->worst_got = o; }
        if (bad) {
            cmp->n_bad++;
            if (cmp->first_bad < 0) { cmp->first_bad = (long)i; cmp->expected = r; cmp->got = o; }
        }
    }
    /* An all-zero reference leaves only absolute error to report. */
    cmp->rel_l2 = ref_sq > 0 ? sqrt(diff_sq / ref_sq) : sqrt(diff_sq / (double)(n_ref ? n_ref : 1));
    cmp->ok = cmp->n_bad == 0 && cmp->rel_l2 <= tol;
}

size_t gr_guard_diff(const unsigned char *got, const unsigned char *expected, size_t len, size_t *first) {
    size_t n = 0;
    *first = 0;
    for (size_t i = 0; i < len; i++) {
        if (got[i] != expected[i]) {
            if (n == 0) *first = i;
            n++;
        }
    }
    return n;
}

static void format_index(long i, long row_len, char *buf, size_t len) {
    if (row_len > 1) snprintf(buf, len, "[%ld] (row %ld, col %ld)", i, i / row_len, i % row_len);
    else snprintf(buf, len, "[%ld]", i);
}

void gr_describe_failure(const gr_comparison *cmp, const char *name, long row_len, char *msg, size_t msg_len) {
    char where[96];
    if (cmp->first_bad >= 0) {
        format_index(cmp->first_bad, row_len, where, sizeof where);
        if (!isfinite(cmp->got) && isnan(cmp->expected))
            snprintf(msg, msg_len, "%s%s was never written (still the NaN poured in before the launch); "
                     "%ld element(s) unwritten", name, where, cmp->n_unwritten);
        else if (isnan(cmp->got))
            snprintf(msg, msg_len, "%s%s was never written (still the NaN poured in before the launch): "
                     "expected %.6g; %ld element(s) unwritten", name, where, cmp->expected, cmp->n_unwritten);
        else
            snprintf(msg, msg_len, "first wrong element %s%s: expected %.6g, got %.6g; %ld wrong of %ld; "
                     "||out-ref||/||ref|| = %.2e (tolerance %.1e)", name, where, cmp->expected, cmp->got,
                     cmp->n_bad, cmp->n_compared, cmp->rel_l2, cmp->tol);
    } else {
        format_index(cmp->worst, row_len, where, sizeof where);
        snprintf(msg, msg_len, "%s is off overall: ||out-ref||/||ref|| = %.2e over tolerance %.1e "
                 "(worst element %s: expected %.6g, got %.6g)", name, cmp->rel_l2, cmp->tol, where,
                 cmp->worst_expected, cmp->worst_got);
    }
}
