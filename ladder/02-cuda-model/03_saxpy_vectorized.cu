// Session 02, exercise 3: the same saxpy, 16 bytes per access.
//
// A float4 load moves four floats in one instruction: fewer instructions in flight for the same
// bytes, and each warp asks for 512 contiguous bytes at once. cudaMalloc returns 256-byte aligned
// memory, so x, y and z may be read as float4 arrays of n / 4 elements. The last n % 4 elements
// don't fill a float4: handle them one by one.
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_vectorized_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long first = (long)blockIdx.x * blockDim.x + threadIdx.x;
    const long stride = (long)gridDim.x * blockDim.x;
    const long n4 = n / 4;
    // TODO 1: view x, y and z as float4 arrays (reinterpret_cast<const float4 *>(x), ...).
    // TODO 2: grid-stride loop over the n4 float4 elements: load both, compute a * x + y in each of
    //         the four components (.x .y .z .w), store the float4.
    // TODO 3: the tail: elements 4 * n4 .. n - 1, one per thread, also with a grid-stride loop.
}

void saxpy_vectorized(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);
    saxpy_vectorized_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n);
}
