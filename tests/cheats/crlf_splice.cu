// Cheat: the side stream again, CRLF line endings, the call split by a backslash-CRLF inside its
// name (cudaStr + eamCreateWithFlags): the preprocessor splices it back before it reads names.
#include "exercises.h"
#include "launch.h"

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    static cudaStream_t side;
    /* CHEAT: cudaStreamCreateWithFlags */ if (!side) cudaStr\
eamCreateWithFlags(&side, /* CHEAT: cudaStreamNonBlocking */ cudaStr\
eamNonBlocking);
    (void)stream;
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);
    saxpy_grid_stride_kernel<<<blocks, threads, 0, side>>>(a, x, y, z, n);
}
