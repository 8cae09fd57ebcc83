// make sass on a wgmma skeleton whose TODO is not done yet (tests/sass-test.sh): fence, commit and
// wait without the wgmma.mma_async between them. nvcc fills the commit with an empty HGMMA (RZ
// accumulator, null descriptor) that make sass must not count as the student's HGMMA.
#include <stdint.h>

__global__ void unfinished_wgmma(float *out) {
    float acc = 0.f;
    asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
    // (the exercise's wgmma.mma_async would go here)
    asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
    out[threadIdx.x] = acc;
}

extern "C" void wgmma_unfinished(float *out, cudaStream_t stream) { unfinished_wgmma<<<1, 128, 0, stream>>>(out); }
