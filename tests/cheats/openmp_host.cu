// Cheat: the host computes the vector with OpenMP threads and never launches a kernel.
#include "exercises.h"

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    (void)stream;
#pragma omp parallel for  // CHEAT: #pragma omp
    for (long i = 0; i < n; i++) z[i] = a * x[i] + y[i];
}
