// Poses as ladder/01-gpu-vs-cpu/01_matmul_cpu.cu. Computes the product, then writes far past the
// end of C: beyond the 256 KiB guard band, into what would be an allocator's slack.
// expect: CRASH or FAIL (the region ends in a page that cannot be written; the slack is guard)
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = 0;
            for (int k = 0; k < K; k++) s += A[(long)i * K + k] * B[(long)k * N + j];
            C[(long)i * N + j] = s;
        }
    volatile float *far = C + (long)M * N + (300 << 10) / 4;   // 300 KiB past the end
    for (int i = 0; i < (1 << 20); i += 1024) far[i] = 1.0f;    // and on, a MiB further
}
