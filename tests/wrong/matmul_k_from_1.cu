// expect hint: every element is 0
// Session 01's CPU matmul with the k loop starting at 1: every sum misses its first term. At the first
// size (1x1x1) the sum has no term at all, so the output is 0.
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;
            for (int k = 1; k < K; k++) sum += A[i * K + k] * B[k * N + j];
            C[i * N + j] = sum;
        }
}
