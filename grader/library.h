/* The vendor libraries as yardsticks: each routine does on the same buffers what an exercise does,
 * so the report can say how close the student came to cuBLAS or CUB on the same shape. */
#ifndef GRADER_LIBRARY_H
#define GRADER_LIBRARY_H

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
