/* Multi-head latent attention (MLA), MODEL.md "MLA attention".
 *
 * The KV cache keeps, per token and layer, only the normalised latent c (d_latent numbers) and the
 * RoPE key kr shared by all heads (d_rope numbers). Two ways to attend over it:
 *   naive     up-project every cached latent to each head's key (wk_b) and value (wv_b), as written;
 *   absorbed  fold wk_b into the query (q_lat = wk_b_h^T q_nope) and wv_b into the output
 *             (o_h = wv_b_h · sum_s p(s) c_s), so the per-token keys and values are never built.
 * They agree up to float rounding; decode uses the absorbed path unless asked otherwise.
 * With the serving numerics (numerics.h; absorbed path only) the products' outputs, the cached
 * latent and RoPE key, the roped query, q_lat, the latent output and each head's output are
 * rounded to BF16. */
#ifndef MINI_MLA_H
#define MINI_MLA_H

#include "numerics.h"
#include "rope.h"
#include "weights.h"
#include "workspace.h"

typedef struct {
    int capacity;          /* max_seq positions */
    float *latent;         /* [max_seq][d_latent] c_s */
    float *rope_key;       /* [max_seq][d_rope]  kr_s, already rotated */
} MiniKvCache;

int mini_kv_cache_init(MiniKvCache *cache, const MiniConfig *c);
void mini_kv_cache_free(MiniKvCache *cache);

/* Writes the cache entries of positions start .. start+n-1 from the attention inputs A[n][d_model]. */
void mini_mla_write_cache(const MiniConfig *c, const MiniBlock *b, const MiniRope *rope, const float *A, int n,
                          int start, MiniKvCache *cache, int numerics, MiniWorkspace *ws);

/* Attention for positions start .. start+n-1 (inputs A[n][d_model]): writes their cache entries,
 * lets position start+i attend to cached positions 0 .. start+i (the causal mask), and writes
 * out[n][d_model] = wo · concat(heads). Each position goes through the same operations as it
 * would alone (n = 1). numerics is MINI_NUMERICS_*; serving needs naive = 0. */
void mini_mla_forward(const MiniConfig *c, const MiniBlock *b, const MiniRope *rope, const float *A, int n, int start,
                      MiniKvCache *cache, int naive, int numerics, float *out, MiniWorkspace *ws);

#endif
