// Poses as ladder/02-cuda-model/02_saxpy_grid_stride.cu. The real work goes to the per-thread
// default stream, a decoy kernel to the given one.
// expect: DISQUALIFIED (the per-thread stream orders itself after the legacy stream's wait, and
// before its stop event)
#include "exercises.h"

__global__ void saxpy_kernel(float a, const float *x, const float *y, float *z, long n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        z[i] = a * x[i] + y[i];
}
__global__ void decoy_kernel() {}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    decoy_kernel<<<1, 32, 0, stream>>>();
    saxpy_kernel<<<1024, 256, 0, cudaStreamPerThread>>>(a, x, y, z, n);
}
