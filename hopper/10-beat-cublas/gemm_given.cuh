// Session 10: what the GEMM rungs 03-06 share and are given: the accumulators' way out.
#ifndef SESSION10_GEMM_GIVEN_CUH
#define SESSION10_GEMM_GIVEN_CUH

#include "wgmma_desc.cuh"

// Round a pair to BF16 and store it at C[row][col], C[row][col + 1], skipping what lies outside
// M x N. A 4-byte store needs an even N (then every even column starts 4-byte aligned).
__device__ __forceinline__ void store_pair_bf16(uint16_t *C, int M, int N, int row, int col, float v0, float v1) {
    if (row >= M || col >= N) return;
    __nv_bfloat16 *out = (__nv_bfloat16 *)C + (size_t)row * N + col;
    if (col + 1 < N && N % 2 == 0) {
        *(__nv_bfloat162 *)out = __floats2bfloat162_rn(v0, v1);
    } else {
        out[0] = __float2bfloat16(v0);
        if (col + 1 < N) out[1] = __float2bfloat16(v1);
    }
}

// Store a warpgroup's 64 x BN accumulators (hopper_given.cuh's layout) as the BF16 block of C whose
// top-left element is (row0, col0). `tid` is the thread's index within its warpgroup (0..127).
template <int BN>
__device__ __forceinline__ void store_tile_bf16(uint16_t *C, int M, int N, int row0, int col0, const float (&d)[BN / 2],
                                                int tid) {
    const int row = row0 + 16 * (tid / 32) + (tid % 32) / 4;
#pragma unroll
    for (int j = 0; j < BN / 8; j++) {
        const int col = col0 + 8 * j + 2 * (tid % 4);
        store_pair_bf16(C, M, N, row, col, d[4 * j], d[4 * j + 1]);
        store_pair_bf16(C, M, N, row + 8, col, d[4 * j + 2], d[4 * j + 3]);
    }
}

// Dynamic shared memory rounded up to the 1024-byte boundary the 128-byte swizzle needs.
__device__ __forceinline__ uint8_t *align_1024(uint8_t *p) {
    return p + ((1024 - (smem_addr(p) & 1023)) & 1023);
}

#endif
