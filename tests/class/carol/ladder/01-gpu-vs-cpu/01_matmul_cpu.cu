// carol: the CPU product with B read by columns as if it were stored transposed (B[j][k] for
// B[k][j]): right only when B is symmetric, so wrong on the grader's random matrices. Graded
// without a GPU too: a CPU exercise runs anywhere.
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;
            for (int k = 0; k < K; k++) sum += A[(long)i * K + k] * B[(long)j * K + k];
            C[(long)i * N + j] = sum;
        }
}
