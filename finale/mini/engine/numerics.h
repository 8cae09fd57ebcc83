/* The engine's two numerics modes, and the roundings of the second (MODEL.md "Serving numerics").
 *
 *   float    every activation stays a float (the reference; golden.txt was made this way);
 *   serving  activations are rounded where session 14's GPU engine rounds them: BF16 at the outputs
 *            of the norms and of the BF16-weight products, BF16 latent cache, and the routed experts'
 *            inputs quantised to FP8 e4m3 per 128-wide block for an FP8 x FP8 product. The GPU
 *            kernels' contracts take BF16 activations and FP8 expert inputs, so with the same
 *            roundings the two engines differ only in the order of their float sums.
 *
 * Every rounding here acts on one token's values alone, so a batched pass still computes each
 * position exactly as one-token decode does (speculative == greedy holds in both modes). */
#ifndef MINI_NUMERICS_H
#define MINI_NUMERICS_H

#include <stddef.h>
#include <stdint.h>

enum { MINI_NUMERICS_FLOAT = 0, MINI_NUMERICS_SERVING = 1 };

/* x rounded to the nearest BF16 (ties to even), as a float. */
float mini_round_bf16(float x);

/* The same in place on x[0 .. n-1]. */
void mini_round_bf16_array(float *x, size_t n);

/* One activation row a[0 .. n-1] quantised to FP8 e4m3 per block of `block` values (the last block
 * may be shorter): scales[b] = amax_b / 448 (1 for an all-zero block) and codes[i] = e4m3(a[i] /
 * scales[i / block]), round to nearest even, saturating at 448. scales has ceil(n / block) entries. */
void mini_quantize_fp8_blocks(const float *a, int n, int block, uint8_t *codes, float *scales);

#endif
