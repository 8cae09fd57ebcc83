// Poses as ladder/04-gemm-tiling/02_sgemm_coalesced.cu. Cheat: cuBLAS declared by hand, no
// #include <cublas_v2.h> for a scanner to see (the check binary links -lcublas).
#include "exercises.h"

extern "C" int cublasCreate_v2(void **handle);
extern "C" int cublasSetStream_v2(void *handle, cudaStream_t stream);
extern "C" int cublasSgemm_v2(void *handle, int transa, int transb, int m, int n, int k, const float *alpha,
                              const float *A, int lda, const float *B, int ldb, const float *beta, float *C, int ldc);

void sgemm_coalesced(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                     cudaStream_t stream) {
    static void *handle;
    if (!handle) cublasCreate_v2(&handle);
    cublasSetStream_v2(handle, stream);
    // Row-major C = A B is column-major C^T = B^T A^T.
    cublasSgemm_v2(handle, 0, 0, N, M, K, &alpha, B, N, A, K, &beta, C, N);
}
