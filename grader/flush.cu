// The L2 flush before every timed launch, leaving the L2 clean.
//
// Writing a buffer twice the L2's size (cudaMemset) evicts whatever the last launch left there, but
// leaves the L2 full of dirty lines: the timed kernel then pays for writing them back to memory as
// it evicts them, some 60 MB on an H200, up to 10% of a memory-bound kernel's time (measured on
// session 12's GEMV: 34.8 us after the dirty flush, 32.3 us after a clean one). Reading the buffer
// afterwards writes those lines back before the start event and leaves clean ones behind, which the
// kernel can drop for free: what a kernel running after other kernels' reads would find.
#include <cuda_runtime.h>
#include <stdint.h>

#include "flush.h"

// Reads every 16 bytes once. The sink is written only if the data has a value it never has (the
// buffer is filled with one repeated byte), so that the loads are not optimised away.
__global__ void read_everything(const uint4 *p, size_t n, unsigned *sink) {
    unsigned acc = 0;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const uint4 v = p[i];
        acc |= v.x ^ v.y ^ v.z ^ v.w;  // zero for a buffer of one repeated byte
    }
    if (acc == 0xFFFFFFFFu) *sink = acc;
}

extern "C" cudaError_t gr_flush_l2(void *flush, size_t bytes, int pass, cudaStream_t stream) {
    cudaError_t e = cudaMemsetAsync(flush, pass & 0xFF, bytes, stream);
    if (e != cudaSuccess) return e;
    int device = 0, sms = 1;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    read_everything<<<(unsigned)sms * 8, 256, 0, stream>>>((const uint4 *)flush, bytes / 16, (unsigned *)flush);
    return cudaGetLastError();
}
