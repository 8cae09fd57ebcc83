// Poses as ladder/03-memory/04_reduce_tree.cu. Cheat: thrust::reduce on the given stream, its
// answer copied into out.
#include <thrust/execution_policy.h>
#include <thrust/reduce.h>
#include "exercises.h"

__global__ void store_kernel(float *out, float v) { *out = v; }

void reduce_tree(const float *x, float *out, long n, float *workspace, cudaStream_t stream) {
    (void)workspace;
    const float sum = thrust::reduce(thrust::cuda::par.on(stream), x, x + n, 0.0f);
    store_kernel<<<1, 1, 0, stream>>>(out, sum);
}
