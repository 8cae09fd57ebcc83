// The wgmma shared-memory descriptor of a 128-byte-swizzled tile (session 10's exercise 02, given
// to the rungs after it, and to sessions 09 and 14's Hopper kernels). Not in hopper_ptx.cuh, which
// exercise 02 includes: there the student writes it.
//
// A tile of R rows x 128 bytes (64 BF16, or 128 e4m3) that TMA wrote with the 128-byte swizzle:
// within each group of 8 rows (1024 bytes), 16-byte chunk c of row r sits at chunk slot c ^ (r % 8).
// The tile must start on a 1024-byte boundary, so the hardware's swizzle and TMA's agree.
#ifndef GRADER_WGMMA_SW128_CUH
#define GRADER_WGMMA_SW128_CUH

#include "hopper_ptx.cuh"  // smem_addr

// Descriptor of the 64-row (A) or N-row (B) slice of such a tile that starts at `tile`; add
// (32 * k) >> 4 to it for the k-th 16-column step (32 bytes further along each row).
__device__ __forceinline__ uint64_t sw128_desc(const void *tile) {
    uint64_t desc = 0;
    desc |= (uint64_t)((smem_addr(tile) & 0x3FFFF) >> 4);   // bits 0-13: start address / 16
    desc |= (uint64_t)1 << 16;                              // bits 16-29: leading offset, unused when swizzled
    desc |= (uint64_t)(1024 >> 4) << 32;                    // bits 32-45: 1024 bytes from one 8-row group to the next
    desc |= (uint64_t)1 << 62;                              // bits 62-63: 1 = 128-byte swizzle
    return desc;
}

#endif
