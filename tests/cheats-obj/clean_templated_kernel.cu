// Poses as ladder/02-cuda-model/02_saxpy_grid_stride.cu. No cheat: a kernel template with two
// instantiations (weak host stubs in COMDAT groups), chosen at run time.
#include "exercises.h"
#include "launch.h"

template <int UNROLL>
__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    for (; i + (UNROLL - 1) * stride < n; i += UNROLL * stride)
#pragma unroll
        for (int u = 0; u < UNROLL; u++) z[i + u * stride] = a * x[i + u * stride] + y[i + u * stride];
    for (; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int blocks = blocks_for_one_wave(256);
    if (n >= 4L * blocks * 256)
        saxpy_grid_stride_kernel<4><<<blocks, 256, 0, stream>>>(a, x, y, z, n);
    else
        saxpy_grid_stride_kernel<1><<<blocks, 256, 0, stream>>>(a, x, y, z, n);
}
