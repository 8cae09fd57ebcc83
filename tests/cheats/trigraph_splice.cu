// Not a cheat in C++17, where ??/ is three characters; with trigraphs on (-std=c++14, -trigraphs)
// it is a backslash, and at a line end it splices the name below back together, in a block that
// only older modes compile. Reported, so that the scan stays right if the build's mode changes.
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);
    saxpy_grid_stride_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n);
#if __cplusplus < 201703L
    /* CHEAT: ??/ */ cuda??/
DeviceSynchronize();
#endif
}
