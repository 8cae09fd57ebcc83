// Cheat: the kernel reads the GPU's global timer (the split literal does not hide it) and skips
// the work when it has been called in quick succession (a timing loop).
#include "exercises.h"
#include "launch.h"

__device__ unsigned long long last_call;

__device__ __forceinline__ unsigned long long now_ns() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));  // CHEAT: globaltimer
    return t;
}

__device__ __forceinline__ unsigned long long now_ns_split() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%global"  // CHEAT: globaltimer
                 "timer;" : "=l"(t));
    return t;
}

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    if (now_ns() - last_call < 1000000 && now_ns_split()) return;
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
    last_call = now_ns();
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);
    saxpy_grid_stride_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n);
}
