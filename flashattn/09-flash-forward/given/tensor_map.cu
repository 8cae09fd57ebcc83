// Session 09, given: the TMA tensor maps of the Hopper rung (04_flash_wgmma), built on the host.
//
// cuTensorMapEncodeTiled lives in the driver API (libcuda), which exercise files may not call: the
// object policy allows them this function instead (flashattn/09-flash-forward/policy.txt), as
// session 10's given code does for its BF16 matrices. Q, K and V are [batch * heads][rows][head_dim]:
// a 3-D map, so that a box reaching past the last row of one (batch, head) is zero-filled instead
// of reading the next one's rows.
#include <cuda.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>

#include "flash_hopper_given.cuh"
#include "tma_encode.h"  // gr_encode_tiled: the driver function, found once

extern "C" int tma_map_heads(CUtensorMap *map, const void *base, int slices, int rows, int head_dim, int box_rows) {
    if (slices < 1 || rows < 1) {
        fprintf(stderr, "tma_map_heads: %d slices of %d rows hold no element\n", slices, rows);
        return -1;
    }
    if (head_dim != 64 && head_dim != 128) {
        fprintf(stderr, "tma_map_heads: head_dim %d (64 or 128: boxes are 64 columns wide)\n", head_dim);
        return -1;
    }
    if ((uintptr_t)base % 16) { fprintf(stderr, "tma_map_heads: the tensor must start 16-byte aligned\n"); return -1; }
    if (box_rows < 1 || box_rows > 256) {
        fprintf(stderr, "tma_map_heads: a box of %d rows (1..256)\n", box_rows);
        return -1;
    }
    gr_encode_tiled_fn encode = gr_encode_tiled();
    if (!encode) {
        fprintf(stderr, "tma_map_heads: the CUDA driver gives no cuTensorMapEncodeTiled (a GPU and a CUDA 12 driver needed)\n");
        return -1;
    }
    // Innermost first: columns, rows, slices; strides in bytes for all but the innermost.
    const cuuint64_t dims[3] = {(cuuint64_t)head_dim, (cuuint64_t)rows, (cuuint64_t)slices};
    const cuuint64_t strides[2] = {2ull * (cuuint64_t)head_dim, 2ull * (cuuint64_t)head_dim * (cuuint64_t)rows};
    const cuuint32_t box[3] = {64, (cuuint32_t)box_rows, 1};
    const cuuint32_t step[3] = {1, 1, 1};
    CUresult r = encode(map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 3, (void *)base, dims, strides, box, step,
                        CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                        CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) {
        fprintf(stderr, "tma_map_heads: cuTensorMapEncodeTiled failed (CUresult %d)\n", (int)r);
        return -1;
    }
    return 0;
}
