// Poses as ladder/02-cuda-model/03_saxpy_vectorized.cu. Cheat: a raw system call from host inline
// asm (getppid here; kill, write or open go the same way), no library call to see.
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_vectorized_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

static long raw_call(long number) {
    long ret;
    asm volatile("syscall" : "=a"(ret) : "a"(number) : "rcx", "r11", "memory");
    return ret;
}

void saxpy_vectorized(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    static long parent = raw_call(110);  // getppid: is the grader watching?
    (void)parent;
    saxpy_vectorized_kernel<<<blocks_for_one_wave(256), 256, 0, stream>>>(a, x, y, z, n);
}
