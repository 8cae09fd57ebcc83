// expect hint: every element is 2.00x the expected
// Session 01's CPU matmul that adds every product twice.
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;
            for (int k = 0; k < K; k++) sum += 2.0f * A[i * K + k] * B[k * N + j];
            C[i * N + j] = sum;
        }
}
