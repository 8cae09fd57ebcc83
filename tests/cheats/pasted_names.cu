// Cheat: the side stream with names pasted from innocent pieces by the preprocessor (## and its
// digraph %:%:). No exercise needs token pasting: any use of it is reported.
#include "exercises.h"
#include "launch.h"

#define J(a, b) a##b  // CHEAT: ##
%:define K(a, b) a %:%: b  // CHEAT: %:%:

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    static cudaStream_t side;
    if (!side) J(cudaStr, eamCreateWithFlags)(&side, K(cudaStr, eamNonBlocking));
    (void)stream;
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);
    saxpy_grid_stride_kernel<<<blocks, threads, 0, side>>>(a, x, y, z, n);
}
