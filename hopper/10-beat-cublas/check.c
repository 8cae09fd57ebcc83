/* Session 10 check driver: TMA, wgmma and a BF16 GEMM that races cuBLAS, on Hopper (sm_90a).
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 *   make sass EX=04_warp_specialised   the Hopper instructions in your kernel
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exercises.h"
#include "gemm.h"
#include "grader.h"

#define TILE 64

/* ---- 01: a matrix cut into 64 x 64 tiles ----------------------------------------------------------
 * Shape (rows, cols); tile (tr, tc) is reference row tr * tiles_across + tc (4096 elements). */
static long tiles_down(const gr_shape *s) { return (s->d[0] + TILE - 1) / TILE; }
static long tiles_across(const gr_shape *s) { return (s->d[1] + TILE - 1) / TILE; }

static void tiles_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    gr_input(c, "src", GR_BF16, (size_t)(s->d[0] * s->d[1]), GR_FILL_SIGNED);
    gr_output(c, "tiles", GR_BF16, (size_t)(tiles_down(s) * tiles_across(s) * TILE * TILE), TILE * TILE);
    c->rows = tiles_down(s) * tiles_across(s);
}

static void tiles_reference(gr_case *c, long begin, long end) {
    const gr_shape *s = &c->shape;
    const float *src = gr_in_f32(c, "src");
    float *ref = gr_ref(c, "tiles");   /* references of BF16 outputs are kept in float32 */
    const long rows = s->d[0], cols = s->d[1], across = tiles_across(s);
    for (long t = begin; t < end; t++)
        for (long r = 0; r < TILE; r++)
            for (long k = 0; k < TILE; k++) {
                const long row = (t / across) * TILE + r, col = (t % across) * TILE + k;
                ref[t * TILE * TILE + r * TILE + k] = row < rows && col < cols ? src[row * cols + col] : 0.0f;
            }
}

static void tiles_launch(gr_case *c, cudaStream_t stream) {
    tma_tiles(gr_ptr(c, "src"), (int)c->shape.d[0], (int)c->shape.d[1], gr_ptr(c, "tiles"), stream);
}
static double tiles_exact(const gr_shape *s) { (void)s; return 0.0; }   /* a copy: every bit right */
static double no_flops(const gr_shape *s) { (void)s; return 0.0; }
static double tiles_bytes(const gr_shape *s) {
    return 2.0 * (double)s->d[0] * s->d[1] + 2.0 * TILE * TILE * tiles_down(s) * tiles_across(s);
}

/* ---- 02: 64 x 64 tiles of C = A * B^T with K = 64; shape (M, N, 64) ------------------------------- */
static void wgmma_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    gr_input(c, "A", GR_BF16, (size_t)(s->d[0] * TILE), GR_FILL_SIGNED);
    gr_input(c, "B", GR_BF16, (size_t)(s->d[1] * TILE), GR_FILL_SIGNED);
    gr_output(c, "C", GR_F32, (size_t)(s->d[0] * s->d[1]), s->d[1]);
    c->rows = s->d[0];
}

static void wgmma_reference(gr_case *c, long begin, long end) {
    const long N = c->shape.d[1];
    const float *A = gr_in_f32(c, "A"), *B = gr_in_f32(c, "B");
    float *ref = gr_ref(c, "C"), *scale = gr_scale(c, "C");
    for (long m = begin; m < end; m++)
        for (long n = 0; n < N; n++) {
            double sum = 0, mag = 0;
            for (long k = 0; k < TILE; k++) {
                sum += (double)A[m * TILE + k] * B[n * TILE + k];
                mag += fabs((double)A[m * TILE + k] * B[n * TILE + k]);
            }
            ref[m * N + n] = (float)sum;
            if (scale) scale[m * N + n] = (float)mag;
        }
}

static void wgmma_launch(gr_case *c, cudaStream_t stream) {
    wgmma_tiles(gr_ptr(c, "A"), gr_ptr(c, "B"), gr_ptr(c, "C"), (int)c->shape.d[0], (int)c->shape.d[1], stream);
}
static double wgmma_tolerance(const gr_shape *s) { return gr_bf16_gemm_tolerance(s); }
static double wgmma_bytes(const gr_shape *s) { return 2.0 * TILE * (s->d[0] + s->d[1]) + 4.0 * s->d[0] * s->d[1]; }

