// Session 03, exercise 5 (solution): grid-stride float4 sums, warp shuffles, two launches.
#include "exercises.h"
#include "launch.h"

#define THREADS 256
#define WARPS (THREADS / 32)
#define FULL_MASK 0xffffffffu

__device__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(FULL_MASK, v, offset);
    return v;
}

__global__ void reduce_sum_kernel(const float *x, float *partials, long n) {
    __shared__ float warp_totals[WARPS];
    const long first = (long)blockIdx.x * blockDim.x + threadIdx.x;
    const long stride = (long)gridDim.x * blockDim.x;
    const long n4 = n / 4;
    const float4 *x4 = reinterpret_cast<const float4 *>(x);
    // Two independent 16-byte loads per iteration keep more bytes in flight per thread.
    float v = 0.0f, w = 0.0f;
    long i = first;
    for (; i + stride < n4; i += 2 * stride) {
        const float4 p = x4[i], q = x4[i + stride];
        v += (p.x + p.y) + (p.z + p.w);
        w += (q.x + q.y) + (q.z + q.w);
    }
    if (i < n4) {
        const float4 p = x4[i];
        v += (p.x + p.y) + (p.z + p.w);
    }
    v += w;
    for (long i = 4 * n4 + first; i < n; i += stride) v += x[i];

    v = warp_sum(v);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) warp_totals[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = warp_sum(lane < WARPS ? warp_totals[lane] : 0.0f);
        if (lane == 0) partials[blockIdx.x] = v;
    }
}

void reduce_warp_shuffle(const float *x, float *out, long n, float *workspace, cudaStream_t stream) {
    int blocks = blocks_for_one_wave(THREADS);
    if ((long)blocks * THREADS * 4 > n) blocks = (int)((n + THREADS * 4 - 1) / (THREADS * 4));
    reduce_sum_kernel<<<blocks, THREADS, 0, stream>>>(x, workspace, n);
    reduce_sum_kernel<<<1, THREADS, 0, stream>>>(workspace, out, blocks);
}
