/* Session 03 check driver: describes each exercise to the grader.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 */
#include <math.h>

#include "exercises.h"
#include "grader.h"
#include "library.h"
#include "ref/references.h"

/* ---- 01-03 transpose: shape (rows, cols) of the input ---- */

static void transpose_declare(gr_case *c) {
    long rows = c->shape.d[0], cols = c->shape.d[1];
    gr_input(c, "in", GR_F32, (size_t)(rows * cols), GR_FILL_SIGNED);
    gr_output(c, "out", GR_F32, (size_t)(rows * cols), rows);  /* cols rows of `rows` elements */
    c->rows = cols;
}

static void transpose_reference(gr_case *c, long r0, long r1) {
    ref_transpose(gr_in(c, "in"), gr_ref(c, "out"), c->shape.d[0], c->shape.d[1], r0, r1);
}

#define TRANSPOSE_LAUNCH(fn)                                                                           \
    static void fn##_launch(gr_case *c, cudaStream_t stream) {                                         \
        fn(gr_ptr(c, "in"), gr_ptr(c, "out"), (int)c->shape.d[0], (int)c->shape.d[1], stream);          \
    }
TRANSPOSE_LAUNCH(transpose_naive)
TRANSPOSE_LAUNCH(transpose_shared)
TRANSPOSE_LAUNCH(transpose_padded)

/* A transpose moves values and computes nothing: the output must match exactly. */
static double transpose_tolerance(const gr_shape *s) { (void)s; return 0; }

/* Every element read once and written once. */
static double transpose_bytes(const gr_shape *s) { return 8.0 * s->d[0] * s->d[1]; }

static void transpose_library(gr_case *c, cudaStream_t stream) {
    gr_lib_transpose((int)c->shape.d[0], (int)c->shape.d[1], gr_ptr(c, "in"), gr_ptr(c, "out"), stream);
}

/* Square, tall, wide, single row and column, and sizes no 32 x 32 tile divides. */
#define TRANSPOSE_SHAPES                                                                               \
    {GR_SHAPE(1, 1), GR_SHAPE(17, 17), GR_SHAPE(127, 33), GR_SHAPE(33, 127), GR_SHAPE(1, 1000),          \
     GR_SHAPE(1000, 1), GR_SHAPE(1000, 999), GR_SHAPE(64, 96), GR_SHAPE(2049, 1537)}

/* ---- 04-05 reduction: shape (n) ---- */

static void reduce_declare(gr_case *c) {
    long n = c->shape.d[0];
    /* Values in [0, 1): a sum of positive terms has no cancellation, so its float32 error is
     * governed by the order of the additions alone. */
    gr_input(c, "x", GR_F32, (size_t)n, GR_FILL_UNIT);
    gr_output(c, "sum", GR_F32, 1, 1);
    gr_scratch(c, "workspace", GR_F32, (size_t)REDUCE_WORKSPACE_FLOATS(n));
    c->rows = 1;
}

#define REDUCE_LAUNCH(fn)                                                                              \
    static void fn##_launch(gr_case *c, cudaStream_t stream) {                                         \
        fn(gr_ptr(c, "x"), gr_ptr(c, "sum"), c->shape.d[0], gr_ptr(c, "workspace"), stream);             \
    }
REDUCE_LAUNCH(reduce_tree)
REDUCE_LAUNCH(reduce_warp_shuffle)

static void reduce_reference(gr_case *c, long r0, long r1) {
    (void)r0; (void)r1;
    float *sum = gr_ref(c, "sum");
    sum[0] = (float)ref_sum(gr_in(c, "x"), c->shape.d[0]);
}

/* A sum of n positive float32 terms errs by at most (depth of the addition chain) * eps relative.
 * A tree has depth log2(n); we allow that plus 8 steps, times 4: room for each thread first
 * adding a few hundred elements in a loop (whose errors grow like a random walk). One thread
 * summing everything alone (depth n) is wrong at large n, and fails. */
static double reduce_tolerance(const gr_shape *s) { return 4.0 * GR_EPS_F32 * (log2((double)s->d[0]) + 8.0); }

/* Every element read once. */
static double reduce_bytes(const gr_shape *s) { return 4.0 * s->d[0]; }

static void reduce_library(gr_case *c, cudaStream_t stream) {
    gr_lib_reduce_sum(gr_ptr(c, "x"), gr_ptr(c, "sum"), c->shape.d[0], stream);
}

/* Tails of every length: n % 4, n % 256 and n % 512 all vary; one size needs three tree passes. */
#define REDUCE_SHAPES                                                                                  \
    {GR_SHAPE(1), GR_SHAPE(2), GR_SHAPE(3), GR_SHAPE(5), GR_SHAPE(17), GR_SHAPE(127), GR_SHAPE(1000),    \
     GR_SHAPE(4097), GR_SHAPE(65537), GR_SHAPE((1 << 20) + 3), GR_SHAPE((1 << 22) + 1)}

/* One exercise of each family: what differs is the name, the summary, the hint and the launch. */
#define TRANSPOSE_EXERCISE(file, summary, tip, launch_fn)                                              \
    {                                                                                                  \
        .name = file, .what = summary, .hint = tip, .compute = GR_ROOF_HBM, .check_shapes = TRANSPOSE_SHAPES, \
        .bench_shape = GR_SHAPE(8192, 8192), .declare = transpose_declare, .launch = launch_fn,         \
        .reference = transpose_reference, .tolerance = transpose_tolerance, .bytes = transpose_bytes,    \
        .library = transpose_library, .library_name = "cublasSgeam"                                    \
    }
#define REDUCE_EXERCISE(file, summary, tip, launch_fn)                                                 \
    {                                                                                                  \
        .name = file, .what = summary, .hint = tip, .compute = GR_ROOF_HBM, .check_shapes = REDUCE_SHAPES, \
        .bench_shape = GR_SHAPE(1L << 26), .declare = reduce_declare, .launch = launch_fn,              \
        .reference = reduce_reference, .tolerance = reduce_tolerance, .bytes = reduce_bytes,             \
        .library = reduce_library, .library_name = "CUB DeviceReduce::Sum"                             \
    }

static const gr_exercise EXERCISES[] = {
    TRANSPOSE_EXERCISE("01_transpose_naive", "transpose, one thread per element: coalesced reads, strided writes",
                       "out has cols rows of `rows` floats: out[c * rows + r] = in[r * cols + c]; guard r < rows, c < cols",
                       transpose_naive_launch),
    TRANSPOSE_EXERCISE("02_transpose_shared", "transpose through a 32x32 shared tile: both global accesses coalesced",
                       "after __syncthreads swap the block indices: the tile at block (bx, by) of in goes to block (by, bx) of out",
                       transpose_shared_launch),
    TRANSPOSE_EXERCISE("03_transpose_padded", "the shared-tile transpose with a padded tile: no bank conflicts",
                       "tile[32][33]: the write phase reads a column of the tile, and the padding spreads it over 32 banks",
                       transpose_padded_launch),
    REDUCE_EXERCISE("04_reduce_tree", "sum by shared-memory tree reduction, in passes",
                    "load 0 for indices >= n; the __syncthreads() of each step must be reached by every thread of the block",
                    reduce_tree_launch),
    REDUCE_EXERCISE("05_reduce_warp_shuffle", "sum by grid-stride float4 loads and warp shuffles, two launches",
                    "the float4 loop covers n/4 vectors, the tail loop the last n%4 elements; lanes >= WARPS add 0",
                    reduce_warp_shuffle_launch),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "ladder/03-memory", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
