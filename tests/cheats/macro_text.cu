// Cheat: the global timer read by asm whose text a macro completes ("%%global" TIMER) or whose
// register name is stringified (#r), and OpenMP through _Pragma(#x). The scanner cannot read
// text that macros build: asm text must be plain literals, _Pragma's operand one literal.
#include "exercises.h"
#include "launch.h"

#define TIMER "timer;"
#define SREG(r, v) asm volatile("mov.u64 %0, %%" #r ";" : "=l"(v))  // CHEAT: asm
#define OMP(x) _Pragma(#x)  // CHEAT: _Pragma

__device__ unsigned long long last_call;

__device__ __forceinline__ unsigned long long now_ns() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%global" TIMER : "=l"(t));  // CHEAT: asm
    return t;
}

__device__ __forceinline__ unsigned long long now_ns_too() {
    unsigned long long t;
    SREG(globaltimer, t);
    return t;
}

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    if (now_ns() - last_call < 1000000 && now_ns_too()) return;
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
    last_call = now_ns();
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    static float warm[1024];
    OMP(omp parallel for)
    for (int i = 0; i < 1024; i++) warm[i] = a * (float)i;
    _Pragma("omp parallel for")  // CHEAT: _Pragma omp
    for (int i = 0; i < 1024; i++) warm[i] += 1.0f;
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);
    saxpy_grid_stride_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n);
}
