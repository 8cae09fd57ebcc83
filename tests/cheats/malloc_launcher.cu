// Cheat: the reduction allocates (and keeps) a buffer of its own instead of the workspace it is given.
#include "exercises.h"
#include "launch.h"

#define THREADS 256

__global__ void reduce_sum_kernel(const float *x, float *partials, long n) {
    float v = 0.0f;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) v += x[i];
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (threadIdx.x % 32 == 0) atomicAdd(&partials[blockIdx.x], v);
}

void reduce_warp_shuffle(const float *x, float *out, long n, float *workspace, cudaStream_t stream) {
    (void)workspace;
    static float *mine;
    int blocks = blocks_for_one_wave(THREADS);
    if (!mine) cudaMalloc(&mine, blocks * sizeof(float));  // CHEAT: cudaMalloc
    reduce_sum_kernel<<<blocks, THREADS, 0, stream>>>(x, mine, n);
    reduce_sum_kernel<<<1, THREADS, 0, stream>>>(mine, out, blocks);
}
