// Poses as ladder/02-cuda-model/02_saxpy_grid_stride.cu. Cheat: a helper bound through an indirect
// function (ifunc), whose resolver the dynamic loader runs before main.
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

extern "C" {
static int pick_blocks(void) { return blocks_for_one_wave(256); }
static int (*resolve_pick_blocks(void))(void) { return pick_blocks; }  // runs before main
int choose_blocks(void) __attribute__((ifunc("resolve_pick_blocks")));
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    saxpy_grid_stride_kernel<<<choose_blocks(), 256, 0, stream>>>(a, x, y, z, n);
}
