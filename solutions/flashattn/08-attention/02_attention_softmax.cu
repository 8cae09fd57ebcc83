// Session 08, exercise 2 (solution): P = softmax of every row of the score matrix.
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

    // Pass 1: the row's maximum.
    float m = -INFINITY;
    for (int c = lane; c < cols; c += 32) m = fmaxf(m, s[c]);
    m = warp_max(m);
    if (m == -INFINITY) {  // the query sees no key: no probability to hand out
        for (int c = lane; c < cols; c += 32) p[c] = 0.0f;
        return;
    }

    // Pass 2: the sum of exp(s - m); every term is at most 1, so nothing overflows.
    float sum = 0.0f;
    for (int c = lane; c < cols; c += 32) sum += __expf(s[c] - m);
    const float inv = 1.0f / warp_sum(sum);

    // Pass 3: the probabilities. P is never read back here: streaming stores keep it out of the way.
    for (int c = lane; c < cols; c += 32) __stcs(p + c, __expf(s[c] - m) * inv);
}

void attention_softmax(const float *scores, float *probs, long rows, int cols, cudaStream_t stream) {
    if (rows <= 0 || cols <= 0) return;
    const long blocks = (rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    attention_softmax_kernel<<<(unsigned)blocks, THREADS, 0, stream>>>(scores, probs, rows, cols);
}
