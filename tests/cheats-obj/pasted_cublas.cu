// Poses as ladder/04-gemm-tiling/03_sgemm_smem_tiled.cu. Cheat: cuBLAS under names the
// preprocessor pastes together, so no identifier in the source starts with "cublas".
#include "exercises.h"

#define PASTE(a, b) a##b
#define J(a, b) PASTE(a, b)
#define LIB PASTE(cu, blas)

extern "C" int J(LIB, Create_v2)(void **handle);
extern "C" int J(LIB, SetStream_v2)(void *handle, cudaStream_t stream);
extern "C" int J(LIB, Sgemm_v2)(void *handle, int ta, int tb, int m, int n, int k, const float *alpha, const float *A,
                                int lda, const float *B, int ldb, const float *beta, float *C, int ldc);

void sgemm_smem_tiled(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                      cudaStream_t stream) {
    static void *h;
    if (!h) J(LIB, Create_v2)(&h);
    J(LIB, SetStream_v2)(h, stream);
    J(LIB, Sgemm_v2)(h, 0, 0, N, M, K, &alpha, B, N, A, K, &beta, C, N);
}
