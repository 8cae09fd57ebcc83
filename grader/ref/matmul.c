#include <math.h>
#include <stdlib.h>

#include "references.h"

void ref_matmul(const float *A, const float *B, float *C, long M, long N, long K, long row_begin, long row_end) {
    ref_gemm(A, B, NULL, 1.0f, 0.0f, C, M, N, K, row_begin, row_end);
}

void ref_gemm(const float *A, const float *B, const float *C0, float alpha, float beta, float *C, long M, long N,
              long K, long row_begin, long row_end) {
    ref_gemm_scaled(A, B, C0, alpha, beta, C, NULL, M, N, K, row_begin, row_end);
}

void ref_gemm_scaled(const float *A, const float *B, const float *C0, float alpha, float beta, float *C, float *scale,
                     long M, long N, long K, long row_begin, long row_end) {
    (void)M;
    /* i-k-j order with float64 row accumulators: the inner loop walks a row of B contiguously. */
    size_t n = (size_t)(N > 0 ? N : 1);
    double *acc = malloc(sizeof(double) * n), *mag = scale ? malloc(sizeof(double) * n) : NULL;
    if (!acc || (scale && !mag)) abort();
    for (long i = row_begin; i < row_end; i++) {
        for (long j = 0; j < N; j++) acc[j] = 0;
        if (mag) for (long j = 0; j < N; j++) mag[j] = 0;
        for (long k = 0; k < K; k++) {
            double a = A[i * K + k];
            const float *b = B + k * N;
            for (long j = 0; j < N; j++) acc[j] += a * b[j];
            if (mag) for (long j = 0; j < N; j++) mag[j] += fabs(a * b[j]);
        }
        for (long j = 0; j < N; j++) {
            double v = (double)alpha * acc[j];
            if (C0 && beta != 0.0f) v += (double)beta * C0[i * N + j];
            C[i * N + j] = (float)v;
            if (scale) {
                double m = fabs((double)alpha) * mag[j];
                if (C0 && beta != 0.0f) m += fabs((double)beta * C0[i * N + j]);
                scale[i * N + j] = (float)m;
            }
        }
    }
    free(acc);
    free(mag);
}

void ref_gemm_nt(const float *A, const float *B, float *C, long M, long N, long K, long row_begin, long row_end) {
    (void)M;
    /* Each output is the dot product of a row of A and a row of B, both contiguous in memory. Four
     * outputs at a time share the loads of A's row and keep four sums in flight instead of one that
     * waits on every add (twice as fast); each sum still adds its terms in order. Past N's edge the
     * last row of B is used again and its sums thrown away. */
    for (long i = row_begin; i < row_end; i++) {
        const float *a = A + i * K;
        for (long j = 0; j < N; j += 4) {
            const float *b[4];
            for (long t = 0; t < 4; t++) b[t] = B + (j + t < N ? j + t : N - 1) * K;
            double s[4] = {0, 0, 0, 0};
            for (long k = 0; k < K; k++) {
                double x = a[k];
                s[0] += x * b[0][k];
                s[1] += x * b[1][k];
                s[2] += x * b[2][k];
                s[3] += x * b[3][k];
            }
            for (long t = 0; t < 4 && j + t < N; t++) C[i * N + j + t] = (float)s[t];
        }
    }
}
