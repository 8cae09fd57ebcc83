// expect hint: past the end
// Session 01's CPU matmul storing one column too far, C[i*N + j + 1]: element 0 is never written and the
// last store lands just past the end of C (the guard check catches it at 1x1x1).
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;
            for (int k = 0; k < K; k++) sum += A[i * K + k] * B[k * N + j];
            C[i * N + j + 1] = sum;
        }
}
