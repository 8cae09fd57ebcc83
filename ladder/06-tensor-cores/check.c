/* Session 06 check driver: BF16 matrix products on the tensor cores, judged against the BF16 roof.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 */
#include "exercises.h"
#include "gemm.h"
#include "grader.h"

typedef void (*bf16_gemm_fn)(const uint16_t *, const uint16_t *, float *, int, int, int, cudaStream_t);

static void run(bf16_gemm_fn fn, gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    fn(gr_ptr(c, "A"), gr_ptr(c, "B"), gr_ptr(c, "C"), (int)GR_GEMM_M(s), (int)GR_GEMM_N(s), (int)GR_GEMM_K(s), stream);
}
static void wmma_launch(gr_case *c, cudaStream_t s) { run(gemm_bf16_wmma, c, s); }
static void mma_launch(gr_case *c, cudaStream_t s) { run(gemm_bf16_mma, c, s); }

/* Single elements, sizes no 16 x 16 fragment or 128 x 256 tile divides, K = 1 and K % 8 != 0 (the
 * fallback of exercise 2), exact tiles, edges in M, N and K at once on the 16-byte path, a long K
 * that runs the pipeline round its ring many times, then the 4096^3 of the GEMM ladder. */
#define BF16_GEMM(file, summary, tip, fn)                                                                       \
    {                                                                                                  \
        .name = file, .what = summary, .hint = tip, .compute = GR_ROOF_BF16,                           \
        .check_shapes = {GR_SHAPE(1, 1, 1), GR_SHAPE(17, 17, 17), GR_SHAPE(127, 65, 33), GR_SHAPE(33, 127, 1),   \
                         GR_SHAPE(64, 64, 64), GR_SHAPE(128, 256, 64), GR_SHAPE(1000, 520, 264),                 \
                         GR_SHAPE(257, 129, 72), GR_SHAPE(100, 96, 17), GR_SHAPE(257, 136, 72),                  \
                         GR_SHAPE(65, 264, 2056), GR_SHAPE(1, 8, 8)},                                            \
        .bench_shape = GR_SHAPE(4096, 4096, 4096), .declare = gr_bf16_gemm_declare, .launch = fn,      \
        GR_MATMUL_REF, .tolerance = gr_bf16_gemm_tolerance, .flops = gr_gemm_flops, \
        .bytes = gr_bf16_gemm_bytes, .library = gr_bf16_gemm_library, .library_name = "cuBLAS BF16",   \
        .extra_check = gr_gemm_freivalds                                                               \
    }

static const gr_exercise EXERCISES[] = {
    BF16_GEMM("01_wmma_bf16", "BF16 GEMM with wmma 16x16x16 fragments, tiles through shared memory",
              "zero-fill tile elements outside A or B; store each accumulator to Cs, copy only rows < M, cols < N",
              wmma_launch),
    BF16_GEMM("02_mma_pipeline", "BF16 GEMM with mma.sync m16n8k16, ldmatrix, swizzled tiles, a cp.async pipeline",
              "cp.async and ldmatrix must use one swizzle; wait_group STAGES-2, then __syncthreads, before reading a stage",
              mma_launch),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "ladder/06-tensor-cores", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
