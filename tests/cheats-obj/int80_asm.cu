// Poses as ladder/03-memory/01_transpose_naive.cu. Cheat: a system call through the 32-bit gate,
// int $0x80, which also works from a 64-bit process.
#include "exercises.h"

__global__ void transpose_naive_kernel(const float *in, float *out, int rows, int cols) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x, r = blockIdx.y * blockDim.y + threadIdx.y;
    if (r < rows && c < cols) out[(long)c * rows + r] = in[(long)r * cols + c];
}

void transpose_naive(const float *in, float *out, int rows, int cols, cudaStream_t stream) {
    int pid;
    asm volatile("int $0x80" : "=a"(pid) : "a"(20) : "memory");  // getpid
    (void)pid;
    dim3 block(32, 8), grid((cols + 31) / 32, (rows + 7) / 8);
    transpose_naive_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
}
