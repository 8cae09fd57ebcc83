// Session 01, exercise 1 (solution): the matrix product on the CPU.
//
// i-k-j loop order: the innermost loop walks a row of B and a row of C, both contiguous in
// memory, so the CPU's caches and vector units are used well. The textbook i-j-k order gives the
// same numbers but strides down columns of B and runs several times slower.
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i = 0; i < M; i++) {
        float *c_row = C + (long)i * N;
        for (int j = 0; j < N; j++) c_row[j] = 0.0f;
        for (int k = 0; k < K; k++) {
            const float a = A[(long)i * K + k];
            const float *b_row = B + (long)k * N;
            for (int j = 0; j < N; j++) c_row[j] += a * b_row[j];
        }
    }
}
