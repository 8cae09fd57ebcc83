/* Session 05 check driver: the upper rungs of the SGEMM ladder.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 */
#include "exercises.h"
#include "gemm.h"
#include "grader.h"

static void blocktiling_1d_launch(gr_case *c, cudaStream_t s) { gr_sgemm_run(sgemm_1d_blocktiling, c, s); }
static void blocktiling_2d_launch(gr_case *c, cudaStream_t s) { gr_sgemm_run(sgemm_2d_blocktiling, c, s); }
static void vectorized_launch(gr_case *c, cudaStream_t s) { gr_sgemm_run(sgemm_vectorized, c, s); }
static void warptiling_launch(gr_case *c, cudaStream_t s) { gr_sgemm_run(sgemm_warptiling, c, s); }

static const gr_exercise EXERCISES[] = {
    GR_SGEMM_RUNG("01_sgemm_1d_blocktiling", "rung 4: 8 results per thread down a column (1D blocktiling)",
         "one Bs value in a register serves TM multiply-adds; zero-fill outside A and B", blocktiling_1d_launch, false),
    GR_SGEMM_RUNG("02_sgemm_2d_blocktiling", "rung 5: an 8x8 block of results per thread (2D blocktiling)",
         "keep acc[8][8] in registers: fully unrolled loops with constant indices", blocktiling_2d_launch, false),
    GR_SGEMM_RUNG("03_sgemm_vectorized", "rung 6: float4 loads, A stored transposed",
         "float4 only when K%4 == 0, N%4 == 0 and the tile is inside; As[k][m] makes A's reads contiguous",
         vectorized_launch, false),
    GR_SGEMM_RUNG("04_sgemm_warptiling", "rung 7: warp tiles, double-buffered shared memory",
         "lane (tr, tc) owns rows wm+tr+{0..3, 32..35} and columns wn+tc+{0..3, 16..19}; one barrier per tile",
         warptiling_launch, false),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "ladder/05-gemm-registers", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
