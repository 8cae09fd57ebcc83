// wendy: correct, then a write 300 KiB past the end, beyond the guard band.
// past the end of z: past the 256 KiB guard band, into the allocation's slack.
// expect: FAIL (the slack up to the end of the mapped memory is guard band too)
#include "exercises.h"

__global__ void saxpy_kernel(float a, const float *x, const float *y, float *z, long n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        z[i] = a * x[i] + y[i];
    if (blockIdx.x == 0 && threadIdx.x == 0) z[n + (300 << 10) / 4] = 42.0f;
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    saxpy_kernel<<<1024, 256, 0, stream>>>(a, x, y, z, n);
}
