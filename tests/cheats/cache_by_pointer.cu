// Cheat: saxpy that remembers the output of the last call, keyed by the pointers. Nothing in the
// source is forbidden; the grader's fresh-input recheck (new values in the same buffers) catches it.
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    static const float *last_x, *last_y;
    static float *last_z;
    static long last_n;
    if (x == last_x && y == last_y && z == last_z && n == last_n) return;  // "already computed"
    last_x = x; last_y = y; last_z = z; last_n = n;
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);
    saxpy_grid_stride_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n);
}
