/* Matrix-product exercises, described once for every session that has one. Shapes are (M, N, K);
 * all matrices row-major: A is M x K, B is K x N, C is M x N.
 *
 *   matmul      C = A * B                      FP32 in and out (session 01)
 *   sgemm       C = alpha * A * B + beta * C   FP32, alpha and beta drawn fresh each run (04, 05)
 *   bf16 gemm   C = A * B                      BF16 A and B, FP32 accumulate and C (06)
 *
 * A check driver takes the callbacks below and writes only the launch function that calls the
 * student's launcher (GR_SGEMM_ALPHA / _BETA give it alpha and beta). */
#ifndef GRADER_GEMM_H
#define GRADER_GEMM_H

#include "grader.h"

#define GR_GEMM_M(s) ((s)->d[0])
#define GR_GEMM_N(s) ((s)->d[1])
#define GR_GEMM_K(s) ((s)->d[2])
#define GR_SGEMM_ALPHA(c) ((float)(c)->param[0])
#define GR_SGEMM_BETA(c) ((float)(c)->param[1])

/* 2 FLOP (a multiply and an add) per term, M*N*K terms; beta * C adds M*N*2, left out as the
 * libraries and the literature do. */
double gr_gemm_flops(const gr_shape *s);
/* A K-term float32 dot product with random signs errs by about eps * sqrt(K); with room to spare. */
double gr_gemm_tolerance(const gr_shape *s);
double gr_gemm_freivalds(gr_case *c);

void gr_matmul_declare(gr_case *c);
void gr_matmul_reference(gr_case *c, long row_begin, long row_end);
double gr_matmul_bytes(const gr_shape *s);
void gr_matmul_library(gr_case *c, cudaStream_t stream);

void gr_sgemm_declare(gr_case *c);
void gr_sgemm_reference(gr_case *c, long row_begin, long row_end);
double gr_sgemm_bytes(const gr_shape *s);
void gr_sgemm_library(gr_case *c, cudaStream_t stream);

/* The reference is gr_matmul_reference: BF16 inputs widened to float32 are exact, so it sees the
 * numbers the tensor cores do. */
void gr_bf16_gemm_declare(gr_case *c);
double gr_bf16_gemm_bytes(const gr_shape *s);
/* Tensor cores add their FP32 partial sums with less care for rounding than FFMA does; allow 4x. */
double gr_bf16_gemm_tolerance(const gr_shape *s);
void gr_bf16_gemm_library(gr_case *c, cudaStream_t stream);

#endif
