// Poses as ladder/04-gemm-tiling/01_sgemm_naive.cu. Cheat: rung 1 calls the session's given rung 0,
// sgemm_cublas (declared in exercises.h, so the call looks like any other).
#include "exercises.h"

void sgemm_naive(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                 cudaStream_t stream) {
    sgemm_cublas(M, N, K, alpha, A, B, beta, C, stream);
}
