// Session 02, exercise 3 (solution): saxpy with float4 accesses and a scalar tail.
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_vectorized_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long first = (long)blockIdx.x * blockDim.x + threadIdx.x;
    const long stride = (long)gridDim.x * blockDim.x;
    const long n4 = n / 4;
    const float4 *x4 = reinterpret_cast<const float4 *>(x);
    const float4 *y4 = reinterpret_cast<const float4 *>(y);
    float4 *z4 = reinterpret_cast<float4 *>(z);
    for (long i = first; i < n4; i += stride) {
        const float4 xv = x4[i], yv = y4[i];
        z4[i] = make_float4(a * xv.x + yv.x, a * xv.y + yv.y, a * xv.z + yv.z, a * xv.w + yv.w);
    }
    for (long i = 4 * n4 + first; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_vectorized(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);
    saxpy_vectorized_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n);
}
