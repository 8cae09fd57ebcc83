// Cheat: code run before main without the word "constructor": a function pointer placed in
// .preinit_array by a section attribute (the loader calls it before any constructor).
#include "exercises.h"
#include "launch.h"

static int calls;
static void early() { calls = -1000; }
__attribute__((section(".preinit_array"), used)) static void (*const run_early)(void) = early;  // CHEAT: section | init_array

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    if (++calls > 0) {
        const int threads = 256;
        const int blocks = blocks_for_one_wave(threads);
        saxpy_grid_stride_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n);
    }
}
