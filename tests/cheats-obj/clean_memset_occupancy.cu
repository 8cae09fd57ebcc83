// Poses as ladder/03-memory/04_reduce_tree.cu. No cheat: the output zeroed with cudaMemsetAsync on
// the given stream, an atomic reduction sized by the occupancy query.
#include "exercises.h"

#define THREADS 256

__global__ void reduce_atomic_kernel(const float *in, float *out, long n) {
    __shared__ float sums[THREADS];
    float v = 0.0f;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) v += in[i];
    sums[threadIdx.x] = v;
    __syncthreads();
    for (int half = THREADS / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) sums[threadIdx.x] += sums[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(out, sums[0]);
}

void reduce_tree(const float *x, float *out, long n, float *workspace, cudaStream_t stream) {
    (void)workspace;
    int device = 0, sms = 1, per_sm = 1;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, reduce_atomic_kernel, THREADS, 0);
    cudaMemsetAsync(out, 0, sizeof(float), stream);
    reduce_atomic_kernel<<<sms * per_sm, THREADS, 0, stream>>>(x, out, n);
}
