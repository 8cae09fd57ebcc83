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

/* Row i of C as doubles, whichever type C has (the values gr_value gives). */
static void c_row(const void *C, gr_dtype c_dtype, long i, long N, double *out) {
    if (c_dtype == GR_F32)
        for (long j = 0; j < N; j++) out[j] = ((const float *)C)[i * N + j];
    else if (c_dtype == GR_BF16)
        for (long j = 0; j < N; j++) {
            const uint32_t bits = (uint32_t)((const uint16_t *)C)[i * N + j] << 16;
            float f;
            memcpy(&f, &bits, sizeof f);
            out[j] = f;
        }
    else
        for (long j = 0; j < N; j++) out[j] = gr_value(c_dtype, C, (size_t)(i * N + j));
}

#define ROUNDS 2   /* random vectors x */
#define ROWS 4     /* rows of A and C whose sums are formed side by side */

/* C = alpha * A*B + beta * C0 with B stored K x N, or C = A*B^T with B stored N x K (b_transposed,
 * alpha 1, beta 0): one loop for both layouts and for float32 or bfloat16 C. Each sum adds its terms
 * in index order; the two vectors' sums, and those of ROWS rows, are formed side by side in one pass
 * over the matrices (independent sums keep the adder busy, where one sum waits on each add). */
static double freivalds(const float *A, const float *B, bool b_transposed, const float *C0, float alpha, float beta,
                        const void *C, gr_dtype c_dtype, long M, long N, long K, uint64_t seed) {
    double *x[ROUNDS], *bx[ROUNDS], *c_rows = malloc(sizeof(double) * (size_t)(ROWS * N));
    bool ok = c_rows != NULL;
    for (int r = 0; r < ROUNDS; r++) {
        x[r] = malloc(sizeof(double) * (size_t)N);
        bx[r] = malloc(sizeof(double) * (size_t)K);
        ok = ok && x[r] && bx[r];
    }
    double worst = 0;
    if (ok) {
        for (int r = 0; r < ROUNDS; r++) {
            uint64_t s = gr_derive_seed(seed, 0xF7E1, (uint64_t)r);
            for (long j = 0; j < N; j++) x[r][j] = (gr_rng_next(&s) & 1) ? 1.0 : -1.0;
        }
        /* bx = (the K x N operand) x, walking B in memory order whichever way it is stored. */
        if (b_transposed) {
            for (int r = 0; r < ROUNDS; r++)
                for (long k = 0; k < K; k++) bx[r][k] = 0;
            for (long j = 0; j < N; j++)
                for (long k = 0; k < K; k++) {
                    const double b = B[j * K + k];
                    for (int r = 0; r < ROUNDS; r++) bx[r][k] += b * x[r][j];
                }
        } else {
            for (long k = 0; k < K; k++) {
                double acc[ROUNDS] = {0};
                for (long j = 0; j < N; j++) {
                    const double b = B[k * N + j];
                    for (int r = 0; r < ROUNDS; r++) acc[r] += b * x[r][j];
                }
                for (int r = 0; r < ROUNDS; r++) bx[r][k] = acc[r];
            }
        }
        double diff_sq[ROUNDS] = {0}, ref_sq[ROUNDS] = {0};
        for (long i0 = 0; i0 < M; i0 += ROWS) {
            const int rows = M - i0 < ROWS ? (int)(M - i0) : ROWS;
            double abx[ROWS][ROUNDS] = {{0}}, cx[ROWS][ROUNDS] = {{0}};
            for (int t = 0; t < rows; t++) c_row(C, c_dtype, i0 + t, N, c_rows + t * N);
            for (long k = 0; k < K; k++)
                for (int t = 0; t < rows; t++) {
                    const double a = A[(i0 + t) * K + k];
                    for (int r = 0; r < ROUNDS; r++) abx[t][r] += a * bx[r][k];
                }
            for (int t = 0; t < rows; t++)
                for (int r = 0; r < ROUNDS; r++) abx[t][r] *= alpha;
            if (C0 && beta != 0.0f)
                for (long j = 0; j < N; j++)
                    for (int t = 0; t < rows; t++) {
                        const double c0 = (double)beta * C0[(i0 + t) * N + j];
                        for (int r = 0; r < ROUNDS; r++) abx[t][r] += c0 * x[r][j];
                    }
            for (long j = 0; j < N; j++)
                for (int t = 0; t < rows; t++)
                    for (int r = 0; r < ROUNDS; r++) cx[t][r] += c_rows[t * N + j] * x[r][j];
            for (int t = 0; t < rows; t++)
                for (int r = 0; r < ROUNDS; r++) {
                    diff_sq[r] += (cx[t][r] - abx[t][r]) * (cx[t][r] - abx[t][r]);
                    ref_sq[r] += abx[t][r] * abx[t][r];
                }
        }
        for (int r = 0; r < ROUNDS; r++) {
            double rel = ref_sq[r] > 0 ? sqrt(diff_sq[r] / ref_sq[r]) : sqrt(diff_sq[r]);
            if (!(rel <= worst)) worst = rel;  /* keeps NaN */
        }
    } else {
        worst = NAN;
    }
    for (int r = 0; r < ROUNDS; r++) {
        free(x[r]);
        free(bx[r]);
    }
    free(c_rows);
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
