// Session 14, given: a TMA tensor map of an FP8 e4m3 matrix, built on the host.
//
// cuTensorMapEncodeTiled lives in the driver API (libcuda), which exercise files may not call: the
// object policy allows them this function instead (finale/14-deepseek/policy.txt), as session 10's
// given code does for BF16. A Hopper rung of 03 (TMA + wgmma) describes A and B with it.
#include <cuda.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "fp8_gemm_given.cuh"
#include "tma_encode.h"  // gr_encode_tiled: the driver function, found once

extern "C" int tma_map_e4m3(CUtensorMap *map, const void *base, long rows, int cols, int box_rows) {
    gr_encode_tiled_fn encode = gr_encode_tiled();
    // What TMA takes: rows of a multiple of 16 bytes from a 16-byte aligned base, boxes of 1..256 rows.
    if (!encode || rows < 1 || cols < 16 || cols % 16 || (uintptr_t)base % 16 || box_rows < 1 || box_rows > 256)
        return -1;
    const cuuint64_t dims[2] = {(cuuint64_t)cols, (cuuint64_t)rows}, strides[1] = {(cuuint64_t)cols};
    const cuuint32_t box[2] = {128, (cuuint32_t)box_rows}, step[2] = {1, 1};
    return encode(map, CU_TENSOR_MAP_DATA_TYPE_UINT8, 2, (void *)base, dims, strides, box, step,
                  CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                  CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS
               ? 0
               : -1;
}
