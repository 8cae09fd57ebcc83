// Session 12, exercise 1: the decode GEMV, Y = X W^T in BF16 with FP32 sums.
//
// Decode makes one token at a time: X is one row (M = 1), or a few when a server batches several
// requests (M = 2 .. 8). W is N x K: row n holds the K weights of output n. Every weight is read
// once and used for M multiply-adds, so the time is the time to read W: 117 MB for a 14336 x 4096
// layer, at least 24.5 us at the H200's 4.8 TB/s. The kernel's whole job is to keep HBM busy.
//
// One warp per row of W, the simplest layout that does:
//   - lane l reads the row's 16-byte chunks l, l + 32, l + 64, ...: 32 lanes read 512 consecutive
//     bytes, one coalesced request, and each load brings 8 weights (uint4), not one;
//   - each chunk of W is loaded once and used for every batch row m < M (up to MAX_BATCH: the
//     launcher runs larger batches in passes of MAX_BATCH rows);
//   - the 32 lanes' partial sums are added with warp_sum (shuffles, no shared memory), and lane 0
//     writes the warp's M outputs, rounded to BF16.
// A row can only be read in 16-byte chunks when it starts on a 16-byte boundary: when K % 8 != 0
// (row n starts 2 n K bytes in) the kernel goes element by element instead (vec is false).
//
// What it does not do yet (the solution does): several loads in flight per lane before their sums
// are needed, rows shared between the lanes of a warp so that x is read once for several rows,
// and split-K for short, wide matrices, where N warps are too few to fill the GPU.
#include <cuda_bf16.h>

#include "exercises.h"
#include "gemv_given.cuh"

#define WARPS_PER_BLOCK 8
#define THREADS (32 * WARPS_PER_BLOCK)
#define MAX_BATCH 8

// TODO 1: acc[m] += the 8 products of one 16-byte chunk of W (w) and the chunk of x row m at the
//         same k (x): unpack both with bf16x8_to_float, then 8 fmaf. Return the new sum.
__device__ __forceinline__ float dot8(uint4 w, uint4 x, float acc) {
    return acc;
}

__global__ void __launch_bounds__(THREADS)
gemv_warp_per_row(const __nv_bfloat16 *W, const __nv_bfloat16 *X, __nv_bfloat16 *Y, int M, int N, int K, bool vec) {
    const int lane = threadIdx.x % 32;
    const long n = (long)blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32;  // this warp's row of W
    if (n >= N) return;  // a whole warp leaves: nothing below waits for the block
    const __nv_bfloat16 *w_row = W + n * K;
    float acc[MAX_BATCH];
#pragma unroll
    for (int m = 0; m < MAX_BATCH; m++) acc[m] = 0.0f;

    if (vec) {
        const uint4 *w4 = reinterpret_cast<const uint4 *>(w_row);
        const uint4 *x4 = reinterpret_cast<const uint4 *>(X);
        const int chunks = K / 8;  // 16-byte chunks in a row
        // TODO 2: for c = lane, lane + 32, ... < chunks: one load of the weights, load_weights(w4 + c),
        //         then for every batch row m < M: acc[m] = dot8(weights, x4[m * chunks + c], acc[m])
        //         (row m of X starts m * chunks chunks in). Loop over m with #pragma unroll up to
        //         MAX_BATCH and test m < M inside: acc must stay in registers.
    } else {
        // TODO 3: K % 8 != 0: element by element, k = lane, lane + 32, ... < K: for every m < M,
        //         acc[m] += x[m][k] * w_row[k] (X[m * K + k]; __bfloat162float for both).
    }

    // TODO 4: for every m < M: the row's sum, warp_sum(acc[m]) (every lane takes part); lane 0
    //         writes Y[m * N + n] = __float2bfloat16(sum) (rounds to nearest).
}

void gemv_bf16(const uint16_t *W, const uint16_t *X, uint16_t *Y, int M, int N, int K, cudaStream_t stream) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    // 16-byte chunks need every row to start on a 16-byte boundary: K % 8 == 0 and aligned pointers.
    const bool vec = K % 8 == 0 && ((uintptr_t)W | (uintptr_t)X) % 16 == 0;
    const unsigned blocks = (unsigned)((N + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK);
    for (int m0 = 0; m0 < M; m0 += MAX_BATCH) {  // batch rows m0 .. m0 + MAX_BATCH - 1
        const int rows = M - m0 < MAX_BATCH ? M - m0 : MAX_BATCH;
        gemv_warp_per_row<<<blocks, THREADS, 0, stream>>>(
            reinterpret_cast<const __nv_bfloat16 *>(W), reinterpret_cast<const __nv_bfloat16 *>(X) + (long)m0 * K,
            reinterpret_cast<__nv_bfloat16 *>(Y) + (long)m0 * N, rows, N, K, vec);
    }
}
