/* Session 09 check driver: FlashAttention forward, scalar tiles, then tensor cores (plain and fast),
 * then Hopper's wgmma, TMA and warp specialisation (04: sm_90a builds only).
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

#define FLASH_LAUNCH(fn)                                                                                       \
    static void fn##_launch(gr_case *c, cudaStream_t stream) {                                                 \
        const gr_shape *s = &c->shape;                                                                         \
        fn(gr_ptr(c, "q"), gr_ptr(c, "k"), gr_ptr(c, "v"), gr_ptr(c, "out"), gr_ptr(c, "lse"), (int)ATTN_B(s), \
           (int)ATTN_H(s), (int)ATTN_SQ(s), (int)ATTN_SKV(s), (int)ATTN_HD(s), ATTN_CAUSAL(s), stream);        \
    }
FLASH_LAUNCH(flash_forward_scalar)
FLASH_LAUNCH(flash_forward_mma)
FLASH_LAUNCH(flash_forward_mma_fast)
FLASH_LAUNCH(flash_forward_wgmma)

/* The shapes are the grader's (GR_FLASH_SHAPES, attention.h), shared with session 11's Triton rung. */
#define FLASH_SHAPES GR_FLASH_SHAPES
#define CAUSAL_SHAPES GR_FLASH_CAUSAL_SHAPES

/* Extra fields after `bench`: .needs_arch = "sm_90a" for an exercise whose kernels exist on one
 * target only (04: wgmma and setmaxnreg); a build for another skips it in one line (NEEDS_ARCH). */
#define FLASH_EXERCISE(file, summary, tip, launch_fn, shapes, bench, ...)                                     \
    {                                                                                                         \
        .name = file, .what = summary, .hint = tip, .compute = GR_ROOF_BF16, .check_shapes = shapes,         \
        .bench_shape = bench, .declare = gr_flash_declare, .adjust_inputs = gr_attention_stretch_queries,    \
        .launch = launch_fn, .reference = gr_attention_reference, .tolerance = gr_attention_tolerance,        \
        .flops = gr_attention_flops, .bytes = gr_flash_bytes, .full_reference_limit = 4e9, __VA_ARGS__        \
    }

#define BENCH_FULL GR_FLASH_BENCH_FULL
#define BENCH_CAUSAL GR_FLASH_BENCH_CAUSAL
#define SCALAR_WHAT "FlashAttention forward, scalar FP32: K/V tiles in shared memory, online softmax per row"
#define SCALAR_HINT                                                                                         \
    "per tile: m_new = max(m, tile max); scale O and l by exp(m - m_new); a row that saw only masked keys " \
    "must not compute exp(-inf - -inf)"
#define MMA_WHAT "FlashAttention forward on tensor cores, plain: ldmatrix, mma.sync, the softmax through shared memory"
#define MMA_HINT                                                                                          \
    "lane i owns row warp_row0 + i of sS: base 0 while its max is -inf; acc_o's rows are g and g + 8 of each " \
    "m-tile, rescaled by sFactor before P V; P's a[1] is row g + 8, a[2] columns + 8"
#define FAST_WHAT "FlashAttention forward on tensor cores, fast: softmax and P in registers, K/V double-buffered"
#define WGMMA_WHAT "FlashAttention forward on Hopper: TMA producer warpgroup, wgmma for S and P V, softmax overlapped"
#define WGMMA_HINT                                                                                          \
    "acc_s[4i + e] is row row0 + 8 (e >> 1), key n0 + 8i + 2t + (e & 1); P's register i packs acc_s[2i], "     \
    "acc_s[2i + 1]; V is MN-major: leading offset = its second 64-dim box, stride offset 1024 (8 keys)"
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
    FLASH_EXERCISE("04_flash_wgmma", WGMMA_WHAT, WGMMA_HINT, flash_forward_wgmma_launch, FLASH_SHAPES, BENCH_FULL,
                   .needs_arch = "sm_90a"),
    FLASH_EXERCISE("04_flash_wgmma+causal", WGMMA_WHAT " (causal)", WGMMA_HINT, flash_forward_wgmma_launch,
                   CAUSAL_SHAPES, BENCH_CAUSAL, .needs_arch = "sm_90a"),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "flashattn/09-flash-forward", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
