// Session 01, exercise 2: vector add, z = x + y, the "hello world" of GPU kernels.
//
// One thread per element. A launch of `blocks` blocks of `threads` threads each gives every thread
// a unique global index from its block number and its place inside the block. There are usually a
// few more threads than elements (the last block is partly empty), so each thread checks that its
// index is inside the vector before touching memory.
#include "exercises.h"

__global__ void vector_add_kernel(const float *x, const float *y, float *z, long n) {
    // TODO 1: this thread's global index: blockIdx.x * blockDim.x + threadIdx.x. Compute it as a
    //         long (cast one operand first): the product can pass 2^31 for large vectors.
    //         Why: the blocks before this one hold blockIdx.x * blockDim.x threads; count on from there.
    // TODO 2: if the index is inside the vector, write z[i] = x[i] + y[i].
}

void vector_add(const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    // TODO 3: enough blocks to cover all n elements: n / threads, rounded up.
    const long blocks = 1;
    vector_add_kernel<<<(unsigned)blocks, threads, 0, stream>>>(x, y, z, n);
}
