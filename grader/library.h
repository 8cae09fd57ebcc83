/* The vendor libraries as yardsticks: each routine does on the same buffers what an exercise does,
 * so the report can say how close the student came to cuBLAS or CUB on the same shape. */
#ifndef GRADER_LIBRARY_H
#define GRADER_LIBRARY_H

#include <stdbool.h>
#include <stddef.h>

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Row-major C[M][N] = alpha * A[M][K] * B[K][N] + beta * C, FP32 (cuBLAS SGEMM, no TF32). */
void gr_lib_sgemm(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                  cudaStream_t stream);
/* Row-major C[M][N] (float32) = A[M][K] * B[K][N] with A and B in bfloat16 (as uint16 bits), FP32
 * accumulation on the tensor cores (cublasGemmEx). */
void gr_lib_gemm_bf16(int M, int N, int K, const void *A, const void *B, float *C, cudaStream_t stream);
/* Row-major C[M][N] = A[M][K] * B[N][K]^T, all bfloat16 (as uint16 bits), FP32 accumulation: a
 * linear layer, row n of B holding the K weights of output n. The faster for the shape of
 * cublasGemmEx and the cuBLASLt heuristic's top algorithms, chosen by timing them on the first call
 * for that shape (see library.cu). */
void gr_lib_gemm_bf16_nt(int M, int N, int K, const void *A, const void *B, void *C, cudaStream_t stream);
/* Which won for the shape: "cuBLAS BF16" or "cuBLASLt BF16"; NULL before the shape's first call. */
const char *gr_lib_gemm_bf16_nt_name(int M, int N, int K);
/* For people and tests: every candidate's time for the shape, in buf (snprintf's return). */
int gr_lib_gemm_bf16_nt_describe(int M, int N, int K, char *buf, size_t len);
/* For tests: enqueue one candidate, -1 cublasGemmEx, i >= 0 the heuristic's i-th algorithm; false
 * when there is no such candidate or it refuses the call. */
bool gr_lib_gemm_bf16_nt_candidate(int M, int N, int K, int which, const void *A, const void *B, void *C,
                                   cudaStream_t stream);
/* Row-major C[M][N] (bfloat16) = A[M][K] * B[N][K]^T with A and B FP8 e4m3 and unit scales, FP32
 * accumulation: cuBLASLt's dense FP8 GEMM, the heuristic's first algorithm ("TN", the only layout
 * it takes for FP8). gr_lib_gemm_fp8_nt_available says whether this GPU and cuBLASLt can do the
 * shape (compute capability 8.9 or later, K and N multiples of 16, an algorithm found). */
bool gr_lib_gemm_fp8_nt_available(int M, int N, int K);
void gr_lib_gemm_fp8_nt(int M, int N, int K, const void *A, const void *B, void *C, cudaStream_t stream);
/* RMSNorm of each row of X (M x K, bfloat16), as a separate kernel writes it for the next layer:
 * out[m][k] = X[m][k] * gamma[k] / sqrt(mean_k X[m][k]^2 + eps), computed in float32 and rounded
 * once to bfloat16. One block a row. */
void gr_lib_rmsnorm_bf16(int M, int K, const void *X, const void *gamma, float eps, void *out, cudaStream_t stream);
/* Y (M x N) = RMSNorm(X) W^T the unfused way, the yardstick of session 12's fused kernel:
 * gr_lib_rmsnorm_bf16 into a buffer of the grader's (allocated on the first call of a size, during
 * warm-up), then gr_lib_gemm_bf16_nt with W (N x K). All bfloat16. */
void gr_lib_rmsnorm_linear_bf16(int M, int N, int K, const void *X, const void *gamma, float eps, const void *W,
                                void *Y, cudaStream_t stream);
/* z = alpha * x + beta * y over n elements (cuBLAS SGEAM on an n x 1 matrix). */
void gr_lib_axpby(long n, float alpha, const float *x, float beta, const float *y, float *z, cudaStream_t stream);
/* out[cols][rows] = in[rows][cols]^T (cuBLAS SGEAM with a transposed operand). */
void gr_lib_transpose(int rows, int cols, const float *in, float *out, cudaStream_t stream);
/* *out = sum of x[0..n) (CUB DeviceReduce::Sum). */
void gr_lib_reduce_sum(const float *x, float *out, long n, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
