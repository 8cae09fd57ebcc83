/* Session 02: grids, blocks, warps, threads. The launchers the student writes. */
#ifndef SESSION02_EXERCISES_H
#define SESSION02_EXERCISES_H

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 01: grey[y*width + x] = (0.299 R + 0.587 G + 0.114 B) / 255 for the interleaved 8-bit RGB image
 *     rgb[3*(y*width + x) + 0..2], width x height pixels, row-major. */
void rgb_to_grey(const unsigned char *rgb, float *grey, int width, int height, cudaStream_t stream);

/* 02: z[i] = a * x[i] + y[i] for i < n, with a grid-stride loop over a fixed-size grid. */
void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream);

/* 03: the same, moving 16 bytes per access (float4), with a scalar tail for n % 4. */
void saxpy_vectorized(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
