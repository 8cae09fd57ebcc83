// carol: a bug. The brackets put a on both terms: z = a * (x + y) instead of a * x + y.
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * (x[i] + y[i]);
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    saxpy_grid_stride_kernel<<<blocks_for_one_wave(threads), threads, 0, stream>>>(a, x, y, z, n);
}
