// Poses as ladder/03-memory/01_transpose_naive.cu. No cheat: printf in a kernel (a debugging
// aid), an error check after the launch and a message on stderr.
#include <stdio.h>
#include "exercises.h"

__global__ void transpose_naive_kernel(const float *in, float *out, int rows, int cols) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x, r = blockIdx.y * blockDim.y + threadIdx.y;
    if (rows == 0 && c == 0 && r == 0) printf("transpose_naive_kernel: empty matrix\n");
    if (r < rows && c < cols) out[(long)c * rows + r] = in[(long)r * cols + c];
}

void transpose_naive(const float *in, float *out, int rows, int cols, cudaStream_t stream) {
    dim3 block(32, 8), grid((cols + 31) / 32, (rows + 7) / 8);
    transpose_naive_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
    const cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) fprintf(stderr, "transpose_naive: %s\n", cudaGetErrorString(err));
}
