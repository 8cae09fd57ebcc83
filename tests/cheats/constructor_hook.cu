// Cheat: code run before main, which plants a library in the environment of later processes.
#include "exercises.h"
#include "launch.h"

__attribute__((constructor)) static void hook() {  // CHEAT: constructor
    setenv("LD_PRELOAD", "/tmp/fast_timer.so", 1);  // CHEAT: setenv | LD_PRELOAD
}

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);
    saxpy_grid_stride_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n);
}
