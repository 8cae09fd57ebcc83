// Session 01, exercise 1: a matrix product on the CPU, by hand.
//
//   C[M][N] = A[M][K] * B[K][N], all row-major: element (i, j) of C lives at C[i * N + j].
//
// Each C[i][j] is a dot product: row i of A with column j of B, K multiply-adds. Work out a 2x2 on
// paper first (the handout has one); then write the three loops. This runs on the CPU: the pointers
// are ordinary host pointers. The grader times it so you can set it beside the GPU later.
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    // TODO 1: loop over every row i (0..M-1) and every column j (0..N-1) of C.
    // TODO 2: for each (i, j), add up A[i * K + k] * B[k * N + j] over k = 0..K-1 in a float.
    // TODO 3: store the sum in C[i * N + j].
}
