// Poses as ladder/02-cuda-model/01_rgb_to_grey.cu. No cheat: weights in __constant__ memory and a
// __device__ global (both registered by nvcc with __cudaRegisterVar).
#include "exercises.h"

__constant__ float weights[3] = {0.299f / 255.0f, 0.587f / 255.0f, 0.114f / 255.0f};
__device__ unsigned int pixels_done;

__global__ void rgb_to_grey_kernel(const unsigned char *rgb, float *grey, int width, int height) {
    const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    const long p = (long)y * width + x;
    grey[p] = weights[0] * rgb[3 * p] + weights[1] * rgb[3 * p + 1] + weights[2] * rgb[3 * p + 2];
    if (p == 0) pixels_done = 1;
}

void rgb_to_grey(const unsigned char *rgb, float *grey, int width, int height, cudaStream_t stream) {
    dim3 block(16, 16), grid((width + 15) / 16, (height + 15) / 16);
    rgb_to_grey_kernel<<<grid, block, 0, stream>>>(rgb, grey, width, height);
}
