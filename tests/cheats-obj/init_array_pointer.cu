// Poses as ladder/03-memory/03_transpose_padded.cu. Cheat: a function pointer placed by hand in
// .init_array, so the loader runs it before main (the section name is pasted: no ".init_array"
// string for a scanner to find).
#include "exercises.h"

#define TILE 32
#define ROWS_PER_PASS 8
#define STR(x) #x
#define SECTION(a, b) STR(a##b)

__global__ void transpose_padded_kernel(const float *in, float *out, int rows, int cols) {
    __shared__ float tile[TILE][TILE + 1];
    int c = blockIdx.x * TILE + threadIdx.x, r = blockIdx.y * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS_PER_PASS)
        if (r + j < rows && c < cols) tile[threadIdx.y + j][threadIdx.x] = in[(long)(r + j) * cols + c];
    __syncthreads();
    c = blockIdx.y * TILE + threadIdx.x;
    r = blockIdx.x * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS_PER_PASS)
        if (r + j < cols && c < rows) out[(long)(r + j) * rows + c] = tile[threadIdx.x][threadIdx.y + j];
}

static int early_device = -1;
static void early_hook(void) { cudaGetDevice(&early_device); }
__attribute__((section(SECTION(.init, _array)), used)) static void (*early_hook_entry)(void) = early_hook;

void transpose_padded(const float *in, float *out, int rows, int cols, cudaStream_t stream) {
    dim3 block(TILE, ROWS_PER_PASS), grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    transpose_padded_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
}
