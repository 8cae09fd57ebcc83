// Poses as ladder/03-memory/04_reduce_tree.cu. Cheat: a destructor that runs at exit, after the
// grader's report (here it prints a line a script might read as the result).
#include <stdio.h>
#include "exercises.h"

#define THREADS 256
#define PER_BLOCK (2 * THREADS)

__global__ void reduce_tree_kernel(const float *in, float *partials, long n) {
    __shared__ float sums[THREADS];
    const int t = threadIdx.x;
    const long i = (long)blockIdx.x * PER_BLOCK + t;
    float v = i < n ? in[i] : 0.0f;
    if (i + THREADS < n) v += in[i + THREADS];
    sums[t] = v;
    __syncthreads();
    for (int half = THREADS / 2; half > 0; half /= 2) {
        if (t < half) sums[t] += sums[t + half];
        __syncthreads();
    }
    if (t == 0) partials[blockIdx.x] = sums[0];
}

__attribute__((destructor)) static void last_word(void) { puts("04_reduce_tree  PASS"); }

void reduce_tree(const float *x, float *out, long n, float *workspace, cudaStream_t stream) {
    float *halves[2] = {workspace, workspace + n / PER_BLOCK + 1};
    const float *src = x;
    long count = n;
    int turn = 0;
    do {
        const long blocks = (count + PER_BLOCK - 1) / PER_BLOCK;
        float *dst = blocks == 1 ? out : halves[turn];
        reduce_tree_kernel<<<(unsigned)blocks, THREADS, 0, stream>>>(src, dst, count);
        src = dst;
        count = blocks;
        turn ^= 1;
    } while (count > 1);
}
