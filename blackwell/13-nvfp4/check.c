/* Session 13 check driver: NVFP4, judged against the memory roof.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 *
 * The formats, the references, the inputs and the byte counts: grader/nvfp4.h. */
#include "exercises.h"
#include "grader.h"
#include "nvfp4.h"

#define S(i) ((int)c->shape.d[i])

static void quantize_launch(gr_case *c, cudaStream_t s) {
    nvfp4_quantize(gr_ptr(c, "X"), (float)c->param[0], gr_ptr(c, "q"), gr_ptr(c, "scales"), S(0), S(1), s);
}
static void dequantize_launch(gr_case *c, cudaStream_t s) {
    nvfp4_dequantize(gr_ptr(c, "q"), gr_ptr(c, "scales"), (float)c->param[0], gr_ptr(c, "Y"), S(0), S(1), s);
}
#define GEMV_LAUNCH(fn)                                                                                     \
    static void fn##_launch(gr_case *c, cudaStream_t s) {                                                   \
        fn(gr_ptr(c, "a"), gr_ptr(c, "sfa"), gr_ptr(c, "b"), gr_ptr(c, "sfb"), gr_ptr(c, "c"), S(0), S(1), S(2), s); \
    }
GEMV_LAUNCH(nvfp4_gemv_table)
GEMV_LAUNCH(nvfp4_gemv_bits)
GEMV_LAUNCH(nvfp4_gemv_ilp)
GEMV_LAUNCH(nvfp4_gemv_fused)
GEMV_LAUNCH(nvfp4_gemv_sm100)

/* 01, (rows, K): one block of 16 and one row; odd row counts; K that is one block, three, and long
 * rows; a tall thin tensor. */
#define QUANT_SHAPES                                                                                         \
    {GR_SHAPE(1, 16), GR_SHAPE(1, 48), GR_SHAPE(7, 32), GR_SHAPE(17, 160), GR_SHAPE(129, 256),              \
     GR_SHAPE(1000, 64), GR_SHAPE(3, 4096), GR_SHAPE(33, 1040), GR_SHAPE(2, 16384)}
#define QUANT(file, summary, tip, launch_fn, prefix)                                                         \
    {.name = file, .what = summary, .hint = tip, .compute = GR_ROOF_HBM, .check_shapes = QUANT_SHAPES,        \
     .bench_shape = GR_SHAPE(4096, 7168), .declare = prefix##_declare, .adjust_inputs = prefix##_adjust,      \
     .launch = launch_fn, .reference = prefix##_reference, .tolerance = fp4_exact_tolerance,                  \
     .bytes = prefix##_bytes}

/* 02-06, (M, K, L): one row and K = 64; odd M (7, 129, 1000); L = 1, 2, 3; the competition's test
 * shapes (128 x 256, 128 x 3072, 256 x 7168, 2432 x 4608 x 2, 384 x 7168 x 2, 512 x 512 x 2); and
 * one long row. */
#define GEMV_SHAPES                                                                                          \
    {GR_SHAPE(1, 64, 1), GR_SHAPE(7, 128, 3), GR_SHAPE(129, 192, 2), GR_SHAPE(1000, 320, 1),                \
     GR_SHAPE(33, 2048, 3), GR_SHAPE(128, 256, 1), GR_SHAPE(128, 3072, 1), GR_SHAPE(256, 7168, 1),          \
     GR_SHAPE(2432, 4608, 2), GR_SHAPE(384, 7168, 2), GR_SHAPE(512, 512, 2), GR_SHAPE(1, 16384, 2)}
#define GEMV(file, summary, tip, launch_fn, size)                                                             \
    {.name = file, .what = summary, .hint = tip, .compute = GR_ROOF_HBM, .check_shapes = GEMV_SHAPES,         \
     .bench_shape = size, .declare = fp4_gemv_declare, .adjust_inputs = fp4_gemv_adjust, .launch = launch_fn, \
     .reference = fp4_gemv_reference, .tolerance = fp4_gemv_tolerance, .flops = fp4_gemv_flops,              \
     .bytes = fp4_gemv_bytes, .bench_note = fp4_gemv_note}
/* Each rung at the competition's three benchmark shapes (M, K, L): its base entry, then two variants. */
#define GEMV_RUNG(stem, summary, tip, launch_fn)                                                              \
    GEMV(stem, summary, tip, launch_fn, GR_SHAPE(7168, 16384, 1)),                                          \
    GEMV(stem "+4096x7168x8", summary, tip, launch_fn, GR_SHAPE(4096, 7168, 8)),                            \
    GEMV(stem "+7168x2048x4", summary, tip, launch_fn, GR_SHAPE(7168, 2048, 4))

static const gr_exercise EXERCISES[] = {
    QUANT("01_nvfp4_quantize", "float32 to NVFP4: a block's amax, its e4m3 scale, 16 e2m1 codes two a byte",
          "scale = e4m3(amax / (6 * gs)), S = e4m3 value * gs, code = e2m1(x / S); ties to even; low nibble first",
          quantize_launch, fp4_quantize),
    QUANT("01_nvfp4_quantize+dequantize", "NVFP4 back to float32: (e2m1 * e4m3) * global scale",
          "byte i holds value 2i in its low nibble; multiply e2m1 by e4m3 first, then by the global scale",
          dequantize_launch, fp4_dequantize),
    GEMV_RUNG("02_nvfp4_gemv_table", "batched NVFP4 GEMV: codes decoded through a 16-entry table in shared memory",
              "c[l][m] sums a[l][m][k] * b[l][k] with both block scales; code k is the low nibble when k is even",
              nvfp4_gemv_table_launch),
    GEMV_RUNG("03_nvfp4_gemv_bits", "the GEMV with codes decoded by bit operations and 128-bit loads",
              "e2m1: sign bit 3, exponent bits 2-1 (bias 1), mantissa bit 0; exponent 0 is 0 or 0.5",
              nvfp4_gemv_bits_launch),
    GEMV_RUNG("04_nvfp4_gemv_ilp", "the GEMV with more independent loads and sums in flight per warp",
              "issue every load of an iteration before the first use; keep several partial sums",
              nvfp4_gemv_ilp_launch),
    GEMV_RUNG("05_nvfp4_gemv_fused", "the GEMV on packed half2 FMAs, the two block scales multiplied once",
              "sum a block's 16 products in half2, then multiply by sfa * sfb in float and add in float",
              nvfp4_gemv_fused_launch),
    GEMV_RUNG("06_nvfp4_gemv_sm100", "the GEMV with Blackwell's e2m1 conversion instruction (05's path elsewhere)",
              "cvt.rn.f16x2.e2m1x2 turns a byte of two codes into a half2; guard it with __CUDA_ARCH__ >= 1000",
              nvfp4_gemv_sm100_launch),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "blackwell/13-nvfp4", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
