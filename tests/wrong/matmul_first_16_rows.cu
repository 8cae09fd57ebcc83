// expect hint: only the first 16 rows are right
// Session 01's CPU matmul that computes only the first tile of 16 rows: right up to 16 rows, row 16 of
// the 17x17x17 case is never written.
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i = 0; i < M && i < 16; i++)
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;
            for (int k = 0; k < K; k++) sum += A[i * K + k] * B[k * N + j];
            C[i * N + j] = sum;
        }
}
