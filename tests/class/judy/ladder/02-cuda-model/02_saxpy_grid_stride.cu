// judy: writes past the end. One thread per element, the grid rounded up to whole blocks, and no
// test against n: the last block writes up to 255 elements beyond the output (into the grader's
// guard band).
#include "exercises.h"

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    (void)n;
    const long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    saxpy_grid_stride_kernel<<<(unsigned)((n + threads - 1) / threads), threads, 0, stream>>>(a, x, y, z, n);
}
