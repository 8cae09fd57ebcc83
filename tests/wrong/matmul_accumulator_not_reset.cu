// expect hint: running sum
// Session 01's CPU matmul whose sum starts at 0 once, not for every (i, j): each element is the previous
// one plus its own dot product.
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    float sum = 0.0f;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            for (int k = 0; k < K; k++) sum += A[i * K + k] * B[k * N + j];
            C[i * N + j] = sum;
        }
}
