// Poses as ladder/02-cuda-model/01_rgb_to_grey.cu. Cheat: an entry in .preinit_array, which runs
// even before the shared libraries' constructors.
#include "exercises.h"

__global__ void rgb_to_grey_kernel(const unsigned char *rgb, float *grey, int width, int height) {
    const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    const long p = (long)y * width + x;
    grey[p] = (0.299f * rgb[3 * p] + 0.587f * rgb[3 * p + 1] + 0.114f * rgb[3 * p + 2]) / 255.0f;
}

static volatile int seen_before_everything;
static void first_of_all(void) { seen_before_everything = 1; }
__attribute__((section(".preinit_array"), used)) static void (*first_entry)(void) = first_of_all;

void rgb_to_grey(const unsigned char *rgb, float *grey, int width, int height, cudaStream_t stream) {
    dim3 block(16, 16), grid((width + 15) / 16, (height + 15) / 16);
    rgb_to_grey_kernel<<<grid, block, 0, stream>>>(rgb, grey, width, height);
}
