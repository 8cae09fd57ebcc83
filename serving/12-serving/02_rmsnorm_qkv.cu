// Session 12, exercise 2: RMSNorm fused into the QKV projection.
//
// Before attention, each row x of the activations is normalised,
//     x'[k] = x[k] * gamma[k] / sqrt(mean(x^2) + eps),
// and multiplied by the Q, K and V weights, stacked here into one W (N x K): Y = X' W^T. Run as two
// kernels, the norm writes X' to memory and the GEMV reads it back; at decode both are tiny next to
// W, but each is a launch, a pass over memory, and a wait. Fused, the normalised row never leaves
// the chip: each block normalises its batch row into shared memory and runs the GEMV from there.
//
// One block per (8 rows of W, batch row m): blockIdx.y = m. The block's 256 threads
//   1. stage row m of X as floats in shared memory (x_s), each adding up the squares it loaded;
//   2. add their sums into one (warp_sum, then the 8 warps' sums through shared memory) and take
//      inv_rms = 1 / sqrt(sum / K + eps);
//   3. scale x_s in place by gamma[k] * inv_rms;
// then each warp takes one row of W against x_s: exercise 1's GEMV, given below, reading x from
// shared memory instead of global memory.
//
// The row is K floats of shared memory (64 KB at K = 16384): the launcher asks for what K needs.
// Every block normalises the same row again, and a batch of M rereads W M times: the solution
// does neither (it folds 1 / rms into the end of each dot product, so the norm's sum runs along
// with it).
#include <cuda_bf16.h>

#include "exercises.h"
#include "gemv_given.cuh"

#define WARPS_PER_BLOCK 8
#define THREADS (32 * WARPS_PER_BLOCK)

__global__ void __launch_bounds__(THREADS)
rmsnorm_qkv_kernel(const __nv_bfloat16 *X, const __nv_bfloat16 *gamma, float eps, const __nv_bfloat16 *W,
                   __nv_bfloat16 *Y, int N, int K, bool vec) {
    extern __shared__ __align__(16) float x_s[];  // row m of X, normalised: K floats
    __shared__ float warp_part[WARPS_PER_BLOCK];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int m = blockIdx.y;  // the batch row this block normalises
    const __nv_bfloat16 *x = X + (long)m * K;

    float ss = 0.0f;
    // TODO 1: stage the row: for k = threadIdx.x, threadIdx.x + THREADS, ... < K, x_s[k] = the float
    //         of x[k] (__bfloat162float), and ss += its square.
    for (int k = threadIdx.x; k < K; k += THREADS) x_s[k] = 0.0f;  // a placeholder: your loop replaces it

    float inv_rms = 1.0f;  // a placeholder, until the block's sum gives it
    // TODO 2: the block's sum of squares. ss = warp_sum(ss); lane 0 of each warp stores it in
    //         warp_part[warp]; __syncthreads() (every thread is about to read all eight); every thread
    //         adds the eight up and sets inv_rms = rsqrtf(total / K + eps): the mean, not the sum.

    // TODO 3: normalise in place: x_s[k] *= __bfloat162float(gamma[k]) * inv_rms, for the same k as the
    //         staging loop (each thread rescales only what it wrote itself: no barrier needed before).

    __syncthreads();  // the product below reads elements that other threads wrote

    // Given: the row of W of this warp against x_s, as in exercise 1.
    const long n = (long)blockIdx.x * WARPS_PER_BLOCK + warp;
    if (n >= N) return;
    const __nv_bfloat16 *w_row = W + n * K;
    float acc = 0.0f;
    if (vec) {
        const uint4 *w4 = reinterpret_cast<const uint4 *>(w_row);
        for (int c = lane; c < K / 8; c += 32) {  // chunk c: weights and x_s at k = 8c .. 8c + 7
            float w[8];
            bf16x8_to_float(load_weights(w4 + c), w);
            const float4 lo = *reinterpret_cast<const float4 *>(x_s + 8 * c);
            const float4 hi = *reinterpret_cast<const float4 *>(x_s + 8 * c + 4);
            acc = fmaf(lo.x, w[0], acc);
            acc = fmaf(lo.y, w[1], acc);
            acc = fmaf(lo.z, w[2], acc);
            acc = fmaf(lo.w, w[3], acc);
            acc = fmaf(hi.x, w[4], acc);
            acc = fmaf(hi.y, w[5], acc);
            acc = fmaf(hi.z, w[6], acc);
            acc = fmaf(hi.w, w[7], acc);
        }
    } else {
        for (int k = lane; k < K; k += 32) acc = fmaf(x_s[k], __bfloat162float(w_row[k]), acc);
    }
    acc = warp_sum(acc);
    if (lane == 0) Y[(long)m * N + n] = __float2bfloat16(acc);
}

void rmsnorm_qkv(const uint16_t *X, const uint16_t *gamma, float eps, const uint16_t *W, uint16_t *Y, int M, int N,
                 int K, cudaStream_t stream) {
    if (M <= 0 || N <= 0 || K <= 0 || M > 65535) return;
    // The whole row in shared memory: past the GPU's limit per block (227 KB on an H100, K ~ 58000)
    // this version cannot run, and returns without writing.
    const size_t smem = (size_t)K * sizeof(float);
    int device = 0, max_smem = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&max_smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (smem + WARPS_PER_BLOCK * sizeof(float) > (size_t)max_smem) return;
    cudaFuncSetAttribute(rmsnorm_qkv_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    const bool vec = K % 8 == 0 && (uintptr_t)W % 16 == 0;
    const dim3 grid((unsigned)((N + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK), (unsigned)M);
    rmsnorm_qkv_kernel<<<grid, THREADS, smem, stream>>>(
        reinterpret_cast<const __nv_bfloat16 *>(X), reinterpret_cast<const __nv_bfloat16 *>(gamma), eps,
        reinterpret_cast<const __nv_bfloat16 *>(W), reinterpret_cast<__nv_bfloat16 *>(Y), N, K, vec);
}
