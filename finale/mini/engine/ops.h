/* The vector and matrix operations every part of the model uses.
 *
 * Speculative decoding must give exactly the greedy output, so every position of a batched pass
 * must see the same floating-point operations in the same order as one-token decode. These
 * functions guarantee it: a dot product always sums in the same fixed order (mini_dot), and the
 * batched products compute each token's outputs with mini_dot on the same rows, whatever the
 * batch size. */
#ifndef MINI_OPS_H
#define MINI_OPS_H

#include "weights.h"

/* a · b in a fixed order: eight running sums over i mod 8, combined pairwise. */
float mini_dot(const float *a, const float *b, int n);

/* Y[t][o] = W[o] · X[t] for t < n_tok; W is [rows][cols], X is [n_tok][cols], Y is [n_tok][rows].
 * Each weight row is read once for all the tokens. */
void mini_matmul(const float *W, int rows, int cols, const float *X, int n_tok, float *Y);

/* The same with a block-scaled FP8 matrix, dequantised on the fly: for each row and each column
 * tile, the tile's codes are decoded into row_buffer (block floats), dotted with x, and the partial
 * sum is multiplied by the tile's scale: y[o] = sum over tiles of scale * (codes · x). */
void mini_matmul_fp8(const MiniFp8Matrix *W, const float *X, int n_tok, float *Y, float *row_buffer);

/* Both operands FP8 (the serving numerics' routed experts): X_codes[n_tok][cols] are e4m3 codes with
 * one scale per block of `block` columns, X_scales[n_tok][ceil(cols/block)], as
 * mini_quantize_fp8_blocks makes them. Per output, per column tile kb: the product of the decoded
 * codes summed in float (mini_dot), times (X_scales[t][kb] * the tile's weight scale), added over
 * the tiles in ascending order. x_buffer holds n_tok*cols decoded activations. */
void mini_matmul_fp8_fp8(const MiniFp8Matrix *W, const uint8_t *X_codes, const float *X_scales, int n_tok, float *Y,
                         float *row_buffer, float *x_buffer);

/* y = g * x / sqrt(mean(x^2) + eps); y may be x. */
void mini_rmsnorm(const float *x, const float *g, int n, float eps, float *y);

/* z / (1 + exp(-z)) */
float mini_silu(float z);

/* In place: x[i] = exp(x[i] - max) / sum. */
void mini_softmax(float *x, int n);

/* Index of the largest value; ties go to the lowest index. */
int mini_argmax(const float *x, int n);

#endif
