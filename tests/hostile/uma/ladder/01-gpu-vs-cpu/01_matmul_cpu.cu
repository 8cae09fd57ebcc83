// uma: a global object whose constructor runs before main, in the process that writes the records.
#include "exercises.h"

struct early_bird {
    int calls;
    early_bird() : calls(1) {}
};
static early_bird bird;

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = 0;
            for (int k = 0; k < K; k++) s += A[(long)i * K + k] * B[(long)k * N + j];
            C[(long)i * N + j] = s + 0.0f * bird.calls;
        }
}
