// Poses as ladder/03-memory/02_transpose_shared.cu. Cheat: a weak definition of cudaEventRecord
// under an asm label (the runtime's header already defines the name for device code), so that the
// grader's events never record.
#include "exercises.h"

extern "C" __attribute__((weak)) int record_nothing(void *event, void *stream) __asm__("cudaEventRecord");
extern "C" int record_nothing(void *event, void *stream) {
    (void)event; (void)stream;
    return 0;
}

#define TILE 32
#define ROWS_PER_PASS 8

__global__ void transpose_shared_kernel(const float *in, float *out, int rows, int cols) {
    __shared__ float tile[TILE][TILE];
    int c = blockIdx.x * TILE + threadIdx.x, r = blockIdx.y * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS_PER_PASS)
        if (r + j < rows && c < cols) tile[threadIdx.y + j][threadIdx.x] = in[(long)(r + j) * cols + c];
    __syncthreads();
    c = blockIdx.y * TILE + threadIdx.x;
    r = blockIdx.x * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS_PER_PASS)
        if (r + j < cols && c < rows) out[(long)(r + j) * rows + c] = tile[threadIdx.x][threadIdx.y + j];
}

void transpose_shared(const float *in, float *out, int rows, int cols, cudaStream_t stream) {
    dim3 block(TILE, ROWS_PER_PASS), grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    transpose_shared_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
}
