// ivan: leaves outputs unwritten. He computes every other pixel of a row "to halve the work",
// and the odd columns keep whatever was there (the grader's NaN poison).
#include "exercises.h"

#define BLOCK 16

__global__ void rgb_to_grey_kernel(const unsigned char *rgb, float *grey, int width, int height) {
    const int x = 2 * (blockIdx.x * blockDim.x + threadIdx.x);
    const int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    const long p = (long)y * width + x;
    grey[p] = (0.299f * rgb[3 * p] + 0.587f * rgb[3 * p + 1] + 0.114f * rgb[3 * p + 2]) / 255.0f;
}

void rgb_to_grey(const unsigned char *rgb, float *grey, int width, int height, cudaStream_t stream) {
    dim3 block(BLOCK, BLOCK);
    dim3 grid((width / 2 + BLOCK) / BLOCK, (height + BLOCK - 1) / BLOCK);
    rgb_to_grey_kernel<<<grid, block, 0, stream>>>(rgb, grey, width, height);
}
