// Session 04, rung 2: global-memory coalescing.
//
// The same arithmetic as rung 1; only the mapping of threads to elements changes. Let threadIdx.x
// run ALONG a row of C: the 32 threads of a warp then read 32 neighbouring elements of B (one
// 128-byte line), all read the same element of A (a broadcast), and write 32 neighbouring elements
// of C. Predict the speed-up from the number of memory transactions per warp before you measure.
#include "exercises.h"

#define BLOCK 32

__global__ void sgemm_coalesced_kernel(int M, int N, int K, float alpha, const float *A, const float *B,
                                       float beta, float *C) {
    // TODO 1: col from the x indices, row from the y indices.
    // TODO 2: the same guarded dot product and update as rung 1.
}

void sgemm_coalesced(int M, int N, int K, float alpha, const float *A, const float *B, float beta, float *C,
                     cudaStream_t stream) {
    dim3 block(BLOCK, BLOCK);
    // TODO 3: x covers the N columns, y the M rows.
    dim3 grid(1, 1);
    sgemm_coalesced_kernel<<<grid, block, 0, stream>>>(M, N, K, alpha, A, B, beta, C);
}
