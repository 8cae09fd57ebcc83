/* Session 04 check driver: the lower rungs of the SGEMM ladder, rung 0 (cuBLAS) first.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 */
#include "exercises.h"
#include "gemm.h"
#include "grader.h"

typedef void (*sgemm_fn)(int, int, int, float, const float *, const float *, float, float *, cudaStream_t);

static void run(sgemm_fn fn, gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    fn((int)GR_GEMM_M(s), (int)GR_GEMM_N(s), (int)GR_GEMM_K(s), GR_SGEMM_ALPHA(c), gr_ptr(c, "A"), gr_ptr(c, "B"),
       GR_SGEMM_BETA(c), gr_ptr(c, "C"), stream);
}
static void cublas_launch(gr_case *c, cudaStream_t s) { run(sgemm_cublas, c, s); }
static void naive_launch(gr_case *c, cudaStream_t s) { run(sgemm_naive, c, s); }
static void coalesced_launch(gr_case *c, cudaStream_t s) { run(sgemm_coalesced, c, s); }
static void smem_tiled_launch(gr_case *c, cudaStream_t s) { run(sgemm_smem_tiled, c, s); }

/* Small and odd shapes, K = 1, one exact multiple of the tiles, then the ladder's 4096^3. */
#define RUNG(file, summary, tip, fn, is_given)                                                                  \
    {                                                                                                  \
        .name = file, .what = summary, .hint = tip, .given = is_given, .compute = GR_ROOF_FP32,       \
        .check_shapes = {GR_SHAPE(1, 1, 1), GR_SHAPE(17, 17, 17), GR_SHAPE(127, 65, 33), GR_SHAPE(33, 127, 1),   \
                         GR_SHAPE(128, 128, 128), GR_SHAPE(129, 257, 65), GR_SHAPE(1000, 520, 264),              \
                         GR_SHAPE(64, 1, 300)},                                                        \
        .bench_shape = GR_SHAPE(4096, 4096, 4096), .declare = gr_sgemm_declare, .launch = fn,           \
        .reference = gr_sgemm_reference, .tolerance = gr_gemm_tolerance, .flops = gr_gemm_flops,       \
        .bytes = gr_sgemm_bytes, .library = gr_sgemm_library, .library_name = "cuBLAS SGEMM",          \
        .extra_check = gr_gemm_freivalds                                                               \
    }

static const gr_exercise EXERCISES[] = {
    RUNG("00_cublas_sgemm", "rung 0, given: cuBLAS SGEMM, the yardstick", "", cublas_launch, true),
    RUNG("01_sgemm_naive", "rung 1: one thread per element, threads down a column",
         "row from blockIdx.x/threadIdx.x, col from the .y fields; C = alpha*acc + beta*C", naive_launch, false),
    RUNG("02_sgemm_coalesced", "rung 2: threads along a row, coalesced B and C",
         "col from the .x fields: a warp then reads 32 neighbouring floats of B", coalesced_launch, false),
    RUNG("03_sgemm_smem_tiled", "rung 3: 32x32 tiles through shared memory",
         "zero-fill tile elements outside A or B; a barrier after loading and another after using the tile",
         smem_tiled_launch, false),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "ladder/04-gemm-tiling", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
