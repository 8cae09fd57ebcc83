/* Session 12's GEMV exercises as the grader sees them: 01, Y = X W^T, and 02, the same after an
 * RMSNorm of each row of X. Shapes are (M, N, K): X is M x K, W is N x K (row n: the K weights of
 * output n), Y is M x N, all BF16. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "library.h"
#include "ref/references.h"
#include "serving.h"

#define M_OF(s) ((s)->d[0])
#define N_OF(s) ((s)->d[1])
#define K_OF(s) ((s)->d[2])

/* ---- 01: Y = X W^T --------------------------------------------------------------------------- */

void sv_gemv_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    gr_input(c, "W", GR_BF16, (size_t)(N_OF(s) * K_OF(s)), GR_FILL_SIGNED);
    gr_input(c, "X", GR_BF16, (size_t)(M_OF(s) * K_OF(s)), GR_FILL_SIGNED);
    gr_output(c, "Y", GR_BF16, (size_t)(M_OF(s) * N_OF(s)), N_OF(s));
    c->rows = M_OF(s);
}

/* The exact product of the BF16 inputs (float64 sums), kept in float32: a linear layer, A = X. */
void sv_gemv_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    ref_gemm_nt(gr_in_f32(c, "X"), gr_in_f32(c, "W"), gr_ref(c, "Y"), M_OF(s), N_OF(s), K_OF(s), r0, r1);
}

/* Y = X W^T is C = A B^T with A = X, B = W: the faster of cuBLAS and cuBLASLt for the shape. */
void sv_gemv_library(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    gr_lib_gemm_bf16_nt((int)M_OF(s), (int)N_OF(s), (int)K_OF(s), gr_ptr(c, "X"), gr_ptr(c, "W"), gr_ptr(c, "Y"),
                        stream);
}

/* ---- 02: Y = RMSNorm(X) W^T ------------------------------------------------------------------ */

void sv_rmsnorm_qkv_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    gr_input(c, "W", GR_BF16, (size_t)(N_OF(s) * K_OF(s)), GR_FILL_SIGNED);
    gr_input(c, "X", GR_BF16, (size_t)(M_OF(s) * K_OF(s)), GR_FILL_SIGNED);
    gr_input(c, "gamma", GR_BF16, (size_t)K_OF(s), GR_FILL_SIGNED);
    gr_output(c, "Y", GR_BF16, (size_t)(M_OF(s) * N_OF(s)), N_OF(s));
    /* eps as models use it (1e-6 .. 1e-5), drawn fresh, and rounded to the float32 the launcher
     * receives, so that the reference uses the very same number. */
    c->param[0] = (float)pow(10.0, gr_random_uniform(c, -6.0, -5.0));
    c->rows = M_OF(s);
}

/* bfloat16 of a float, rounded to nearest even (finite values). */
static uint16_t to_bf16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

/* With inputs uniform in [-1, 1), mean(x^2) is about 1/3 and an eps of 1e-5 changes the result by
 * 1e-5: a kernel that drops eps, or adds it in the wrong place, would pass. So the even rows of X
 * are scaled by a power of two (exact in BF16) that brings their mean square to between eps / 2
 * and 2 eps, where eps decides half of the scale; the odd rows keep the usual magnitudes. */
void sv_rmsnorm_qkv_adjust(gr_case *c) {
    const gr_shape *s = &c->shape;
    const long M = M_OF(s), K = K_OF(s);
    const double eps = c->param[0];
    uint16_t *X = (uint16_t *)gr_find(c, "X")->host;
    for (long m = 0; m < M; m += 2) {
        uint16_t *x = X + m * K;
        double ms = 0;
        for (long k = 0; k < K; k++) {
            const double v = gr_value(GR_BF16, x, (size_t)k);
            ms += v * v;
        }
        ms /= (double)K;
        if (!(ms > 0)) continue;
        /* ms * 4^-j = eps * f, f drawn in [1/2, 2]; j rounded to the nearest whole power. */
        const double f = pow(2.0, gr_random_uniform(c, -1.0, 1.0));
        const long j = lround(log(ms / (eps * f)) / log(4.0));
        if (j <= 0) continue;
        const float scale = ldexpf(1.0f, (int)-j);
        for (long k = 0; k < K; k++) x[k] = to_bf16((float)gr_value(GR_BF16, x, (size_t)k) * scale);
    }
}

/* In float64: inv_rms = 1 / sqrt(sum x^2 / K + eps), then the product with the normalised row. */
void sv_rmsnorm_qkv_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    const long N = N_OF(s), K = K_OF(s);
    const float *X = gr_in_f32(c, "X"), *W = gr_in_f32(c, "W"), *gamma = gr_in_f32(c, "gamma");
    const double eps = c->param[0];
    float *Y = gr_ref(c, "Y");
    double *xn = malloc(sizeof(double) * (size_t)K);
    if (!xn) { fprintf(stderr, "grader: out of host memory\n"); exit(70); }
    for (long m = r0; m < r1; m++) {
        const float *x = X + m * K;
        double ss = 0;
        for (long k = 0; k < K; k++) ss += (double)x[k] * x[k];
        const double inv_rms = 1.0 / sqrt(ss / (double)K + eps);
        for (long k = 0; k < K; k++) xn[k] = (double)x[k] * gamma[k] * inv_rms;
        for (long n = 0; n < N; n++) {
            const float *w = W + n * K;
            double acc = 0;
            for (long k = 0; k < K; k++) acc += xn[k] * w[k];
            Y[m * N + n] = (float)acc;
        }
    }
    free(xn);
}

/* 01's tolerance, plus:
 *  - 2^-8 more for a kernel that rounds the normalised row to BF16 before the product, as the
 *    unfused pipeline does when it writes it to memory (and a kernel may, to stage it in shared
 *    memory): each term then errs by up to 2^-8 of itself. With random signs those errors add up
 *    to about 2^-8 / sqrt(3) of the result; with K = 1 the one term's 2^-8 and the output's 2^-8
 *    can add up fully, hence the whole 2^-8;
 *  - K eps more for the sum of squares (positive terms: at most K eps of the sum, half of it
 *    through the square root), and a few eps for the division, eps, the root and the scaling. */
double sv_rmsnorm_qkv_tolerance(const gr_shape *s) { return 0x1p-7 + 2.0 * GR_EPS_F32 * (double)K_OF(s); }

/* The product's 2 M N K, and the norm's 4 a row element: square, add, times gamma, times 1/rms. */
double sv_rmsnorm_qkv_flops(const gr_shape *s) {
    return 2.0 * M_OF(s) * N_OF(s) * K_OF(s) + 4.0 * M_OF(s) * K_OF(s);
}

/* W, X and gamma read once, Y written once; the normalised rows never reach memory. */
double sv_rmsnorm_qkv_bytes(const gr_shape *s) {
    return 2.0 * ((double)N_OF(s) * K_OF(s) + (double)M_OF(s) * K_OF(s) + (double)K_OF(s) +
                  (double)M_OF(s) * N_OF(s));
}

void sv_rmsnorm_qkv_library(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    gr_lib_rmsnorm_linear_bf16((int)M_OF(s), (int)N_OF(s), (int)K_OF(s), gr_ptr(c, "X"), gr_ptr(c, "gamma"),
                               (float)c->param[0], gr_ptr(c, "W"), gr_ptr(c, "Y"), stream);
}
