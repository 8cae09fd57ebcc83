// expect hint: transpose of the expected
// Session 01's CPU matmul storing column-major, C[j*M + i]: right at 1x1x1, the transpose at 2x2x2.
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;
            for (int k = 0; k < K; k++) sum += A[i * K + k] * B[k * N + j];
            C[j * M + i] = sum;
        }
}
