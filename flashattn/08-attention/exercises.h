/* Session 08: attention. Every exercise computes a piece of, or all of, for each batch b and head h,
 *     S = scale * Q K^T (+ mask)      P = softmax of each row of S      O = P V
 *   Q: [batch][heads][sq][head_dim]        K, V: [batch][heads][skv][head_dim]   (BF16, row-major)
 *   S, P: [batch][heads][sq][skv]          O: [batch][heads][sq][head_dim]        (float32)
 * for any batch, heads, sq, skv >= 1 and head_dim from 1 to 256 (64 and 128 are the usual ones).
 * The grader passes scale = 1 / sqrt(head_dim).
 *
 * causal != 0 hides the future, aligned to the END of the keys as decoding with a KV cache needs:
 * query row i sees key j if and only if j <= i + (skv - sq) (visible_keys() in attention_given.cuh).
 * A hidden score is -infinity in S and 0 in P; a row that sees no key at all (only possible when
 * sq > skv) has P = 0 and O = 0.
 *
 * Q, K, V arrive as uint16_t (the 16 bits of each bfloat16); cast them inside. All pointers are
 * device pointers; all work goes on `stream`. */
#ifndef SESSION08_EXERCISES_H
#define SESSION08_EXERCISES_H

#include <stdint.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 01, step 1 of naive attention: the score matrix S, written to memory (masked scores -infinity),
 * on the tensor cores (WMMA, FP32 accumulation). */
void attention_scores(const uint16_t *q, const uint16_t *k, float *scores, int batch, int heads, int sq, int skv,
                      int head_dim, float scale, int causal, cudaStream_t stream);

/* 02, step 2: P = softmax of every row of S (rows = batch * heads * sq rows of cols = skv scores).
 * -infinity scores get probability 0; a row of nothing but -infinity gets all zeros. */
void attention_softmax(const float *scores, float *probs, long rows, int cols, cudaStream_t stream);

/* 03, step 3: O = P V on the tensor cores (P rounded to BF16 on the way in, FP32 accumulation). With
 * causal, the hidden part of each row of P is zero and may be skipped. */
void attention_pv(const float *probs, const uint16_t *v, float *out, int batch, int heads, int sq, int skv,
                  int head_dim, int causal, cudaStream_t stream);

/* 04, given (given/attention_naive.cu): the three steps in a row, through `scores` and `probs`,
 * working buffers of batch * heads * sq * skv floats each. Your 01, 02 and 03 at work. */
void attention_naive(const uint16_t *q, const uint16_t *k, const uint16_t *v, float *scores, float *probs,
                     float *out, int batch, int heads, int sq, int skv, int head_dim, float scale, int causal,
                     cudaStream_t stream);

/* 05: the same O in one kernel that never stores S or P: one warp per query row walks the keys in
 * tiles of 32, keeping a running max, a running sum and a running output (online softmax), on the
 * CUDA cores in FP32. Also writes lse[b][h][i] = log of the row's sum of exp(scores) (natural log;
 * -infinity for a row that sees no key). */
void attention_online(const uint16_t *q, const uint16_t *k, const uint16_t *v, float *out, float *lse, int batch,
                      int heads, int sq, int skv, int head_dim, float scale, int causal, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
