// Poses as ladder/02-cuda-model/02_saxpy_grid_stride.cu: an honest solution, the control. Its
// percent of peak must match the solution's.
// expect: PASS
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_kernel(float a, const float *x, const float *y, float *z, long n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    saxpy_kernel<<<blocks_for_one_wave(256), 256, 0, stream>>>(a, x, y, z, n);
}
