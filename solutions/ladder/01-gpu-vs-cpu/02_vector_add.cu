// Session 01, exercise 2 (solution): vector add, one thread per element.
#include "exercises.h"

__global__ void vector_add_kernel(const float *x, const float *y, float *z, long n) {
    const long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) z[i] = x[i] + y[i];
}

void vector_add(const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    const long blocks = (n + threads - 1) / threads;
    vector_add_kernel<<<(unsigned)blocks, threads, 0, stream>>>(x, y, z, n);
}
