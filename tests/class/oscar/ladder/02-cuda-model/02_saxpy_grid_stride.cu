// oscar: hangs. His stride comes out 0 for the last block of the grid, so once the vector is long
// enough to reach that block, its threads loop forever on one element. (The store is volatile: a
// loop whose only effect is storing the same value again may be assumed to end, and the compiler
// would drop it, turning the hang into a plain wrong answer.)
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = blockIdx.x + 1 == gridDim.x ? 0 : (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        ((volatile float *)z)[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    saxpy_grid_stride_kernel<<<blocks_for_one_wave(256), 256, 0, stream>>>(a, x, y, z, n);
}
