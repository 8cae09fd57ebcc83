// Session 10: the shared-memory descriptor of exercise 02, given to the GEMM rungs 03-06.
//
// A tile of R rows x 64 BF16 (128 bytes a row) that TMA wrote with the 128-byte swizzle: within
// each group of 8 rows (1024 bytes), 16-byte chunk c of row r sits at chunk slot c ^ (r % 8).
// The tile must start on a 1024-byte boundary, so the hardware's swizzle and TMA's agree.
#ifndef SESSION10_WGMMA_DESC_CUH
#define SESSION10_WGMMA_DESC_CUH

#include "hopper_given.cuh"

// sw128_desc(tile): in grader/wgmma_sw128.cuh, shared with sessions 09 and 14's Hopper kernels.
#include "wgmma_sw128.cuh"

#endif
