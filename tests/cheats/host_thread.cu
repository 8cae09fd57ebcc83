// Cheat: the CPU computes half of the vector in a host thread while the GPU does the other half.
#include <thread>  // CHEAT: <thread>

#include "exercises.h"
#include "launch.h"

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);
    std::thread helper([=] {  // CHEAT: std::thread
        saxpy_grid_stride_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n / 2);
    });
    helper.detach();
    saxpy_grid_stride_kernel<<<blocks, threads, 0, stream>>>(a, x + n / 2, y + n / 2, z + n / 2, n - n / 2);
}
