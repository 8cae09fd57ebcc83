/* Session 09: FlashAttention forward. All four exercises compute, for every batch b and head h,
 *     O = softmax(scale * Q K^T + mask) V        and the log-sum-exp of each row of scores,
 *   Q: [batch][heads][sq][head_dim]   K, V: [batch][heads][skv][head_dim]   (BF16, row-major)
 *   O: [batch][heads][sq][head_dim]   (BF16)      lse: [batch][heads][sq]   (float32, natural log)
 * with scale = 1 / sqrt(head_dim), FP32 accumulation, head_dim 64 or 128, and any sq, skv >= 1.
 * causal != 0 masks the future, aligned to the END of the keys as decoding with a KV cache needs:
 * query row i sees key j if and only if j <= i + (skv - sq). A row that sees no key at all (only
 * possible when sq > skv) gets O = 0 and lse = -infinity.
 * Q, K, V, O arrive as uint16_t (the 16 bits of each bfloat16); cast inside. Device pointers; all
 * work goes on `stream`. */
#ifndef SESSION09_EXERCISES_H
#define SESSION09_EXERCISES_H

#include <stdint.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 01: scalar tiles. 8 threads share each query row (2 of every tile's 16 scores each, every 8th output
 * column each) and agree on its max and sum by __shfl_xor_sync; K and V tiles go through shared
 * memory as floats, the online softmax stays in FP32 registers: the whole algorithm, without tensor
 * cores. */
void flash_forward_scalar(const uint16_t *q, const uint16_t *k, const uint16_t *v, uint16_t *o, float *lse,
                          int batch, int heads, int sq, int skv, int head_dim, int causal, cudaStream_t stream);

/* 02: tensor cores, the plain version. mma.sync for Q K^T and P V on ldmatrix fragments, one K/V tile at
 * a time; the scores go through shared memory, where one lane per query row runs the online softmax. */
void flash_forward_mma(const uint16_t *q, const uint16_t *k, const uint16_t *v, uint16_t *o, float *lse,
                       int batch, int heads, int sq, int skv, int head_dim, int causal, cudaStream_t stream);

/* 03: tensor cores, the fast version. The same products, the softmax in the S registers (each row held
 * by the 4 lanes of a quad, which agree by __shfl_xor_sync; exp2 with the scale folded in), the
 * probabilities kept in registers between the two products, K and V tiles double-buffered through
 * shared memory by cp.async. */
void flash_forward_mma_fast(const uint16_t *q, const uint16_t *k, const uint16_t *v, uint16_t *o, float *lse,
                            int batch, int heads, int sq, int skv, int head_dim, int causal, cudaStream_t stream);

/* 04: the Hopper way (sm_90a only: built elsewhere, it is skipped with NEEDS_ARCH). A producer
 * warpgroup issues TMA copies of Q and of each K and V tile into a ring of shared-memory stages
 * (mbarriers hand them over); two consumer warpgroups of 64 query rows each compute S = Q K^T with
 * wgmma from shared memory and O += P V with wgmma whose A operand, P, comes from registers, and run
 * the online softmax of tile j while the tensor cores still work on tile j-1's P V. */
void flash_forward_wgmma(const uint16_t *q, const uint16_t *k, const uint16_t *v, uint16_t *o, float *lse,
                         int batch, int heads, int sq, int skv, int head_dim, int causal, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
