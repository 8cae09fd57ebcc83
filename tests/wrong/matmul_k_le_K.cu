// expect hint: absurdly large
// Session 01's CPU matmul with k <= K: every sum gets one term too many, read past a row of A and past
// the end of B (the grader's guard band: random bytes), so the values are garbage, often absurdly large.
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;
            for (int k = 0; k <= K; k++) sum += A[i * K + k] * B[k * N + j];
            C[i * N + j] = sum;
        }
}
