/* Session 09 check driver: FlashAttention forward, scalar tiles, then tensor cores (plain and fast).
 *
 *   make check                 grade your files
 *   make check SOLUTION=1      grade the hidden solutions
 *   make bench                 time them at batch 4, 16 heads, sequence 4096, head dim 128, causal
 *                              and not, beside PyTorch's scaled_dot_product_attention when python3
 *                              has PyTorch (flashattn/09-flash-forward/bench_sdpa.py)
 *
 * A shape is (batch, heads, sq, skv, head_dim, causal). An exercise name "02_flash_mma+causal" is
 * the file 02_flash_mma.cu timed on the causal shape.
 */
#include "attention.h"
#include "exercises.h"
#include "grader.h"

/* The output is BF16, as PyTorch's is; the log-sum-exp FP32. */
static void flash_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    const long heads = ATTN_HEADS(s), sq = ATTN_SQ(s), skv = ATTN_SKV(s), d = ATTN_HD(s);
    gr_input(c, "q", GR_BF16, (size_t)(heads * sq * d), GR_FILL_SIGNED);
    gr_input(c, "k", GR_BF16, (size_t)(heads * skv * d), GR_FILL_SIGNED);
    gr_input(c, "v", GR_BF16, (size_t)(heads * skv * d), GR_FILL_SIGNED);
    gr_output(c, "out", GR_BF16, (size_t)(heads * sq * d), d);
    gr_output(c, "lse", GR_F32, (size_t)(heads * sq), 1);
    c->rows = heads * sq;  /* one reference row: one query row's output and its log-sum-exp */
}

#define FLASH_LAUNCH(fn)                                                                                       \
    static void fn##_launch(gr_case *c, cudaStream_t stream) {                                                 \
        const gr_shape *s = &c->shape;                                                                         \
        fn(gr_ptr(c, "q"), gr_ptr(c, "k"), gr_ptr(c, "v"), gr_ptr(c, "out"), gr_ptr(c, "lse"), (int)ATTN_B(s), \
           (int)ATTN_H(s), (int)ATTN_SQ(s), (int)ATTN_SKV(s), (int)ATTN_HD(s), ATTN_CAUSAL(s), stream);        \
    }
FLASH_LAUNCH(flash_forward_scalar)
FLASH_LAUNCH(flash_forward_mma)
FLASH_LAUNCH(flash_forward_mma_fast)

/* Q, K, V read once, O written once (BF16), the log-sum-exp (FP32): the least any kernel moves. */
static double flash_bytes(const gr_shape *s) {
    return ATTN_HEADS(s) * (2.0 * ATTN_HD(s) * (2.0 * ATTN_SQ(s) + 2.0 * ATTN_SKV(s)) + 4.0 * ATTN_SQ(s));
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
        .bench_shape = bench, .declare = flash_declare, .adjust_inputs = gr_attention_stretch_queries,      \
        .launch = launch_fn, .reference = gr_attention_reference, .tolerance = gr_attention_tolerance,        \
        .flops = gr_attention_flops, .bytes = flash_bytes, .full_reference_limit = 4e9                        \
    }

#define BENCH_FULL GR_SHAPE(4, 16, 4096, 4096, 128, 0)
#define BENCH_CAUSAL GR_SHAPE(4, 16, 4096, 4096, 128, 1)
#define SCALAR_WHAT "FlashAttention forward, scalar FP32: K/V tiles in shared memory, online softmax per row"
#define SCALAR_HINT                                                                                         \
    "per tile: m_new = max(m, tile max); scale O and l by exp(m - m_new); a row that saw only masked keys " \
    "must not compute exp(-inf - -inf)"
#define MMA_WHAT "FlashAttention forward on tensor cores, plain: ldmatrix, mma.sync, the softmax through shared memory"
#define MMA_HINT                                                                                          \
    "lane i owns row warp_row0 + i of sS: base 0 while its max is -inf; acc_o's rows are g and g + 8 of each " \
    "m-tile, rescaled by sFactor before P V; P's a[1] is row g + 8, a[2] columns + 8"
#define FAST_WHAT "FlashAttention forward on tensor cores, fast: softmax and P in registers, K/V double-buffered"
#define FAST_HINT "the S accumulators of n-tiles 2k and 2k+1 are the A fragment of P for k-step k; a row's max is " \
                  "the quad's (xor 1 and 2); wait and sync before the copies of tile j+1 overwrite tile j-1's stage"

static const gr_exercise EXERCISES[] = {
    FLASH_EXERCISE("01_flash_scalar", SCALAR_WHAT, SCALAR_HINT, flash_forward_scalar_launch, FLASH_SHAPES, BENCH_FULL),
    FLASH_EXERCISE("01_flash_scalar+causal", SCALAR_WHAT " (causal)", SCALAR_HINT, flash_forward_scalar_launch,
                   CAUSAL_SHAPES, BENCH_CAUSAL),
    FLASH_EXERCISE("02_flash_mma", MMA_WHAT, MMA_HINT, flash_forward_mma_launch, FLASH_SHAPES, BENCH_FULL),
    FLASH_EXERCISE("02_flash_mma+causal", MMA_WHAT " (causal)", MMA_HINT, flash_forward_mma_launch, CAUSAL_SHAPES,
                   BENCH_CAUSAL),
    FLASH_EXERCISE("03_flash_mma_fast", FAST_WHAT, FAST_HINT, flash_forward_mma_fast_launch, FLASH_SHAPES, BENCH_FULL),
    FLASH_EXERCISE("03_flash_mma_fast+causal", FAST_WHAT " (causal)", FAST_HINT, flash_forward_mma_fast_launch,
                   CAUSAL_SHAPES, BENCH_CAUSAL),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "flashattn/09-flash-forward", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
