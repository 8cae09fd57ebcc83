// Poses as ladder/03-memory/05_reduce_warp_shuffle.cu. Cheat: cub::WarpReduce instead of the warp
// shuffles the exercise asks for (device code only: the host object shows it by CUB's names).
#include <cub/warp/warp_reduce.cuh>
#include "exercises.h"
#include "launch.h"

#define THREADS 256
#define WARPS (THREADS / 32)

__global__ void reduce_sum_kernel(const float *x, float *partials, long n) {
    using WarpReduce = cub::WarpReduce<float>;
    __shared__ typename WarpReduce::TempStorage temp[WARPS];
    __shared__ float warp_totals[WARPS];
    const long stride = (long)gridDim.x * blockDim.x;
    float v = 0.0f;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) v += x[i];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    v = WarpReduce(temp[warp]).Sum(v);
    if (lane == 0) warp_totals[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = WarpReduce(temp[0]).Sum(lane < WARPS ? warp_totals[lane] : 0.0f);
        if (lane == 0) partials[blockIdx.x] = v;
    }
}

void reduce_warp_shuffle(const float *x, float *out, long n, float *workspace, cudaStream_t stream) {
    const int blocks = blocks_for_one_wave(THREADS);
    reduce_sum_kernel<<<blocks, THREADS, 0, stream>>>(x, workspace, n);
    reduce_sum_kernel<<<1, THREADS, 0, stream>>>(workspace, out, blocks);
}
