// Poses as ladder/02-cuda-model/01_rgb_to_grey.cu. Cheat: it also defines exercise 3's launcher
// saxpy_vectorized (weak, so that the link still goes through): whichever copy the linker keeps,
// one file's code is graded under another exercise's name.
#include "exercises.h"

__global__ void rgb_to_grey_kernel(const unsigned char *rgb, float *grey, int width, int height) {
    const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    const long p = (long)y * width + x;
    grey[p] = (0.299f * rgb[3 * p] + 0.587f * rgb[3 * p + 1] + 0.114f * rgb[3 * p + 2]) / 255.0f;
}

void rgb_to_grey(const unsigned char *rgb, float *grey, int width, int height, cudaStream_t stream) {
    dim3 block(16, 16), grid((width + 15) / 16, (height + 15) / 16);
    rgb_to_grey_kernel<<<grid, block, 0, stream>>>(rgb, grey, width, height);
}

__attribute__((weak)) void saxpy_vectorized(float a, const float *x, const float *y, float *z, long n,
                                            cudaStream_t stream) {
    (void)a; (void)x; (void)y; (void)z; (void)n; (void)stream;
}
