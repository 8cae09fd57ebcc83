// Poses as ladder/01-gpu-vs-cpu/01_matmul_cpu.cu. Sets SEED in its environment on the first call
// and prints the seed the grader reports, hoping a later run (or the check itself) takes it.
// expect: PASS with a seed that is not 0x1234 (grading ignores SEED); the product is honest
#include <stdlib.h>
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    setenv("SEED", "0x1234", 1);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = 0;
            for (int k = 0; k < K; k++) s += A[(long)i * K + k] * B[(long)k * N + j];
            C[(long)i * N + j] = s;
        }
}
