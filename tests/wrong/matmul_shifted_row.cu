// expect hint: past the end
// Session 01's CPU matmul storing one row too far, C[(i+1)*N + j]: row 0 is never written and the last row
// lands past the end of C.
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;
            for (int k = 0; k < K; k++) sum += A[i * K + k] * B[k * N + j];
            C[(i + 1) * N + j] = sum;
        }
}
