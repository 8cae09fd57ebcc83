// Session 03, exercise 4: a sum by tree reduction in shared memory.
//
// Each block of 256 threads sums 512 elements: every thread loads two and adds them, the 256 sums
// go to shared memory, and then half the threads add the other half's values, then a quarter, and
// so on, with a barrier between steps, until element 0 holds the block's total. Each block writes
// its total to `partials`. One launch turns n numbers into n / 512 numbers; the launcher repeats
// it on the partials until one number is left, which goes to *out.
#include "exercises.h"

#define THREADS 256
#define PER_BLOCK (2 * THREADS)

__global__ void reduce_tree_kernel(const float *in, float *partials, long n) {
    __shared__ float sums[THREADS];
    const int t = threadIdx.x;
    const long i = (long)blockIdx.x * PER_BLOCK + t;
    // TODO 1: v = in[i] + in[i + THREADS], taking 0 for any index at or past n; sums[t] = v.
    //         Why i and i + THREADS: the block's 512 elements in two halves, each read as one coalesced run.
    // TODO 2: barrier; then for (int half = THREADS / 2; half > 0; half /= 2): threads t < half add
    //         sums[t + half] into sums[t]; barrier after every step (outside the if!).
    // TODO 3: thread 0 writes sums[0] to partials[blockIdx.x].
}

void reduce_tree(const float *x, float *out, long n, float *workspace, cudaStream_t stream) {
    // Two halves of the workspace take turns holding the partial sums of one pass.
    float *halves[2] = {workspace, workspace + n / PER_BLOCK + 1};
    const float *src = x;
    long count = n;
    int turn = 0;
    do {
        const long blocks = (count + PER_BLOCK - 1) / PER_BLOCK;
        float *dst = blocks == 1 ? out : halves[turn];  // the last pass writes the answer
        reduce_tree_kernel<<<(unsigned)blocks, THREADS, 0, stream>>>(src, dst, count);
        src = dst;
        count = blocks;
        turn ^= 1;
    } while (count > 1);
}
