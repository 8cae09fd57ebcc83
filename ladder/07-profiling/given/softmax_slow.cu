// Session 07, given: a row softmax that is right, and slow on purpose.
//
//   make check                        times it beside your 01_softmax_fast
//   make profile EX=00_softmax_slow   Nsight Compute's numbers for this kernel (see the handout)
//
// One block of 64 threads per row. It is numerically sound: each row's maximum is subtracted
// before exp, so no exp overflows whatever the inputs. Everything else is done the slow way. Each
// fault is marked FAULT n where it happens; the profiler shows every one of them in its own number:
//
//   FAULT 1  uncoalesced   thread t walks its own contiguous chunk of the row, so the 32 loads of
//                          one warp instruction are `chunk` floats apart: about 32 sectors per
//                          request where 4 would do (sectors per request, bytes used per sector).
//   FAULT 2  bank conflict each thread keeps its running value in shared memory at slot[t * 32]:
//                          all 32 lanes of a warp in bank 0, a 32-way conflict on every access
//                          (shared-memory wavefronts per instruction, bank conflicts).
//   FAULT 3  barriers      a __syncthreads() after every element, though each thread touches only
//                          its own slot until the final tree (warp stalls at a barrier).
//   FAULT 4  occupancy     the shared array is sized for 384 threads, 48 KB, while the block has 64
//                          threads: at most 4 blocks, 8 warps of 64, fit on an H100 SM with its 228 KB
//                          (achieved and theoretical occupancy, shared memory per block).
//   FAULT 5  three passes  the max, the sum and the normalisation each read the row from global
//                          memory again (L2-to-SM traffic three times the input).
//
// Try the fixes one at a time, in this file (keep a copy of the original), and watch which number
// moves and what it does to the percent of peak: that is the lesson. Your 01_softmax_fast fixes all
// five at once.
#include <math.h>

#include "exercises.h"

#define SLOW_THREADS 64     // threads per block, one block per row
#define SLOT_STRIDE 32      // FAULT 2: one slot every 32 floats (128 bytes), "a line per thread"
#define SLOTS_DECLARED 384  // FAULT 4: room for 384 threads' slots, of which 64 are used

// Tree reduction over the 64 slots with interleaved addressing: in step `stride`, thread t (a
// multiple of 2 * stride) folds slot t + stride into slot t. Slot 0 ends with the result.
// Half the threads idle from the first step, and every step waits at a barrier.
__device__ void reduce_slots(float *slot, int t, bool take_max) {
    for (int stride = 1; stride < SLOW_THREADS; stride *= 2) {
        if (t % (2 * stride) == 0) {
            const float a = slot[t * SLOT_STRIDE], b = slot[(t + stride) * SLOT_STRIDE];  // FAULT 2
            slot[t * SLOT_STRIDE] = take_max ? fmaxf(a, b) : a + b;
        }
        __syncthreads();
    }
}

__global__ void softmax_slow_kernel(const float *x, float *out, int cols) {
    __shared__ float slot[SLOTS_DECLARED * SLOT_STRIDE];  // FAULT 4: 48 KB for a block of 64 threads
    const int t = threadIdx.x;
    const float *xr = x + (long)blockIdx.x * cols;
    float *outr = out + (long)blockIdx.x * cols;
    const int chunk = (cols + SLOW_THREADS - 1) / SLOW_THREADS;
    const int first = t * chunk;  // FAULT 1: lanes t and t + 1 start `chunk` floats apart

    // Pass 1: the row's maximum.
    slot[t * SLOT_STRIDE] = -INFINITY;
    __syncthreads();
    for (int k = 0; k < chunk; k++) {  // the same trip count for every thread: all reach the barrier
        const int c = first + k;
        if (c < cols) slot[t * SLOT_STRIDE] = fmaxf(slot[t * SLOT_STRIDE], xr[c]);  // FAULTS 1, 2
        __syncthreads();                                                            // FAULT 3
    }
    reduce_slots(slot, t, true);
    const float row_max = slot[0];
    __syncthreads();  // every thread has read slot 0 before it is reused

    // Pass 2: the sum of exp(x - max).
    slot[t * SLOT_STRIDE] = 0.0f;
    __syncthreads();
    for (int k = 0; k < chunk; k++) {
        const int c = first + k;
        if (c < cols) slot[t * SLOT_STRIDE] += expf(xr[c] - row_max);  // FAULTS 1, 2, 5: x read again
        __syncthreads();                                               // FAULT 3
    }
    reduce_slots(slot, t, false);
    const float row_sum = slot[0];

    // Pass 3: normalise.
    for (int k = 0; k < chunk; k++) {
        const int c = first + k;
        if (c < cols) outr[c] = expf(xr[c] - row_max) / row_sum;  // FAULTS 1, 5: x read a third time,
        __syncthreads();                                          // strided stores; FAULT 3
    }
}

void softmax_slow(const float *x, float *out, int rows, int cols, cudaStream_t stream) {
    if (rows <= 0 || cols <= 0) return;
    softmax_slow_kernel<<<rows, SLOW_THREADS, 0, stream>>>(x, out, cols);
}
