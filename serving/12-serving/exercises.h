/* Session 12: serving kernels. Decode reads every weight once per token and does two FLOPs with
 * it: the session is about bandwidth, and every exercise is judged against the memory roof.
 *
 * All matrices row-major; BF16 tensors arrive as uint16_t (the top half of a float32). Pointers
 * are device pointers. A linear layer's weight W is N x K: row n holds the K weights of output n,
 * and a layer maps a batch X (M x K) to Y = X W^T (M x N). Decode has M = 1 (one token), a
 * continuously batched server M = 2 .. 64. */
#ifndef SESSION12_EXERCISES_H
#define SESSION12_EXERCISES_H

#include <stdint.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 01: Y = X W^T in BF16 with FP32 sums. Any M >= 1 (fast for M <= 8), N >= 1, K >= 1. */
void gemv_bf16(const uint16_t *W, const uint16_t *X, uint16_t *Y, int M, int N, int K, cudaStream_t stream);

/* 02: Y = RMSNorm(X) W^T in one kernel, where RMSNorm(x)[k] = x[k] * gamma[k] / sqrt(mean(x^2) + eps)
 * per row of X (M x K); W is N x K (the Q, K and V projections stacked), Y is M x N. The normalised
 * rows never go through global memory. Any M, N, K >= 1. */
void rmsnorm_qkv(const uint16_t *X, const uint16_t *gamma, float eps, const uint16_t *W, uint16_t *Y, int M, int N,
                 int K, cudaStream_t stream);

/* The paged KV cache (03-05). Keys and values live in fixed blocks of PAGE_TOKENS tokens:
 *     k_cache[block][kv_head][slot][d], v_cache the same       (num_blocks x Hkv x PAGE_TOKENS x D)
 * A sequence's block_table row lists its blocks in order: token t of sequence b is in block
 * block_table[b * max_blocks + t / PAGE_TOKENS], slot t % PAGE_TOKENS. Blocks are scattered. */
#define PAGE_TOKENS 16

/* 03: write T new tokens' keys and values (k_new, v_new: T x Hkv x D) into the cache; token i goes
 * to cache slot slot_of[i] = block * PAGE_TOKENS + slot, or nowhere when slot_of[i] < 0 (padding).
 * Nothing else in the cache may change. */
void paged_kv_write(const uint16_t *k_new, const uint16_t *v_new, const int *slot_of, uint16_t *k_cache,
                    uint16_t *v_cache, int T, int Hkv, int D, cudaStream_t stream);

/* 04: decode attention over the paged cache: for each sequence b (B of them, seq_len[b] >= 1
 * tokens, all in the cache) and query head h (Hq of them, grouped: head h reads KV head
 * h / (Hq / Hkv)), out[b][h] = softmax(scale * q[b][h] . K^T) V over that sequence's tokens.
 * q, out: B x Hq x D (BF16); D = 64 or 128; Hq % Hkv == 0. */
void paged_decode(const uint16_t *q, const uint16_t *k_cache, const uint16_t *v_cache, const int *block_table,
                  const int *seq_len, int max_blocks, float scale, uint16_t *out, int B, int Hq, int Hkv, int D,
                  cudaStream_t stream);

/* 05: the same, with each sequence's tokens split across blocks that run side by side
 * (flash-decoding): each writes a partial output and its log-sum-exp into `work`, and a second
 * kernel combines them. work holds B * Hq * SPLIT_MAX * (D + 1) floats, yours to use. */
#define SPLIT_MAX 64
void paged_decode_split(const uint16_t *q, const uint16_t *k_cache, const uint16_t *v_cache, const int *block_table,
                        const int *seq_len, int max_blocks, float scale, uint16_t *out, int B, int Hq, int Hkv,
                        int D, float *work, cudaStream_t stream);

/* 06: W4A16: Y = X W^T with W in 4 bits. W4 is N x K/2 bytes: byte j of row n holds k = 2j in its
 * low nibble and k = 2j + 1 in its high nibble, each a two's-complement integer q in [-8, 7];
 * scales is N x K/128 BF16, and W[n][k] = q * scales[n][k / 128]. K % 128 == 0; any M, N >= 1. */
#define QUANT_GROUP 128
void gemv_w4a16(const uint8_t *W4, const uint16_t *scales, const uint16_t *X, uint16_t *Y, int M, int N, int K,
                cudaStream_t stream);

/* 07: FP8 weights: W8 is N x K bytes of FP8 e4m3 (1 sign, 4 exponent bits with bias 7, 3 mantissa
 * bits, no infinities; 0x7F and 0xFF are NaN and never occur), scales is N x K/128 FP32, and
 * W[n][k] = e4m3(W8[n][k]) * scales[n][k / 128]. K % 128 == 0; any M, N >= 1. */
void gemv_fp8(const uint8_t *W8, const float *scales, const uint16_t *X, uint16_t *Y, int M, int N, int K,
              cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
