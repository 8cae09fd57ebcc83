/* Session 04 check driver: the lower rungs of the SGEMM ladder, rung 0 (cuBLAS) first.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 */
#include "exercises.h"
#include "gemm.h"
#include "grader.h"

static void cublas_launch(gr_case *c, cudaStream_t s) { gr_sgemm_run(sgemm_cublas, c, s); }
static void naive_launch(gr_case *c, cudaStream_t s) { gr_sgemm_run(sgemm_naive, c, s); }
static void coalesced_launch(gr_case *c, cudaStream_t s) { gr_sgemm_run(sgemm_coalesced, c, s); }
static void smem_tiled_launch(gr_case *c, cudaStream_t s) { gr_sgemm_run(sgemm_smem_tiled, c, s); }

static const gr_exercise EXERCISES[] = {
    GR_SGEMM_RUNG("00_cublas_sgemm", "rung 0, given: cuBLAS SGEMM, the yardstick", "", cublas_launch, true),
    GR_SGEMM_RUNG("01_sgemm_naive", "rung 1: one thread per element, threads down a column",
         "row from blockIdx.x/threadIdx.x, col from the .y fields; C = alpha*acc + beta*C", naive_launch, false),
    GR_SGEMM_RUNG("02_sgemm_coalesced", "rung 2: threads along a row, coalesced B and C",
         "col from the .x fields: a warp then reads 32 neighbouring floats of B", coalesced_launch, false),
    GR_SGEMM_RUNG("03_sgemm_smem_tiled", "rung 3: 32x32 tiles through shared memory",
         "zero-fill tile elements outside A or B; a barrier after loading and another after using the tile",
         smem_tiled_launch, false),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "ladder/04-gemm-tiling", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
