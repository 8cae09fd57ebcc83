// tina: the grid-stride exercise handed to the vectorised exercise's launcher.
#include "exercises.h"

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    saxpy_vectorized(a, x, y, z, n, stream);
}
