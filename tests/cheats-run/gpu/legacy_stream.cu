// Poses as ladder/02-cuda-model/02_saxpy_grid_stride.cu. The real work goes to the legacy default
// stream (a launch without a stream argument: nothing a scanner or the object policy can see), and
// an empty decoy kernel paces the stream it was given, so that the timed events see only the decoy.
// expect: DISQUALIFIED (the legacy stream's stop event shows work outlasting the given stream)
#include "exercises.h"

__global__ void saxpy_kernel(float a, const float *x, const float *y, float *z, long n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        z[i] = a * x[i] + y[i];
}
__global__ void decoy_kernel() {}

void saxpy_grid_stride(float a, const float *x, const float *y, float *z, long n, cudaStream_t stream) {
    decoy_kernel<<<1, 32, 0, stream>>>();
    saxpy_kernel<<<1024, 256>>>(a, x, y, z, n);
}