/* ---- 03-06: C = A * B^T, BF16 out --------------------------------------------------------------- */
typedef void (*gemm_fn)(const uint16_t *, const uint16_t *, uint16_t *, int, int, int, cudaStream_t);
static void run_gemm(gemm_fn fn, gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    fn(gr_ptr(c, "A"), gr_ptr(c, "B"), gr_ptr(c, "C"), (int)GR_GEMM_M(s), (int)GR_GEMM_N(s), (int)GR_GEMM_K(s), stream);
}
static void pipeline_launch(gr_case *c, cudaStream_t s) { run_gemm(gemm_tma_wgmma, c, s); }
static void specialised_launch(gr_case *c, cudaStream_t s) { run_gemm(gemm_warp_specialised, c, s); }
static void persistent_launch(gr_case *c, cudaStream_t s) { run_gemm(gemm_persistent, c, s); }
static void cluster_launch(gr_case *c, cudaStream_t s) { run_gemm(gemm_cluster, c, s); }

/* One element; sizes no 128 x 256 tile divides in M, N or K (K a multiple of 8, as TMA needs); an
 * odd N (the store's two-element path) and an even N that is no multiple of 8 (no TMA store); a K
 * that runs the ring of stages round many times; more tiles than SMs, with an odd count of 128-row
 * tiles (a persistent block takes several; one block of the last cluster has no rows at all). */
#define GEMM_SHAPES                                                                                           \
    {GR_SHAPE(1, 1, 8), GR_SHAPE(17, 17, 16), GR_SHAPE(127, 65, 40), GR_SHAPE(33, 127, 8),                    \
     GR_SHAPE(128, 256, 64), GR_SHAPE(1000, 520, 264), GR_SHAPE(257, 129, 72), GR_SHAPE(300, 258, 1000),       \
     GR_SHAPE(65, 264, 2056), GR_SHAPE(1100, 8200, 64), GR_SHAPE(384, 136, 24), GR_SHAPE(520, 1000, 8)}
/* A variant re-times the same file at another size after one small check. */
#define VARIANT_SHAPES {GR_SHAPE(129, 264, 72)}

#define GEMM(file, summary, tip, fn, shapes, size)                                                             \
    {                                                                                                          \
        .name = file, .what = summary, .hint = tip, .compute = GR_ROOF_BF16, .check_shapes = shapes,           \
        .bench_shape = GR_SHAPE(size, size, size), .declare = gr_bf16_gemm_nt_declare, .launch = fn,           \
        GR_BF16_GEMM_NT_REF, .tolerance = gr_bf16_gemm_nt_tolerance,                        \
        .flops = gr_gemm_flops, .bytes = gr_bf16_gemm_nt_bytes, .library = gr_bf16_gemm_nt_library,            \
        .library_name = "cuBLAS BF16", .library_label = gr_bf16_gemm_nt_library_label,                          \
        .extra_check = gr_bf16_gemm_nt_freivalds                                                               \
    }

#define PIPELINE_WHAT "TMA + wgmma GEMM, one warpgroup, a ring of stages with full barriers"
#define PIPELINE_HINT "stage s of k-step kt waits on parity (kt / STAGES) % 2; refill a stage only after every warp is done"
#define SPECIALISED_WHAT "producer warpgroup (TMA) and two consumer warpgroups (wgmma), full and empty barriers"
#define SPECIALISED_HINT "the producer's first pass waits on empty parity 1; empty needs one arrival per consumer warp"
#define PERSISTENT_WHAT "persistent blocks over every tile; the ring and its parity carried across tiles"
#define PERSISTENT_HINT "count k-steps over all tiles of the block, in the producer and the consumers the same way"
#define CLUSTER_WHAT "clusters of 2 with B multicast, grouped tile order, TMA stores"
#define CLUSTER_HINT "consumers release a stage in both blocks; cluster_sync before the first TMA and before exit"

