// Session 14's MLA decode on the CPU: what its emulation tests share. A grader case made on the host
// (the gr_* functions grader/finale_mla.c calls, filled from a seeded generator, so that
// fm_mla_declare, fm_mla_adjust and fm_mla_reference run here as the grader runs them), BF16 on the
// host, the grader's verdict, and one PASS or FAIL line a check. Included once by each test (one
// translation unit each: the gr_* functions are defined here), after the solution it follows.
#ifndef TESTS_FINALE_MLA_HOST_CASE_H
#define TESTS_FINALE_MLA_HOST_CASE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

extern "C" {
#include "finale_mla.h"
}

#include "../emulate_check.h"  // check(), next_random()
static double uniform01() { return (double)(next_random() >> 11) * 0x1p-53; }
static float bf16_f(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
// Round to nearest even, as __float2bfloat16_rn; a NaN stays a NaN (the rounding would carry some into infinity).
static uint16_t bf16_round(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7F800000u) == 0x7F800000u) return (uint16_t)(u >> 16) | ((u & 0xFFFF) ? 0x40 : 0);
    return (uint16_t)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

// ---- a grader case on the host: the gr_* functions finale_mla.c calls -------------------------
extern "C" {
int gr_input(gr_case *c, const char *name, gr_dtype dtype, size_t count, gr_fill fill) {
    gr_buffer *b = &c->buf[c->n_buffers++];
    memset(b, 0, sizeof *b);
    b->name = name;
    b->dtype = dtype;
    b->count = count;
    b->fill = fill;
    if (dtype == GR_BF16) {
        uint16_t *h = (uint16_t *)malloc(2 * (count ? count : 1));
        for (size_t i = 0; i < count; i++) h[i] = bf16_round((float)(2.0 * uniform01() - 1.0));
        b->host = h;
    } else {
        int *h = (int *)malloc(4 * (count ? count : 1));
        for (size_t i = 0; i < count; i++) h[i] = (int)(next_random() >> 40);
        b->host = h;
    }
    return c->n_buffers - 1;
}
int gr_output(gr_case *c, const char *name, gr_dtype dtype, size_t count, long row_len) {
    gr_buffer *b = &c->buf[c->n_buffers++];
    memset(b, 0, sizeof *b);
    b->name = name;
    b->dtype = dtype;
    b->count = count;
    b->is_output = true;
    b->row_len = row_len;
    b->ref = calloc(count, sizeof(float));
    b->scale = (float *)calloc(count, sizeof(float));
    return c->n_buffers - 1;
}
int gr_scratch(gr_case *c, const char *name, gr_dtype dtype, size_t count) {
    gr_buffer *b = &c->buf[c->n_buffers++];
    memset(b, 0, sizeof *b);
    b->name = name;
    b->dtype = dtype;
    b->count = count;
    b->is_scratch = true;
    return c->n_buffers - 1;
}
const gr_buffer *gr_find(const gr_case *c, const char *name) {
    for (int i = 0; i < c->n_buffers; i++)
        if (!strcmp(c->buf[i].name, name)) return &c->buf[i];
    fprintf(stderr, "FAIL  no buffer named %s\n", name);
    exit(1);
}
const void *gr_in(const gr_case *c, const char *name) { return gr_find(c, name)->host; }
void *gr_ref(gr_case *c, const char *name) { return gr_find(c, name)->ref; }
float *gr_scale(gr_case *c, const char *name) { return gr_find(c, name)->scale; }
const float *gr_in_f32(gr_case *c, const char *name) {
    const gr_buffer *b = gr_find(c, name);
    const int i = (int)(b - c->buf);
    if (!c->as_f32[i]) {
        c->as_f32[i] = (float *)malloc(sizeof(float) * b->count);
        for (size_t k = 0; k < b->count; k++) c->as_f32[i][k] = bf16_f(((const uint16_t *)b->host)[k]);
    }
    return c->as_f32[i];
}
double gr_random_uniform(gr_case *, double lo, double hi) { return lo + (hi - lo) * uniform01(); }
}

// The case of shape s with the grader's inputs drawn from `seed`, and its float64 reference.
static void make_case(gr_case *c, const gr_shape &s, uint64_t seed) {
    memset(c, 0, sizeof *c);
    c->shape = s;
    rng = seed;
    fm_mla_declare(c);
    fm_mla_adjust(c);
    fm_mla_reference(c, 0, c->rows);
}
static void free_case(gr_case *c) {
    for (int i = 0; i < c->n_buffers; i++) {
        free(c->buf[i].host);
        free(c->buf[i].ref);
        free(c->buf[i].scale);
        free(c->as_f32[i]);
    }
}

// The grader's verdict (grader/compare.h): ||out - ref|| / ||scale|| within tol, and every element
// within 8 tol (scale + rms(scale)).
static bool within(const gr_case *c, const std::vector<float> &out, double tol, double *rel) {
    const gr_buffer *b = gr_find(c, "out");
    const float *ref = (const float *)b->ref, *scale = b->scale;
    double err2 = 0, scale2 = 0;
    for (size_t i = 0; i < b->count; i++) {
        err2 += (out[i] - (double)ref[i]) * (out[i] - (double)ref[i]);
        scale2 += (double)scale[i] * scale[i];
    }
    const double rms = sqrt(scale2 / (double)b->count);
    bool elements = true;
    for (size_t i = 0; i < b->count; i++)
        elements &= isfinite(out[i]) && fabs(out[i] - (double)ref[i]) <= 8.0 * tol * (scale[i] + rms);
    *rel = sqrt(err2 / scale2);
    return elements && *rel <= tol;
}

#endif
