// Poses as ladder/02-cuda-model/03_saxpy_vectorized.cu. Cheat: a constructor that runs before the
// grader's main (here it warms the GPU up and picks the L1 split; it could do anything).
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_vectorized_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x, n4 = n / 4;
    const float4 *x4 = reinterpret_cast<const float4 *>(x), *y4 = reinterpret_cast<const float4 *>(y);
    float4 *z4 = reinterpret_cast<float4 *>(z);
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += stride) {
        const float4 p = x4[i], q = y4[i];
        z4[i] = make_float4(a * p.x + q.x, a * p.y + q.y, a * p.z + q.z, a * p.w + q.w);
    }
    for (long i = 4 * n4 + (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

__attribute__((constructor)) static void warm_up(void) {
    cudaFuncSetCacheConfig(saxpy_vectorized_kernel, cudaFuncCachePreferL1);
}

void saxpy_vectorized(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    saxpy_vectorized_kernel<<<blocks_for_one_wave(256), 256, 0, stream>>>(a, x, y, z, n);
}
