// heidi: lowers the precision. x and y are rounded to bfloat16 (8 bits of mantissa) to "save
// bandwidth"; the result is off by about 1e-3, far beyond float32's tolerance.
#include <cuda_bf16.h>

#include "exercises.h"
#include "launch.h"

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const __nv_bfloat16 xh = __float2bfloat16(x[i]), yh = __float2bfloat16(y[i]);
        z[i] = a * __bfloat162float(xh) + __bfloat162float(yh);
    }
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    saxpy_grid_stride_kernel<<<blocks_for_one_wave(256), 256, 0, stream>>>(a, x, y, z, n);
}
