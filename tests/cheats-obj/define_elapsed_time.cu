// Poses as ladder/03-memory/01_transpose_naive.cu. Cheat: the CUDA runtime's timer replaced, so
// every timed launch takes a microsecond.
#include "exercises.h"

extern "C" cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end) {
    (void)start; (void)end;
    *ms = 0.001f;
    return cudaSuccess;
}

__global__ void transpose_naive_kernel(const float *in, float *out, int rows, int cols) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x, r = blockIdx.y * blockDim.y + threadIdx.y;
    if (r < rows && c < cols) out[(long)c * rows + r] = in[(long)r * cols + c];
}

void transpose_naive(const float *in, float *out, int rows, int cols, cudaStream_t stream) {
    dim3 block(32, 8), grid((cols + 31) / 32, (rows + 7) / 8);
    transpose_naive_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
}
