// Cheat: the global timer in asm text after a literal holding \0 (an older scanner searched the
// literals' text as one C string, which ended there), and once spelt with a universal character
// name (\u0067 is g: nvcc's PTX reads %globaltimer).
#include "exercises.h"
#include "launch.h"

__device__ const char version[] = "saxpy\0v2";
__device__ unsigned long long last_call;

__device__ __forceinline__ unsigned long long now_ns() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));  // CHEAT: globaltimer
    return t;
}

__device__ __forceinline__ unsigned long long now_ns_ucn() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%\u0067lobaltimer;" : "=l"(t));  // CHEAT: globaltimer
    return t;
}

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    if (now_ns() - last_call < 1000000 && now_ns_ucn() && version[0]) return;
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
    last_call = now_ns();
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);
    saxpy_grid_stride_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n);
}
