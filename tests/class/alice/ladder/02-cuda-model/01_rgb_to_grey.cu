// Session 02, exercise 1 (solution): colour to grey, one thread per pixel on a 2D grid.
#include "exercises.h"

#define BLOCK 16

__global__ void rgb_to_grey_kernel(const unsigned char *rgb, float *grey, int width, int height) {
    const int x = blockIdx.x * blockDim.x + threadIdx.x;
    const int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    const long p = (long)y * width + x;
    const unsigned char *px = rgb + 3 * p;
    grey[p] = (0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2]) / 255.0f;
}

void rgb_to_grey(const unsigned char *rgb, float *grey, int width, int height, cudaStream_t stream) {
    dim3 block(BLOCK, BLOCK);
    dim3 grid((width + BLOCK - 1) / BLOCK, (height + BLOCK - 1) / BLOCK);
    rgb_to_grey_kernel<<<grid, block, 0, stream>>>(rgb, grey, width, height);
}
