// expect hint: rounded down to whole tiles
// Session 01's CPU matmul in tiles of 16 rows, looping to M/16*16: the last partial tile is missing. At
// the first size (1x1x1) that is every row: nothing is written.
#include "exercises.h"

#define TILE 16

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i0 = 0; i0 < M / TILE * TILE; i0 += TILE)
        for (int i = i0; i < i0 + TILE; i++)
            for (int j = 0; j < N; j++) {
                float sum = 0.0f;
                for (int k = 0; k < K; k++) sum += A[i * K + k] * B[k * N + j];
                C[i * N + j] = sum;
            }
}
