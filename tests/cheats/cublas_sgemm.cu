// Cheat: the "naive" SGEMM rung calls cuBLAS (row-major C = A B is column-major C^T = B^T A^T).
#include <cublas_v2.h>  // CHEAT: <cublas_v2.h>

#include "exercises.h"

void sgemm_naive(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                 cudaStream_t stream) {
    static cublasHandle_t handle;  // CHEAT: cublasHandle_t
    if (!handle) cublasCreate(&handle);  // CHEAT: cublasCreate
    cublasSetStream(handle, stream);  // CHEAT: cublasSetStream
    cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &alpha, B, N, A, K, &beta, C, N);  // CHEAT: cublasSgemm
}
