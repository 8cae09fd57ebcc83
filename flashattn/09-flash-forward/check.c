/* Session 09 check driver: FlashAttention forward, scalar tiles and tensor cores.
 *
 *   make check                 grade your files
 *   make check SOLUTION=1      grade the hidden solutions
 *   make bench                 time them at batch 4, 16 heads, sequence 4096, head dim 128, causal
 *                              and not, beside PyTorch's scaled_dot_product_attention when python3
 *                              has PyTorch (flashattn/09-flash-forward/sdpa_compare.py)
 *
 * A shape is (batch, heads, sq, skv, head_dim, causal). An exercise name "02_flash_mma+causal" is
 * the file 02_flash_mma.cu timed on the causal shape.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exercises.h"
#include "grader.h"
#include "ref/attention.h"

#define B(s) ((s)->d[0])
#define H(s) ((s)->d[1])
#define SQ(s) ((s)->d[2])
#define SKV(s) ((s)->d[3])
#define HD(s) ((s)->d[4])
#define CAUSAL(s) ((s)->d[5] != 0)

static void attention_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    long heads = B(s) * H(s);
    gr_input(c, "q", GR_BF16, (size_t)(heads * SQ(s) * HD(s)), GR_FILL_SIGNED);
    gr_input(c, "k", GR_BF16, (size_t)(heads * SKV(s) * HD(s)), GR_FILL_SIGNED);
    gr_input(c, "v", GR_BF16, (size_t)(heads * SKV(s) * HD(s)), GR_FILL_SIGNED);
    gr_output(c, "o", GR_BF16, (size_t)(heads * SQ(s) * HD(s)), HD(s));
    gr_output(c, "lse", GR_F32, (size_t)(heads * SQ(s)), 1);
    c->rows = heads * SQ(s);  /* one reference row: one query row's output and its log-sum-exp */
}

static uint16_t to_bf16(float f) {  /* round to nearest even; inputs here are finite */
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

/* Uniform [-1, 1) queries give scores of spread ~1/3: a nearly flat softmax, where a kernel that
 * never subtracts the row max, or mixes up the max of two tiles, still passes. So each query row is
 * stretched by a factor drawn log-uniformly in [1, 256]: some rows stay flat, others put almost all
 * their weight on one key, and the largest scores (~100 and more) overflow exp() without the max. */
static void attention_stretch_queries(gr_case *c) {
    const gr_shape *s = &c->shape;
    uint16_t *q = (uint16_t *)gr_in(c, "q");
    long rows = B(s) * H(s) * SQ(s);
    for (long r = 0; r < rows; r++) {
        float f = (float)exp(gr_random_uniform(c, 0.0, log(256.0)));
        for (long d = 0; d < HD(s); d++) {
            uint32_t bits = (uint32_t)q[r * HD(s) + d] << 16;
            float x;
            memcpy(&x, &bits, sizeof x);
            q[r * HD(s) + d] = to_bf16(x * f);
        }
    }
}

#define FLASH_LAUNCH(fn)                                                                              \
    static void fn##_launch(gr_case *c, cudaStream_t stream) {                                        \
        const gr_shape *s = &c->shape;                                                                \
        fn(gr_ptr(c, "q"), gr_ptr(c, "k"), gr_ptr(c, "v"), gr_ptr(c, "o"), gr_ptr(c, "lse"), (int)B(s), \
           (int)H(s), (int)SQ(s), (int)SKV(s), (int)HD(s), (int)CAUSAL(s), stream);                    \
    }
FLASH_LAUNCH(flash_forward_scalar)
FLASH_LAUNCH(flash_forward_mma)

/* Rows [r0, r1) of all heads stacked: row r is query (r % sq) of head (r / sq). */
static void attention_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    const long sq = SQ(s), skv = SKV(s), d = HD(s);
    const float *q = gr_in_f32(c, "q"), *k = gr_in_f32(c, "k"), *v = gr_in_f32(c, "v");
    float *o = gr_ref(c, "o"), *lse = gr_ref(c, "lse");
    float *o_scale = gr_scale(c, "o"), *lse_scale = gr_scale(c, "lse");
    const float scale = 1.0f / sqrtf((float)d);
    for (long r = r0; r < r1; r++) {
        long head = r / sq, i = r % sq;
        int visible = ref_attention_visible((int)i, (int)sq, (int)skv, CAUSAL(s));
        ref_attention_row(q + r * d, k + head * skv * d, v + head * skv * d, (int)skv, (int)d, scale, visible,
                          o + r * d, lse + r, o_scale + r * d);
        /* The log-sum-exp is judged in absolute terms: see attention_tolerance. */
        lse_scale[r] = 1.0f;
    }
}

/* What the arithmetic costs (BF16 inputs are read exactly by the reference):
 *   - scores: products of BF16 values are exact in FP32; a sum of head_dim of them errs by about
 *     head_dim * eps relative to sum |q||k|, far below what follows;
 *   - probabilities: the tensor-core kernel rounds each p to BF16 before P V (2^-9 relative), and
 *     exp2 on the special-function unit adds ~2^-22;
 *   - the output is rounded to BF16: 2^-9 relative.
 * Against the magnitude of the terms, sum_j p_j |v_j| (gr_scale), that is at most 2 * 2^-9 = 2^-8
 * per element; we allow 2^-8 on the norm (the per-element bound is 8 times that). The
 * log-sum-exp is m * scale + log(l) in FP32, |lse| up to a few hundred with stretched queries:
 * errors of ~1e-4 absolute; the same 2^-8 absolute catches a wrong base (log2 for ln), a missing
 * log(l) or a max from another row. */
