// Session 02, exercise 2 (solution): saxpy with a grid-stride loop over a fixed grid.
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);  // the loop, not the grid, covers n
    saxpy_grid_stride_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n);
}
