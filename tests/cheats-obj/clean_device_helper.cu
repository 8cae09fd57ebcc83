// Poses as ladder/02-cuda-model/01_rgb_to_grey.cu. No cheat: a non-static __device__ helper (nvcc
// gives it a host stub that calls exit), a __host__ __device__ one and a forced-inline one.
#include "exercises.h"

__device__ float luminance(unsigned char r, unsigned char g, unsigned char b) {
    return 0.299f * r + 0.587f * g + 0.114f * b;
}
__host__ __device__ int blocks_for(int extent, int block) { return (extent + block - 1) / block; }
__device__ __forceinline__ long pixel_index(int x, int y, int width) { return (long)y * width + x; }

__global__ void rgb_to_grey_kernel(const unsigned char *rgb, float *grey, int width, int height) {
    const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    const long p = pixel_index(x, y, width);
    grey[p] = luminance(rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]) / 255.0f;
}

void rgb_to_grey(const unsigned char *rgb, float *grey, int width, int height, cudaStream_t stream) {
    dim3 block(16, 16), grid(blocks_for(width, 16), blocks_for(height, 16));
    rgb_to_grey_kernel<<<grid, block, 0, stream>>>(rgb, grey, width, height);
}
