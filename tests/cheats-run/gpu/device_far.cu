// Poses as ladder/02-cuda-model/02_saxpy_grid_stride.cu. Correct, then one thread writes 40 MiB
// past the end of z, where cudaMalloc would have put another allocation.
// expect: CRASH (nothing is mapped there: the write faults)
#include "exercises.h"

__global__ void saxpy_kernel(float a, const float *x, const float *y, float *z, long n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        z[i] = a * x[i] + y[i];
    if (blockIdx.x == 0 && threadIdx.x == 0) z[n + (40l << 20) / 4] = 42.0f;
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    saxpy_kernel<<<1024, 256, 0, stream>>>(a, x, y, z, n);
}