static const gr_exercise EXERCISES[] = {
    {.name = "01_tma_tile", .what = "64 x 64 tiles of a BF16 matrix by TMA and an mbarrier, zeros past the edges",
     .hint = "expect_tx before the copy, wait on parity 0; TMA's coordinates are (column, row)",
     .compute = GR_ROOF_HBM,
     .check_shapes = {GR_SHAPE(1, 8), GR_SHAPE(17, 24), GR_SHAPE(64, 64), GR_SHAPE(127, 64), GR_SHAPE(65, 136),
                      GR_SHAPE(3, 520), GR_SHAPE(1000, 1000), GR_SHAPE(200, 72)},
     .bench_shape = GR_SHAPE(8192, 8192), .declare = tiles_declare, .launch = tiles_launch,
     .reference = tiles_reference, .tolerance = tiles_exact, .flops = no_flops, .bytes = tiles_bytes},
    {.name = "02_wgmma_tile", .what = "64 x 64 tiles of C = A * B^T (K = 64): swizzled shared tiles, descriptors, wgmma",
     .hint = "chunk c of row r goes to slot c ^ (r % 8); the descriptor's stride is 1024 bytes; +2 per k16 step",
     .compute = GR_ROOF_BF16,
     .check_shapes = {GR_SHAPE(64, 64, 64), GR_SHAPE(128, 64, 64), GR_SHAPE(64, 192, 64), GR_SHAPE(256, 320, 64)},
     .bench_shape = GR_SHAPE(8192, 8192, 64), .declare = wgmma_declare, .launch = wgmma_launch,
     .reference = wgmma_reference, .tolerance = wgmma_tolerance, .flops = gr_gemm_flops, .bytes = wgmma_bytes},
    GEMM("03_tma_wgmma_pipeline", PIPELINE_WHAT, PIPELINE_HINT, pipeline_launch, GEMM_SHAPES, 4096),
    GEMM("03_tma_wgmma_pipeline+8192", PIPELINE_WHAT, PIPELINE_HINT, pipeline_launch, VARIANT_SHAPES, 8192),
    GEMM("04_warp_specialised", SPECIALISED_WHAT, SPECIALISED_HINT, specialised_launch, GEMM_SHAPES, 4096),
    GEMM("04_warp_specialised+8192", SPECIALISED_WHAT, SPECIALISED_HINT, specialised_launch, VARIANT_SHAPES, 8192),
    GEMM("05_persistent", PERSISTENT_WHAT, PERSISTENT_HINT, persistent_launch, GEMM_SHAPES, 4096),
    GEMM("05_persistent+8192", PERSISTENT_WHAT, PERSISTENT_HINT, persistent_launch, VARIANT_SHAPES, 8192),
    GEMM("06_cluster", CLUSTER_WHAT, CLUSTER_HINT, cluster_launch, GEMM_SHAPES, 4096),
    GEMM("06_cluster+2048", CLUSTER_WHAT, CLUSTER_HINT, cluster_launch, VARIANT_SHAPES, 2048),
    GEMM("06_cluster+6144", CLUSTER_WHAT, CLUSTER_HINT, cluster_launch, VARIANT_SHAPES, 6144),
    GEMM("06_cluster+8192", CLUSTER_WHAT, CLUSTER_HINT, cluster_launch, VARIANT_SHAPES, 8192),
};
#define N_EXERCISES ((int)(sizeof EXERCISES / sizeof EXERCISES[0]))

/* What TMA and the tile exercises allow; NULL when the shape is fine. */
static const char *shape_refused(const gr_exercise *ex, const gr_shape *s) {
    if (!strncmp(ex->name, "01_", 3)) return s->d[1] % 8 ? "cols must be a multiple of 8 (TMA reads 16-byte rows)" : NULL;
    if (!strncmp(ex->name, "02_", 3))
        return s->d[0] % TILE || s->d[1] % TILE || s->d[2] != TILE ? "M and N must be multiples of 64, K = 64" : NULL;
    return s->d[2] % 8 ? "K must be a multiple of 8 (TMA reads 16-byte rows of A and B)" : NULL;
}

int main(int argc, char **argv) {
    /* A shape the kernels cannot take is this driver's mistake, said before anything runs. */
    for (int i = 0; i < N_EXERCISES; i++) {
        const gr_exercise *ex = &EXERCISES[i];
        for (int j = 0; j <= GR_MAX_SHAPES; j++) {
            const gr_shape *s = j < GR_MAX_SHAPES ? &ex->check_shapes[j] : &ex->bench_shape;
            const char *why = s->rank ? shape_refused(ex, s) : NULL;
            if (why) {
                fprintf(stderr, "hopper/10-beat-cublas: %s cannot run at (%ld, %ld, %ld): %s\n", ex->name, s->d[0],
                        s->d[1], s->d[2], why);
                return 2;
            }
        }
    }
    return gr_main(argc, argv, "hopper/10-beat-cublas", EXERCISES, N_EXERCISES);
}
