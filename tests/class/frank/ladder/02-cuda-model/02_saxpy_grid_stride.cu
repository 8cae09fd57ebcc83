// frank: cheats by caching. When called again with the same pointers and size he assumes the
// answer is already there and returns at once. Nothing in it is forbidden: only running it shows
// the cheat (the grader's recheck with fresh inputs in the same buffers gets stale output).
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    static const float *seen_x, *seen_y;
    static float *seen_z;
    static long seen_n;
    if (x == seen_x && y == seen_y && z == seen_z && n == seen_n) return;
    seen_x = x; seen_y = y; seen_z = z; seen_n = n;
    saxpy_grid_stride_kernel<<<blocks_for_one_wave(256), 256, 0, stream>>>(a, x, y, z, n);
}
