// Cheat: the launcher reads the expected output from a file instead of computing it (and a debug
// header that is not on the allow-list).
#include <stdio.h>  // allowed: printf from a kernel is debugging; fopen below is the cheat

#include "exercises.h"

void sgemm_naive(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                 cudaStream_t stream) {
    (void)K; (void)alpha; (void)A; (void)B; (void)beta; (void)stream;
    FILE *f = fopen("/tmp/expected_C.bin", "rb");  // CHEAT: fopen
    if (f) {
        static float host[1 << 20];
        size_t got = fread(host, sizeof(float), (size_t)M * N, f);
        fclose(f);
        cudaMemcpyAsync(C, host, got * sizeof(float), cudaMemcpyHostToDevice, stream);  // CHEAT: cudaMemcpyAsync | cudaMemcpyHostToDevice
    }
}
