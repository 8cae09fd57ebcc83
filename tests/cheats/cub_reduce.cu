// Cheat: the warp-shuffle reduction handed to CUB, in the workspace the grader gives.
#include <cub/cub.cuh>  // CHEAT: <cub/cub.cuh>

#include "exercises.h"

void reduce_warp_shuffle(const float *x, float *out, long n, float *workspace, cudaStream_t stream) {
    size_t bytes = 1 << 20;
    cub::DeviceReduce::Sum(workspace, bytes, x, out, (int)n, stream);  // CHEAT: cub::DeviceReduce::Sum
}
