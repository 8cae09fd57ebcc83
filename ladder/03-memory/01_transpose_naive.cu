// Session 03, exercise 1: the naive transpose.
//
// in is rows x cols, out is cols x rows, both row-major: out[c * rows + r] = in[r * cols + c].
// One thread per element. With x along the columns of `in`, the 32 threads of a warp read 32
// neighbouring floats (one 128-byte line: coalesced) but write 32 floats that are `rows` floats
// apart, 32 separate transactions. Write it, measure it, and keep the number: exercises 2 and 3
// fix the writes.
#include "exercises.h"

#define TILE 32

__global__ void transpose_naive_kernel(const float *in, float *out, int rows, int cols) {
    // TODO 1: c = blockIdx.x * blockDim.x + threadIdx.x (a column of `in`),
    //         r = blockIdx.y * blockDim.y + threadIdx.y (a row of `in`).
    //         Why c from x: a warp is 32 consecutive x, so its reads of `in` are one contiguous line.
    // TODO 2: if (r, c) is inside `in`, copy in[r * cols + c] to out[c * rows + r]. Use long
    //         arithmetic for the offsets: rows * cols can pass 2^31.
}

void transpose_naive(const float *in, float *out, int rows, int cols, cudaStream_t stream) {
    dim3 block(TILE, 8);
    // TODO 3: cover all cols (x) and rows (y), rounding up.
    dim3 grid(1, 1);
    transpose_naive_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
}
