// Session 10, exercise 2: one 64 x 64 tile of C = A * B^T per warpgroup, with wgmma.
//
// wgmma is one matrix multiply issued by a whole warpgroup (four warps, 128 threads) that reads
// its operands straight from shared memory. It finds them through a 64-bit descriptor, and it
// expects them in one of a few swizzled layouts; you build the 128-byte swizzle by hand here:
// a tile of 64 rows x 64 BF16 is 64 rows of 128 bytes, eight 16-byte chunks a row, and chunk c
// of row r is stored at chunk slot c ^ (r % 8). (TMA writes this same layout for you from 03 on.)
// Rows r and r + 8 then start their chunks in different banks, which is why the layout exists.
//
// Block (blockIdx.y, blockIdx.x) computes C[64 y .. 64 y + 63][64 x .. 64 x + 63], K = 64.
#include "exercises.h"
#include "hopper_given.cuh"

#define TILE 64
#define THREADS 128

// TODO 1: the byte offset of 16-byte chunk `chunk` of row `row` in the swizzled tile (see above).
__device__ __forceinline__ int swizzled(int row, int chunk) { return row * 128 + chunk * 16; }

// TODO 2: the descriptor of a swizzled tile (the PTX ISA's "Matrix Descriptor Format" for wgmma):
//   bits  0-13  the tile's shared address (smem_addr) / 16
//   bits 16-29  leading byte offset / 16: unused with a swizzle, write 1
//   bits 32-45  stride byte offset / 16: from one group of 8 rows to the next, 8 x 128 bytes
//   bits 62-63  the layout: 1 = 128-byte swizzle
__device__ __forceinline__ uint64_t tile_desc(const void *tile) { return 0; }

__global__ void __launch_bounds__(THREADS) wgmma_tiles_kernel(const uint16_t *A, const uint16_t *B, float *C, int N) {
    __shared__ __align__(1024) uint8_t a_tile[TILE * TILE * 2], b_tile[TILE * TILE * 2];
    const int m0 = blockIdx.y * TILE, n0 = blockIdx.x * TILE;
    // Rows m0.. of A and n0.. of B, 16 bytes (8 BF16) a thread a step, each chunk to its swizzled slot.
    for (int i = threadIdx.x; i < TILE * 8; i += THREADS) {
        const int row = i / 8, chunk = i % 8;
        *(uint4 *)(a_tile + swizzled(row, chunk)) = *(const uint4 *)(A + (size_t)(m0 + row) * TILE + chunk * 8);
        *(uint4 *)(b_tile + swizzled(row, chunk)) = *(const uint4 *)(B + (size_t)(n0 + row) * TILE + chunk * 8);
    }
    // The stores above are "generic proxy" writes; wgmma reads through the "async proxy".
    fence_async_shared();
    __syncthreads();

    float d[32] = {};
    // TODO 3: with the descriptors of a_tile and b_tile: wgmma_fence(), then four k16 steps of
    //         wgmma_m64n64k16 along K (step k starts 32 bytes further along every row: add
    //         (32 * k) >> 4 to both descriptors; accumulate = 0 for the first step), then
    //         wgmma_commit() and wgmma_wait<0>() before the registers are read.

    // TODO 4: store the accumulators (the layout is at the top of hopper_given.cuh's wgmma section):
    //         d[4j], d[4j+1] to row m0 + 16 warp + lane / 4, columns n0 + 8j + 2 (lane % 4) and +1;
    //         d[4j+2], d[4j+3] eight rows below; j = 0 .. 7. C is M x N FP32.
}

void wgmma_tiles(const uint16_t *A, const uint16_t *B, float *C, int M, int N, cudaStream_t stream) {
    dim3 grid(N / TILE, M / TILE);
    wgmma_tiles_kernel<<<grid, THREADS, 0, stream>>>(A, B, C, N);
}
