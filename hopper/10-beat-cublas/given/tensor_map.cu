// Session 10, given: building a TMA tensor map on the host.
//
// cuTensorMapEncodeTiled lives in the driver API (libcuda), which the exercises do not link; the
// runtime hands out its address. Exercise files call tma_map_bf16 (hopper_given.cuh) and never the
// driver themselves.
#include <cuda.h>
#include <cuda_runtime.h>
#include <stdio.h>

#include "tma_encode.h"

extern "C" int tma_map_bf16(CUtensorMap *map, const void *base, int rows, int cols, int box_rows, int box_cols,
                            int swizzle_128b) {
    const unsigned long long row_bytes = 2ull * (unsigned long long)cols;
    // What TMA requires, said in the exercise's terms.
    if (rows < 1 || cols < 1) { fprintf(stderr, "tma_map_bf16: a %d x %d matrix has no elements\n", rows, cols); return -1; }
    if (row_bytes % 16) {
        fprintf(stderr, "tma_map_bf16: rows of %d BF16 are %llu bytes; TMA needs a multiple of 16 (columns %% 8 == 0)\n",
                cols, row_bytes);
        return -1;
    }
    if ((uintptr_t)base % 16) { fprintf(stderr, "tma_map_bf16: the matrix must start 16-byte aligned\n"); return -1; }
    if (box_rows < 1 || box_rows > 256 || box_cols < 1 || box_cols > 256 || (2 * box_cols) % 16) {
        fprintf(stderr, "tma_map_bf16: a box of %d x %d: each side 1..256, and box_cols %% 8 == 0\n", box_rows, box_cols);
        return -1;
    }
    if (swizzle_128b && box_cols != 64) {
        fprintf(stderr, "tma_map_bf16: the 128-byte swizzle takes rows of 64 BF16 (box_cols = 64, not %d)\n", box_cols);
        return -1;
    }
    gr_encode_tiled_fn encode = gr_encode_tiled();
    if (!encode) {
        fprintf(stderr, "tma_map_bf16: the CUDA driver gives no cuTensorMapEncodeTiled (a GPU and a CUDA 12 driver needed)\n");
        return -1;
    }
    // Dimensions and box sizes run innermost first: columns, then rows.
    const cuuint64_t dims[2] = {(cuuint64_t)cols, (cuuint64_t)rows};
    const cuuint64_t strides[1] = {row_bytes};
    const cuuint32_t box[2] = {(cuuint32_t)box_cols, (cuuint32_t)box_rows};
    const cuuint32_t step[2] = {1, 1};
    CUresult r = encode(map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, (void *)base, dims, strides, box, step,
                        CU_TENSOR_MAP_INTERLEAVE_NONE,
                        swizzle_128b ? CU_TENSOR_MAP_SWIZZLE_128B : CU_TENSOR_MAP_SWIZZLE_NONE,
                        CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) { fprintf(stderr, "tma_map_bf16: cuTensorMapEncodeTiled failed (CUresult %d)\n", (int)r); return -1; }
    return 0;
}
