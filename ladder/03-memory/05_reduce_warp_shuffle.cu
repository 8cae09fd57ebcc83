// Session 03, exercise 5: a sum with warp shuffles, in two launches.
//
// The tree of exercise 4 spends its time on barriers and on threads that sit idle after the first
// steps. Here a fixed grid (one full wave of blocks) reads everything once: each thread adds up
// many elements in a grid-stride loop (16-byte float4 loads), so the tree only starts at the end.
// Inside a warp, __shfl_down_sync reads another lane's register directly: five shuffle steps
// (16, 8, 4, 2, 1) add 32 values with no shared memory and no barrier. One value per warp goes
// to shared memory, the first warp adds those, and one partial per block goes to the workspace.
// A second launch of one block sums the partials into *out.
#include "exercises.h"
#include "launch.h"

#define THREADS 256
#define WARPS (THREADS / 32)
#define FULL_MASK 0xffffffffu

__device__ float warp_sum(float v) {
    // TODO 1: for offset = 16, 8, 4, 2, 1: v += __shfl_down_sync(FULL_MASK, v, offset). Lane 0 ends
    //         with the warp's total.
    //         Why: each step adds the upper half of the lanes still in play onto the lower half.
    return v;
}

// Sums `n` floats into partials[blockIdx.x]; launched once with many blocks, once with one.
__global__ void reduce_sum_kernel(const float *x, float *partials, long n) {
    __shared__ float warp_totals[WARPS];
    const long first = (long)blockIdx.x * blockDim.x + threadIdx.x;
    const long stride = (long)gridDim.x * blockDim.x;
    float v = 0.0f;
    // TODO 2: grid-stride loop over the n / 4 float4 elements of x, adding all four components to
    //         v; then a grid-stride loop over the n % 4 elements of the tail.
    // TODO 3: v = warp_sum(v); lane 0 of each warp (threadIdx.x % 32 == 0) stores it in
    //         warp_totals[threadIdx.x / 32]; barrier; warp 0 loads warp_totals[lane] (0 for
    //         lane >= WARPS), sums with warp_sum, and thread 0 writes partials[blockIdx.x].
    //         Why % 32 and / 32: warp w is threads 32 w .. 32 w + 31 of the block, in order.
}

void reduce_warp_shuffle(const float *x, float *out, long n, float *workspace, cudaStream_t stream) {
    int blocks = blocks_for_one_wave(THREADS);
    if ((long)blocks * THREADS * 4 > n) blocks = (int)((n + THREADS * 4 - 1) / (THREADS * 4));
    reduce_sum_kernel<<<blocks, THREADS, 0, stream>>>(x, workspace, n);
    reduce_sum_kernel<<<1, THREADS, 0, stream>>>(workspace, out, blocks);
}
