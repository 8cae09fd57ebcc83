/* Session 11 check driver: the GEMM one rung up the abstraction ladder, graded exactly as session
 * 10's raw-CUDA rungs are (same contract, shapes and yardstick), so that lines of code and percent
 * of cuBLAS can be set side by side.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 */
#include "exercises.h"
#include "gemm.h"
#include "grader.h"

static void cute_launch(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    cute_gemm(gr_ptr(c, "A"), gr_ptr(c, "B"), gr_ptr(c, "C"), (int)GR_GEMM_M(s), (int)GR_GEMM_N(s), (int)GR_GEMM_K(s),
              stream);
}

/* (M, N, K), K a multiple of 8: single elements, sizes no tile divides in M and N at once, exact
 * tiles, a partial last K tile, a K long enough to run the pipeline round many times, N past what
 * one row of blocks covers; the bench size is session 10's. */
#define GEMM_SHAPES                                                                                           \
    {GR_SHAPE(1, 1, 8), GR_SHAPE(17, 17, 16), GR_SHAPE(127, 65, 40), GR_SHAPE(33, 127, 8),                    \
     GR_SHAPE(128, 256, 64), GR_SHAPE(1000, 520, 264), GR_SHAPE(257, 129, 72), GR_SHAPE(300, 258, 1000),       \
     GR_SHAPE(65, 264, 2056), GR_SHAPE(1100, 8200, 64), GR_SHAPE(384, 136, 24), GR_SHAPE(520, 1000, 8)}

static const gr_exercise EXERCISES[] = {
    {.name = "04_cute_gemm", .what = "BF16 GEMM C = A B^T in CuTe: layouts, a tiled copy, an MMA atom",
     .hint = "predicate every copy and store on an identity tensor of (M, N, K); ldmatrix and cp.async must share the swizzle",
     .compute = GR_ROOF_BF16, .check_shapes = GEMM_SHAPES, .bench_shape = GR_SHAPE(8192, 8192, 8192),
     .declare = gr_bf16_gemm_nt_declare, .launch = cute_launch, .reference = gr_bf16_gemm_nt_reference,
     .tolerance = gr_bf16_gemm_nt_tolerance, .flops = gr_gemm_flops, .bytes = gr_bf16_gemm_nt_bytes,
     .library = gr_bf16_gemm_nt_library, .library_name = "cuBLAS BF16", .library_label = gr_bf16_gemm_nt_library_label,
     .extra_check = gr_bf16_gemm_nt_freivalds},
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "ladder/11-abstractions", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
