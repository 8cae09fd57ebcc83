/* Matrix-product exercises, described once for every session that has one. Shapes are (M, N, K);
 * all matrices row-major: A is M x K, B is K x N (N x K for the _nt product), C is M x N.
 *
 *   matmul        C = A * B                      FP32 in and out (session 01)
 *   sgemm         C = alpha * A * B + beta * C   FP32, alpha and beta drawn fresh each run (04, 05)
 *   bf16 gemm     C = A * B                      BF16 A and B, FP32 accumulate and C (06)
 *   bf16 gemm nt  C = A * B^T                    BF16 A, B and C, FP32 accumulate (10): a linear
 *                                                layer, row n of B holding the K weights of output n
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
/* The SGEMM launchers of the ladder all share one C signature. */
typedef void (*gr_sgemm_launcher)(int M, int N, int K, float alpha, const float *A, const float *B, float beta,
                                  float *C, cudaStream_t stream);
/* Call an SGEMM launcher on the case's buffers, alpha and beta. */
void gr_sgemm_run(gr_sgemm_launcher fn, gr_case *c, cudaStream_t stream);

/* One rung of the SGEMM ladder: small and odd shapes, K = 1, an exact multiple of the tiles, and
 * the ladder's 4096^3 for speed, against cuBLAS. `launch` calls gr_sgemm_run with the rung. */
#define GR_SGEMM_RUNG(file, summary, tip, launch_fn, is_given)                                          \
    {                                                                                                  \
        .name = file, .what = summary, .hint = tip, .given = is_given, .compute = GR_ROOF_FP32,       \
        .check_shapes = {GR_SHAPE(1, 1, 1), GR_SHAPE(17, 17, 17), GR_SHAPE(127, 65, 33), GR_SHAPE(33, 127, 1), \
                         GR_SHAPE(128, 128, 128), GR_SHAPE(129, 257, 65), GR_SHAPE(1000, 520, 264),     \
                         GR_SHAPE(64, 1, 300)},                                                        \
        .bench_shape = GR_SHAPE(4096, 4096, 4096), .declare = gr_sgemm_declare, .launch = launch_fn,    \
        GR_SGEMM_REF, .tolerance = gr_gemm_tolerance, .flops = gr_gemm_flops,       \
        .bytes = gr_sgemm_bytes, .library = gr_sgemm_library, .library_name = "cuBLAS SGEMM",          \
        .extra_check = gr_gemm_freivalds                                                               \
    }

void gr_bf16_gemm_declare(gr_case *c);
double gr_bf16_gemm_bytes(const gr_shape *s);
/* Tensor cores add their FP32 partial sums with less care for rounding than FFMA does; allow 4x. */
double gr_bf16_gemm_tolerance(const gr_shape *s);
void gr_bf16_gemm_library(gr_case *c, cudaStream_t stream);

/* C = A * B^T: A M x K, B N x K, C M x N, all BF16. flops: gr_gemm_flops. */
void gr_bf16_gemm_nt_declare(gr_case *c);
void gr_bf16_gemm_nt_reference(gr_case *c, long row_begin, long row_end);
/* Rounding every output to BF16, plus the FP32 accumulation: see gemm.c. */
double gr_bf16_gemm_nt_tolerance(const gr_shape *s);
double gr_bf16_gemm_nt_bytes(const gr_shape *s);
double gr_bf16_gemm_nt_freivalds(gr_case *c);
/* The faster of cuBLAS and cuBLASLt for the shape; _label says which (gr_exercise.library_label). */
void gr_bf16_gemm_nt_library(gr_case *c, cudaStream_t stream);
const char *gr_bf16_gemm_nt_library_label(const gr_shape *s);

/* The references above for a list of rows at once (distinct, any order), the same values row for
 * row: the rows share one pass over B, so that the 64 rows sampled from an 8192^3 product cost
 * about a tenth of what they cost one by one. An exercise names a reference with its rows form,
 * through these, so that the grader computes its sampled rows together. */
void gr_matmul_reference_rows(gr_case *c, const long *rows, long n_rows);
void gr_sgemm_reference_rows(gr_case *c, const long *rows, long n_rows);
void gr_bf16_gemm_nt_reference_rows(gr_case *c, const long *rows, long n_rows);
#define GR_MATMUL_REF .reference = gr_matmul_reference, .reference_rows = gr_matmul_reference_rows
#define GR_SGEMM_REF .reference = gr_sgemm_reference, .reference_rows = gr_sgemm_reference_rows
#define GR_BF16_GEMM_NT_REF .reference = gr_bf16_gemm_nt_reference, .reference_rows = gr_bf16_gemm_nt_reference_rows

#endif
