// Session 08, exercise 4 (given): naive attention, the three steps in a row.
//
// Nothing new here: your 01, 02 and 03 one after another on the same stream, the score matrix S
// and the probabilities P passing through memory between them. It is graded and timed like an
// exercise so that the report shows what the whole naive path costs, next to exercise 05, which
// computes the same O without ever storing S or P. It passes once your 01, 02 and 03 do.
//
// Per score the HBM sees S written (01), S read and P written (02), P read (03): 16 bytes, so
// 16 x skv bytes per query row. Any attention must move Q, K, V (BF16) and O (float32): with
// sq = skv, 10 x head_dim bytes per row. At 4096 keys and head dim 128: 64 KiB against 1.25 KiB.
#include "exercises.h"

void attention_naive(const uint16_t *q, const uint16_t *k, const uint16_t *v, float *scores, float *probs,
                     float *out, int batch, int heads, int sq, int skv, int head_dim, float scale, int causal,
                     cudaStream_t stream) {
    attention_scores(q, k, scores, batch, heads, sq, skv, head_dim, scale, causal, stream);
    attention_softmax(scores, probs, (long)batch * heads * sq, skv, stream);
    attention_pv(probs, v, out, batch, heads, sq, skv, head_dim, causal, stream);
}
