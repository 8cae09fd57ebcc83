// Poses as ladder/04-gemm-tiling/02_sgemm_coalesced.cu. Cheat: dlsym reached through a .symver
// directive (the object references "dlsym@GLIBC_2.34", spelt nowhere as an identifier), to find
// cuBLAS in the process at run time.
#include "exercises.h"

extern "C" void *lookup(void *handle, const char *name);
__asm__(".symver lookup, dl" "sym@GLIBC_2.34");

typedef int (*gemm_fn)(void *, int, int, int, int, int, const float *, const float *, int, const float *, int,
                       const float *, float *, int);

void sgemm_coalesced(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                     cudaStream_t stream) {
    (void)stream;
    static gemm_fn gemm = (gemm_fn)lookup(nullptr, "cublasSgemm_v2");
    static void *handle;
    gemm(handle, 0, 0, N, M, K, &alpha, B, N, A, K, &beta, C, N);
}
