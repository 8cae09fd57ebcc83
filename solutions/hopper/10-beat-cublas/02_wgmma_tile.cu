// Session 10, exercise 2 (solution): one 64 x 64 tile of C = A * B^T per warpgroup, with wgmma.
//
// The block's 128 threads copy the 64 x 64 tiles of A and B into shared memory in the 128-byte
// swizzled layout (16-byte chunk c of row r at slot c ^ (r % 8)), describe each tile with a
// descriptor, and issue four m64n64k16 wgmmas along K, accumulating in registers. The result comes
// out in the accumulator layout of hopper_given.cuh and is stored straight to global memory.
#include "exercises.h"
#include "hopper_given.cuh"

#define TILE 64
#define THREADS 128

// Byte offset of 16-byte chunk `chunk` of row `row` in a swizzled 64-column tile.
__device__ __forceinline__ int swizzled(int row, int chunk) { return row * 128 + ((chunk ^ (row & 7)) << 4); }

// See the descriptor's fields in the PTX ISA, "Matrix Descriptor Format" (wgmma).
__device__ __forceinline__ uint64_t tile_desc(const void *tile) {
    uint64_t desc = (uint64_t)((smem_addr(tile) & 0x3FFFF) >> 4);   // start address / 16
    desc |= (uint64_t)1 << 16;                                      // leading offset: unused with a swizzle
    desc |= (uint64_t)(1024 >> 4) << 32;                            // stride: 8 rows of 128 bytes
    desc |= (uint64_t)1 << 62;                                      // 128-byte swizzle
    return desc;
}

__global__ void __launch_bounds__(THREADS) wgmma_tiles_kernel(const uint16_t *A, const uint16_t *B, float *C, int N) {
    __shared__ __align__(1024) uint8_t a_tile[TILE * TILE * 2], b_tile[TILE * TILE * 2];
    const int m0 = blockIdx.y * TILE, n0 = blockIdx.x * TILE;
    // 64 rows x 8 chunks per tile: four chunks of each tile a thread.
    for (int i = threadIdx.x; i < TILE * 8; i += THREADS) {
        const int row = i / 8, chunk = i % 8;
        *(uint4 *)(a_tile + swizzled(row, chunk)) = *(const uint4 *)(A + (size_t)(m0 + row) * TILE + chunk * 8);
        *(uint4 *)(b_tile + swizzled(row, chunk)) = *(const uint4 *)(B + (size_t)(n0 + row) * TILE + chunk * 8);
    }
    // The writes above went through the generic proxy; wgmma reads through the async proxy.
    fence_async_shared();
    __syncthreads();

    float d[32];
    const uint64_t a_desc = tile_desc(a_tile), b_desc = tile_desc(b_tile);
    wgmma_fence();
#pragma unroll
    for (int k = 0; k < TILE / 16; k++)   // 16 columns = 32 bytes further along every row
        wgmma_m64n64k16(d, a_desc + ((32 * k) >> 4), b_desc + ((32 * k) >> 4), k > 0);
    wgmma_commit();
    wgmma_wait<0>();

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int row = m0 + warp * 16 + lane / 4;
#pragma unroll
    for (int j = 0; j < TILE / 8; j++) {
        const int col = n0 + 8 * j + 2 * (lane % 4);
        *(float2 *)(C + (size_t)row * N + col) = make_float2(d[4 * j], d[4 * j + 1]);
        *(float2 *)(C + (size_t)(row + 8) * N + col) = make_float2(d[4 * j + 2], d[4 * j + 3]);
    }
}

void wgmma_tiles(const uint16_t *A, const uint16_t *B, float *C, int M, int N, cudaStream_t stream) {
    dim3 grid(N / TILE, M / TILE);
    wgmma_tiles_kernel<<<grid, THREADS, 0, stream>>>(A, B, C, N);
}