static double attention_tolerance(const gr_shape *s) { (void)s; return 1.0 / 256.0; }

/* Query-key pairs the mask lets through: sq * skv, or for causal the sum of the visible keys. */
static double visible_pairs(const gr_shape *s) {
    if (!CAUSAL(s)) return (double)SQ(s) * (double)SKV(s);
    double pairs = 0;
    for (long i = 0; i < SQ(s); i++) pairs += ref_attention_visible((int)i, (int)SQ(s), (int)SKV(s), true);
    return pairs;
}

/* Two matrix products per visible pair, head_dim multiply-adds each: Q K^T and P V. The softmax's
 * exp and adds are not counted (the usual convention, so that figures compare with PyTorch's). */
static double attention_flops(const gr_shape *s) { return 4.0 * B(s) * H(s) * visible_pairs(s) * HD(s); }

/* Q, K, V read once, O written once (BF16), the log-sum-exp (FP32): the least any kernel moves. */
static double attention_bytes(const gr_shape *s) {
    double heads = (double)B(s) * H(s);
    return heads * (2.0 * HD(s) * (2.0 * SQ(s) + 2.0 * SKV(s)) + 4.0 * SQ(s));
}

/* One key; odd lengths in both directions; Q shorter than KV (decoding with a cache, the causal mask
 * aligned to the end); Q longer than KV (the first rows see no key at all); lengths one past the
 * tiles (129 rows, 65 keys); head dims 64 and 128; several heads and batches. */
#define FLASH_SHAPES                                                                                        \
    {GR_SHAPE(1, 1, 1, 1, 64, 0), GR_SHAPE(1, 1, 1, 1, 128, 1), GR_SHAPE(1, 2, 17, 17, 64, 1),               \
     GR_SHAPE(2, 3, 33, 77, 128, 0), GR_SHAPE(1, 2, 5, 131, 64, 1), GR_SHAPE(1, 1, 200, 70, 128, 1),          \
     GR_SHAPE(1, 2, 129, 65, 128, 0), GR_SHAPE(2, 2, 256, 256, 64, 0), GR_SHAPE(1, 1, 300, 1000, 128, 1),      \
     GR_SHAPE(1, 4, 1, 4096, 128, 1), GR_SHAPE(1, 2, 1024, 1024, 128, 1), GR_SHAPE(1, 1, 700, 300, 64, 1)}

/* The causal timing entries re-check one causal shape that crosses tile edges, not the whole list. */
#define CAUSAL_SHAPES {GR_SHAPE(1, 2, 129, 65, 128, 1)}

#define FLASH_EXERCISE(file, summary, tip, launch_fn, shapes, bench)                                          \
    {                                                                                                         \
        .name = file, .what = summary, .hint = tip, .compute = GR_ROOF_BF16, .check_shapes = shapes,         \
        .bench_shape = bench, .declare = attention_declare, .adjust_inputs = attention_stretch_queries,       \
        .launch = launch_fn, .reference = attention_reference, .tolerance = attention_tolerance,              \
        .flops = attention_flops, .bytes = attention_bytes, .full_reference_limit = 4e9                       \
    }

#define BENCH_FULL GR_SHAPE(4, 16, 4096, 4096, 128, 0)
#define BENCH_CAUSAL GR_SHAPE(4, 16, 4096, 4096, 128, 1)
#define SCALAR_WHAT "FlashAttention forward, scalar FP32: K/V tiles in shared memory, online softmax per row"
#define SCALAR_HINT "per tile: m_new = max(m, tile max); scale O and l by exp(m - m_new); a row that saw only masked keys " \
                    "must not compute exp(-inf - -inf)"
#define MMA_WHAT "FlashAttention forward on tensor cores: mma.sync, P kept in registers, K/V double-buffered"
#define MMA_HINT "the S accumulators of n-tiles 2k and 2k+1 are the A fragment of P for k-step k; mask keys >= skv " \
                 "and (causal) keys > row + skv - sq before the row max"

static const gr_exercise EXERCISES[] = {
    FLASH_EXERCISE("01_flash_scalar", SCALAR_WHAT, SCALAR_HINT, flash_forward_scalar_launch, FLASH_SHAPES, BENCH_FULL),
    FLASH_EXERCISE("01_flash_scalar+causal", SCALAR_WHAT " (causal)", SCALAR_HINT, flash_forward_scalar_launch,
                   CAUSAL_SHAPES, BENCH_CAUSAL),
    FLASH_EXERCISE("02_flash_mma", MMA_WHAT, MMA_HINT, flash_forward_mma_launch, FLASH_SHAPES, BENCH_FULL),
    FLASH_EXERCISE("02_flash_mma+causal", MMA_WHAT " (causal)", MMA_HINT, flash_forward_mma_launch, CAUSAL_SHAPES,
                   BENCH_CAUSAL),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "flashattn/09-flash-forward", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
