// Poses as ladder/03-memory/04_reduce_tree.cu. Cheat: CUB's device-wide reduction does the work
// (the workspace the grader gives is big enough for CUB's temporary storage at these sizes).
#include <cub/device/device_reduce.cuh>
#include "exercises.h"

void reduce_tree(const float *x, float *out, long n, float *workspace, cudaStream_t stream) {
    size_t bytes = (size_t)(n / 256 + 2) * sizeof(float);
    cub::DeviceReduce::Sum(workspace, bytes, x, out, (int)n, stream);
}
