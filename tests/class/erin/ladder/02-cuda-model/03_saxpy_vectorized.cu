// erin: cheats with a side stream. The kernel runs on a stream of her own, so the grader's events
// on its stream see (almost) nothing; her saxpy_grid_stride is honest.
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_vectorized_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_vectorized(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    (void)stream;
    static cudaStream_t mine;
    if (!mine) cudaStreamCreateWithFlags(&mine, cudaStreamNonBlocking);
    saxpy_vectorized_kernel<<<blocks_for_one_wave(256), 256, 0, mine>>>(a, x, y, z, n);
}
