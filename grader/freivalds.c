/* Freivalds' check: a product C = A*B too large for a CPU reference is tested through C x = A (B x)
 * for a random vector x, which costs O(MK + KN + MN) instead of O(MNK). A wrong block of C shows up
 * in C x unless x happens to cancel it, which random signs make unlikely; two vectors are used. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "grader.h"
#include "rng.h"

double gr_freivalds_f32(const float *A, const float *B, const float *C, long M, long N, long K, uint64_t seed) {
    return gr_freivalds_gemm_f32(A, B, NULL, 1.0f, 0.0f, C, M, N, K, seed);
}

void gr_bf16_to_f32(const uint16_t *in, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)in[i] << 16;
        memcpy(&out[i], &bits, sizeof bits);
    }
}

/* C = alpha * A*B + beta * C0 with B stored K x N, or C = A*B^T with B stored N x K (b_transposed,
 * alpha 1, beta 0): one loop for both layouts and for float32 or bfloat16 C. */
static double freivalds(const float *A, const float *B, bool b_transposed, const float *C0, float alpha, float beta,
                        const void *C, gr_dtype c_dtype, long M, long N, long K, uint64_t seed) {
    double *x = malloc(sizeof(double) * (size_t)N), *bx = malloc(sizeof(double) * (size_t)K);
    double worst = 0;
    if (!x || !bx) { free(x); free(bx); return NAN; }
    for (int round = 0; round < 2; round++) {
        uint64_t s = gr_derive_seed(seed, 0xF7E1, (uint64_t)round);
        for (long j = 0; j < N; j++) x[j] = (gr_rng_next(&s) & 1) ? 1.0 : -1.0;
        /* bx = (the K x N operand) x, walking B in memory order whichever way it is stored. */
        if (b_transposed) {
            for (long k = 0; k < K; k++) bx[k] = 0;
            for (long j = 0; j < N; j++)
                for (long k = 0; k < K; k++) bx[k] += (double)B[j * K + k] * x[j];
        } else {
            for (long k = 0; k < K; k++) {
                double acc = 0;
                for (long j = 0; j < N; j++) acc += (double)B[k * N + j] * x[j];
                bx[k] = acc;
            }
        }
        double diff_sq = 0, ref_sq = 0;
        for (long i = 0; i < M; i++) {
            double abx = 0, cx = 0;
            for (long k = 0; k < K; k++) abx += (double)A[i * K + k] * bx[k];
            abx *= alpha;
            if (C0 && beta != 0.0f)
                for (long j = 0; j < N; j++) abx += (double)beta * C0[i * N + j] * x[j];
            for (long j = 0; j < N; j++) cx += gr_value(c_dtype, C, (size_t)(i * N + j)) * x[j];
            diff_sq += (cx - abx) * (cx - abx);
            ref_sq += abx * abx;
        }
        double rel = ref_sq > 0 ? sqrt(diff_sq / ref_sq) : sqrt(diff_sq);
        if (!(rel <= worst)) worst = rel;  /* keeps NaN */
    }
    free(x);
    free(bx);
    return worst;
}

double gr_freivalds_gemm_f32(const float *A, const float *B, const float *C0, float alpha, float beta,
                             const float *C, long M, long N, long K, uint64_t seed) {
    return freivalds(A, B, false, C0, alpha, beta, C, GR_F32, M, N, K, seed);
}

double gr_freivalds_nt(const float *A, const float *B, const void *C, gr_dtype c_dtype, long M, long N, long K,
                       uint64_t seed) {
    return freivalds(A, B, true, NULL, 1.0f, 0.0f, C, c_dtype, M, N, K, seed);
}
