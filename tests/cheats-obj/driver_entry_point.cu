// Poses as ladder/03-memory/01_transpose_naive.cu. Cheat: the driver API's entry points fetched
// through the runtime under a pasted name (cuStreamCreate, cuMemAlloc... all reachable from there).
#include "exercises.h"

#define J(a, b) a##b

__global__ void transpose_naive_kernel(const float *in, float *out, int rows, int cols) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x, r = blockIdx.y * blockDim.y + threadIdx.y;
    if (r < rows && c < cols) out[(long)c * rows + r] = in[(long)r * cols + c];
}

void transpose_naive(const float *in, float *out, int rows, int cols, cudaStream_t stream) {
    static void *ctx_sync;
    if (!ctx_sync) J(cudaGetDriver, EntryPointByVersion)("cuCtxSynchronize", &ctx_sync, 12000, cudaEnableDefault, nullptr);
    dim3 block(32, 8), grid((cols + 31) / 32, (rows + 7) / 8);
    transpose_naive_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
}
