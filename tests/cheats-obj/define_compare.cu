// Poses as ladder/02-cuda-model/02_saxpy_grid_stride.cu. Cheat: a definition of the grader's
// comparison, which then finds every output right (the linker takes the object's copy before the
// archive's).
#include <stddef.h>
#include "exercises.h"
#include "launch.h"

extern "C" void gr_compare_scaled(int dtype, const void *out, const void *ref, const float *scale, size_t count,
                                  void *result) {
    (void)dtype; (void)out; (void)ref; (void)scale; (void)count; (void)result;
}

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    saxpy_grid_stride_kernel<<<blocks_for_one_wave(256), 256, 0, stream>>>(a, x, y, z, n);
}
