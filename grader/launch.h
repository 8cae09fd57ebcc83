/* Launch helpers the exercises share. */
#ifndef GRADER_LAUNCH_H
#define GRADER_LAUNCH_H

#include <cuda_runtime.h>

/* Blocks of `threads_per_block` threads that fill every SM of the current GPU at once (one full
 * "wave"): the grid size for grid-stride kernels, whatever GPU they run on. */
static inline int blocks_for_one_wave(int threads_per_block) {
    int device = 0, sms = 1, threads_per_sm = 1024;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    cudaDeviceGetAttribute(&threads_per_sm, cudaDevAttrMaxThreadsPerMultiProcessor, device);
    int per_sm = threads_per_sm / threads_per_block;
    return sms * (per_sm > 0 ? per_sm : 1);
}

#endif
