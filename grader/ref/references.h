/* CPU references: what each exercise must compute, written plainly and accumulated in float64
 * (the matrix products' loops arranged for speed, their sums unchanged: matmul.c). Each works on a
 * range of output rows so that the grader can sample rows of a large output. */
#ifndef GRADER_REFERENCES_H
#define GRADER_REFERENCES_H

#include <stdint.h>

/* z[i] = alpha * x[i] + beta * y[i] for i in [begin, end). */
void ref_axpby(const float *x, const float *y, float alpha, float beta, float *z, long begin, long end);

/* Row-major C[M][N] = A[M][K] * B[K][N], rows [row_begin, row_end) of C. */
void ref_matmul(const float *A, const float *B, float *C, long M, long N, long K, long row_begin, long row_end);

/* Row-major C[M][N] = alpha * A[M][K] * B[K][N] + beta * C0[M][N], rows [row_begin, row_end).
 * C0 may be NULL when beta is 0. */
void ref_gemm(const float *A, const float *B, const float *C0, float alpha, float beta, float *C, long M, long N,
              long K, long row_begin, long row_end);

/* ref_gemm, also writing scale[i][j] = |alpha| sum_k |A[i][k] B[k][j]| + |beta| |C0[i][j]| (the
 * magnitudes whose rounding bounds the error) for the same rows. */
void ref_gemm_scaled(const float *A, const float *B, const float *C0, float alpha, float beta, float *C, float *scale,
                     long M, long N, long K, long row_begin, long row_end);

/* Row-major C[M][N] = A[M][K] * B[N][K]^T, rows [row_begin, row_end) of C: a linear layer, where
 * row n of B holds the K weights of output n. */
void ref_gemm_nt(const float *A, const float *B, float *C, long M, long N, long K, long row_begin, long row_end);

/* The same two products for a list of rows of C (any order): the rows share one pass
 * over B, so that sampled rows of a large product cost far less together than one by one. Every
 * output is bit for bit the one the row-range forms give: its terms added in k order in float64. */
void ref_gemm_scaled_rows(const float *A, const float *B, const float *C0, float alpha, float beta, float *C,
                          float *scale, long N, long K, const long *rows, long n_rows);
void ref_gemm_nt_rows(const float *A, const float *B, float *C, long N, long K, const long *rows, long n_rows);

/* out[cols][rows] = in[rows][cols]^T, output rows [row_begin, row_end) (input columns). */
void ref_transpose(const float *in, float *out, long rows, long cols, long row_begin, long row_end);

/* Sum of x[0..n) in float64. */
double ref_sum(const float *x, long n);

/* Grey from interleaved 8-bit RGB, ITU-R BT.601 luma weights, scaled to [0, 1]:
 * grey = (0.299 R + 0.587 G + 0.114 B) / 255, pixels [begin, end). */
void ref_rgb_to_grey(const unsigned char *rgb, float *grey, long begin, long end);

#endif
