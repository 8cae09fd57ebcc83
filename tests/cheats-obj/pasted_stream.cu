// Poses as ladder/02-cuda-model/02_saxpy_grid_stride.cu. Cheat: the work goes to a stream of its
// own, outside the grader's timed events; the name is pasted from pieces no scanner flags
// ("cudaStr" + "eamCreate"), the escape tests/cheats/README.md describes.
#include "exercises.h"
#include "launch.h"

#define J(a, b) a##b

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    (void)stream;
    static cudaStream_t mine;
    if (!mine) J(cudaStr, eamCreate)(&mine);
    saxpy_grid_stride_kernel<<<blocks_for_one_wave(256), 256, 0, mine>>>(a, x, y, z, n);
}
