/* The L2 flush before every timed launch (flush.cu): the buffer (bytes, a multiple of 16, twice the
 * L2) written with the byte `pass`, then read back, so that the L2 ends full of clean lines. */
#ifndef GRADER_FLUSH_H
#define GRADER_FLUSH_H

#include <cuda_runtime.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

cudaError_t gr_flush_l2(void *flush, size_t bytes, int pass, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
