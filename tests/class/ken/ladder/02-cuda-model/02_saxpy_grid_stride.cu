// ken: hard-codes the size he tested with. Any other n is wrong: a smaller one is written past its
// end, a larger one is left unwritten beyond element 1000.
#include "exercises.h"
#include "launch.h"

#define N 1000

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < N; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    (void)n;
    saxpy_grid_stride_kernel<<<blocks_for_one_wave(256), 256, 0, stream>>>(a, x, y, z);
}
