// Cheat: device-wide waits hidden from a scanner that lexes otherwise than the compiler, both
// compiled by nvcc: a quote inside a pp-number (1e+'a is one number, the quote starts no
// literal), a slash-star inside a header name (no comment there). Where readings can disagree,
// the spot is reported too: that header name (in a skipped #if it would start a comment), a raw
// string holding a line splice (GCC undoes it and reads one string; nvcc's front end, reading
// GCC's output again, ends the string at the splice and compiles the call), and "v1"R"(...":
// R is a literal suffix here and GCC reads a plain string, but were R a macro it would read a
// raw string.
#include "exercises.h"
#include "launch.h"

#define DROP(x)
const char *operator""R(const char *s, unsigned long) { return s; }  // size_t on Linux

__global__ void saxpy_grid_stride_kernel(float a, const float *x, const float *y, float *z, long n) {
    const long stride = (long)gridDim.x * blockDim.x;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) z[i] = a * x[i] + y[i];
}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    const int threads = 256;
    const int blocks = blocks_for_one_wave(threads);
    saxpy_grid_stride_kernel<<<blocks, threads, 0, stream>>>(a, x, y, z, n);
    DROP(1e+'a) cudaDeviceSynchronize();  // CHEAT: cudaDeviceSynchronize
#if __has_include(<nothing/*>)  // CHEAT: <nothing/*>
#endif
    cudaDeviceSynchronize();  // CHEAT: cudaDeviceSynchronize
    // */
    /* CHEAT: R" */ const char *note = R"(done)\
" ; cudaDeviceSynchronize(); R"(x)";
    const char *tag = "v1"R"(" ; cudaDeviceSynchronize(); //)";  // CHEAT: R"
    (void)note;
    (void)tag;
}
