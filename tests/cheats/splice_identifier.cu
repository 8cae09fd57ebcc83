// Cheat: names split by backslash-newline (one with spaces after the backslash, which GCC splices
// too). Reported on the line where the name starts. The comment ending in a backslash swallows
// the next line for the compiler as well: that call is not compiled, and not reported.
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    static cudaStream_t side;
    /* CHEAT: cudaStreamCreateWithFlags */ if (!side) cuda\
StreamCreateWithFlags(&side, /* CHEAT: cudaStreamNonBlocking */ cudaStr\   
eamNonBlocking);
    (void)stream;
    // the old launcher reset the device here \
    cudaDeviceReset();
    /* CHEAT: cudaDeviceSynchronize */ cuda\
DeviceSynchronize();
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);
    saxpy_grid_stride_kernel<<<blocks, threads, 0, side>>>(a, x, y, z, n);
}
