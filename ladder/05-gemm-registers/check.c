/* Session 05 check driver: the upper rungs of the SGEMM ladder.
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
static void blocktiling_1d_launch(gr_case *c, cudaStream_t s) { run(sgemm_1d_blocktiling, c, s); }
static void blocktiling_2d_launch(gr_case *c, cudaStream_t s) { run(sgemm_2d_blocktiling, c, s); }
static void vectorized_launch(gr_case *c, cudaStream_t s) { run(sgemm_vectorized, c, s); }
static void warptiling_launch(gr_case *c, cudaStream_t s) { run(sgemm_warptiling, c, s); }

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
    RUNG("01_sgemm_1d_blocktiling", "rung 4: 8 results per thread down a column (1D blocktiling)",
         "one Bs value in a register serves TM multiply-adds; zero-fill outside A and B", blocktiling_1d_launch, false),
    RUNG("02_sgemm_2d_blocktiling", "rung 5: an 8x8 block of results per thread (2D blocktiling)",
         "keep acc[8][8] in registers: fully unrolled loops with constant indices", blocktiling_2d_launch, false),
    RUNG("03_sgemm_vectorized", "rung 6: float4 loads, A stored transposed",
         "float4 only when K%4 == 0, N%4 == 0 and the tile is inside; As[k][m] makes A's reads contiguous",
         vectorized_launch, false),
    RUNG("04_sgemm_warptiling", "rung 7: warp tiles, double-buffered shared memory",
         "lane (tr, tc) owns rows wm+tr+{0..3, 32..35} and columns wn+tc+{0..3, 16..19}; one barrier per tile",
         warptiling_launch, false),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "ladder/05-gemm-registers", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
