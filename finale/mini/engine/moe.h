/* The mixture-of-experts feed-forward, MODEL.md "MoE feed-forward".
 *
 * Router: s_e = sigmoid(router_e · a); the top_k experts by s_e + bias_e are chosen (the bias only
 * steers the choice; ties go to the lower index); their gates are s_e / sum of the chosen s_e.
 * Output: shared(a) + the gated chosen experts, added in ascending expert order. Each expert is a
 * SwiGLU, from the BF16 weights (decoded to float at load) or, with use_fp8, from the FP8 codes and
 * block scales, dequantised on the fly (ops.h, mini_matmul_fp8). With the serving numerics
 * (numerics.h) the products' outputs and the shared expert's hidden activation are rounded to BF16,
 * and a routed expert's inputs are quantised to FP8 for an FP8 x FP8 product (mini_matmul_fp8_fp8). */
#ifndef MINI_MOE_H
#define MINI_MOE_H

#include "numerics.h"
#include "weights.h"
#include "workspace.h"

/* Routes one input a[d_model]: chosen[top_k] in ascending index, gates[top_k] to match.
 * router_logits is scratch of n_experts floats. */
void mini_moe_route(const MiniConfig *c, const MiniBlock *b, const float *a, int *chosen, float *gates,
                    float *router_logits);

/* out[n][d_model] = w2 · (silu(w1 a) * (w3 a)) for each of the n inputs A[n][d_model], in the
 * numerics asked for (MINI_NUMERICS_*). */
void mini_swiglu_forward(const MiniSwiGLU *f, int d_model, const float *A, int n, int use_fp8, int numerics,
                         float *out, MiniWorkspace *ws);

/* out[n][d_model] = the MoE feed-forward of A[n][d_model]. Tokens are grouped by expert (each expert's
 * weights are read once for all the tokens that chose it), and each token's sum is formed in the same
 * order as when it is alone. */
void mini_moe_forward(const MiniConfig *c, const MiniBlock *b, const float *A, int n, int use_fp8, int numerics,
                      float *out, MiniWorkspace *ws);

#endif
