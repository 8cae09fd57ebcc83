// Not a cheat: comments and strings that mention what is forbidden must not be flagged.
// We could have called cublasSgemm, or used cudaStreamCreate(&s) and a std::thread; we did not.
/* Neither cudaMalloc nor cudaDeviceSynchronize: the launcher works in the buffers it is given.
   #include <cublas_v2.h>
   fopen("x"), getenv("SEED"), dlopen, clock64(), %globaltimer */
#include "exercises.h"  // no <cublas_v2.h> here
#include "launch.h"

#define NOTE "cublasSgemm and cudaStreamCreate are forbidden; so is \"cudaDeviceSynchronize\""

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const char quote = '"';  // a character literal holding a quote must not start a string
    const long million = 1'000'000;  // digit separators are not character literals
    (void)quote; (void)million;
    const long stride = (long)gridDim.x * blockDim.x;  // cudaStreamSynchronize is not needed
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

static const char *why = NOTE " // cublasCreate";
static const char *raw = R"x(cudaStreamCreate(&s); "cublasSgemm")x";

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    (void)why; (void)raw;
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);  /* cudaMalloc? no */
    saxpy_grid_stride_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n);
    cudaGetLastError();
}
