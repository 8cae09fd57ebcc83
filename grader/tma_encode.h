/* cuTensorMapEncodeTiled, for the sessions' given code that builds TMA tensor maps on the host
 * (session 10's BF16 maps, session 14's e4m3 ones). It lives in the driver API (libcuda), which the
 * exercises do not link; the runtime hands out its address. NULL without a CUDA 12 driver. */
#ifndef GRADER_TMA_ENCODE_H
#define GRADER_TMA_ENCODE_H

#include <cuda.h>
#include <cuda_runtime.h>

typedef CUresult (*gr_encode_tiled_fn)(CUtensorMap *, CUtensorMapDataType, cuuint32_t, void *, const cuuint64_t *,
                                       const cuuint64_t *, const cuuint32_t *, const cuuint32_t *,
                                       CUtensorMapInterleave, CUtensorMapSwizzle, CUtensorMapL2promotion,
                                       CUtensorMapFloatOOBfill);

static inline gr_encode_tiled_fn gr_encode_tiled(void) {
    static gr_encode_tiled_fn fn = NULL;
    if (!fn) {
        cudaDriverEntryPointQueryResult found;
        void *p = NULL;
        if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &found) ==
                cudaSuccess && found == cudaDriverEntryPointSuccess)
            fn = (gr_encode_tiled_fn)p;
    }
    return fn;
}

#endif
