// Session 02, exercise 2: z = a * x + y with a grid-stride loop.
//
// Session 01 launched one thread per element. Here the grid has a fixed size: as many blocks as the
// GPU holds at once, chosen by the launcher below (you need not change it). That is far fewer
// threads than a large vector has elements, so each thread handles many: it starts at its global
// index and steps by the total number of threads in the grid until it passes n. The same kernel
// then works for any n, and the blocks stay resident instead of being created and retired by the
// million.
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    // TODO 1: the first index: blockIdx.x * blockDim.x + threadIdx.x, as a long.
    // TODO 2: the stride: the number of threads in the whole grid, gridDim.x * blockDim.x.
    //         Why: one sweep of the grid covers that many consecutive elements; the next starts after it.
    // TODO 3: loop from the first index while i < n, adding the stride; write z[i] = a * x[i] + y[i].
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);  // the loop, not the grid, covers n
    saxpy_grid_stride_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n);
}
