// Session 08, exercise 2: P = softmax of every row of the score matrix.
//
// One warp per row, lane l taking elements l, l + 32, l + 64 ...: every load is coalesced. Three
// passes over the row, the plain way: its maximum m, then the sum of exp(s - m), then the
// probabilities exp(s - m) / sum. The second and third passes find the row in the L1 or the L2 (a
// row of 4096 scores is 16 KB), so the HBM sees each score about once; still, the whole matrix
// goes through the HBM twice, in as S and out as P, 8 bytes per score. Exercise 05 folds passes
// 1 and 2 into one (the online softmax) and keeps the matrix off the HBM altogether.
//
// Masked scores are -infinity: exp gives 0 and they drop out. A row that is all -infinity (a query
// that sees no key) has no maximum to subtract, and exp(-inf - (-inf)) would be NaN: it gets zeros.
#include "attention_given.cuh"
#include "exercises.h"

#define ROWS_PER_BLOCK 8
#define THREADS (32 * ROWS_PER_BLOCK)

__global__ void __launch_bounds__(THREADS)
attention_softmax_kernel(const float *scores, float *probs, long rows, int cols) {
    const int lane = threadIdx.x % 32;
    const long row = (long)blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / 32;
    if (row >= rows) return;  // a whole warp leaves: the shuffles below see all 32 lanes
    const float *s = scores + row * cols;
    float *p = probs + row * cols;

    // TODO 1, pass 1: the row's maximum m. Lane `lane` looks at s[lane], s[lane + 32], ... (start
    //         from -INFINITY), then m = warp_max(m) gives every lane the row's maximum.
    // TODO 2: if m is -INFINITY the query sees no key: write p[c] = 0 for the lane's elements and
    //         return (exp(-inf - (-inf)) would be NaN).
    // TODO 3, pass 2: each lane sums __expf(s[c] - m) over its elements; warp_sum adds the lanes up.
    //         Every term is at most 1: nothing overflows, whatever the scores.
    // TODO 4, pass 3: p[c] = __expf(s[c] - m) * (1 / sum) for the lane's elements.
}

void attention_softmax(const float *scores, float *probs, long rows, int cols, cudaStream_t stream) {
    if (rows <= 0 || cols <= 0) return;
    const long blocks = (rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    attention_softmax_kernel<<<(unsigned)blocks, THREADS, 0, stream>>>(scores, probs, rows, cols);
}
