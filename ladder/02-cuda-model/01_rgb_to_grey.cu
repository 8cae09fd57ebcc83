// Session 02, exercise 1: colour to grey, a 2D grid for a 2D picture.
//
// The image is width x height pixels, row-major, three bytes per pixel (R, G, B side by side).
// Grey is the luma of ITU-R BT.601, scaled to [0, 1]:
//     grey = (0.299 R + 0.587 G + 0.114 B) / 255
// Blocks of 16 x 16 threads tile the picture; x runs along a row (columns), y down the rows. The
// image's edges are rarely multiples of 16, so some threads of the last blocks fall outside it.
#include "exercises.h"

#define BLOCK 16

__global__ void rgb_to_grey_kernel(const unsigned char *rgb, float *grey, int width, int height) {
    // TODO 1: this thread's pixel: column x = blockIdx.x * blockDim.x + threadIdx.x, row y likewise
    //         from the .y fields.
    // TODO 2: if (x, y) is inside the image, read its three bytes at rgb[3 * (y * width + x)] and
    //         write the weighted sum / 255.0f to grey[y * width + x].
    //         Why: y full rows of width pixels come first, then x pixels of its own row; 3 bytes a pixel.
}

void rgb_to_grey(const unsigned char *rgb, float *grey, int width, int height, cudaStream_t stream) {
    dim3 block(BLOCK, BLOCK);
    // TODO 3: enough blocks to cover width columns (x) and height rows (y), rounding up.
    dim3 grid(1, 1);
    rgb_to_grey_kernel<<<grid, block, 0, stream>>>(rgb, grey, width, height);
}
