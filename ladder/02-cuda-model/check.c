/* Session 02 check driver: describes each exercise to the grader.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 */
#include "exercises.h"
#include "grader.h"
#include "library.h"
#include "ref/references.h"

/* ---- 01 rgb to grey: shape (width, height) ---- */

static void grey_declare(gr_case *c) {
    long w = c->shape.d[0], h = c->shape.d[1];
    gr_input(c, "rgb", GR_U8, (size_t)(3 * w * h), GR_FILL_BYTES);
    gr_output(c, "grey", GR_F32, (size_t)(w * h), w);
    c->rows = h;
}

static void grey_launch(gr_case *c, cudaStream_t stream) {
    rgb_to_grey(gr_ptr(c, "rgb"), gr_ptr(c, "grey"), (int)c->shape.d[0], (int)c->shape.d[1], stream);
}

static void grey_reference(gr_case *c, long r0, long r1) {
    long w = c->shape.d[0];
    ref_rgb_to_grey(gr_in(c, "rgb"), gr_ref(c, "grey"), r0 * w, r1 * w);
}

/* Three products and two sums of exactly representable bytes, rounded weights and one division:
 * a few float32 roundings, each at most half an ulp. */
static double grey_tolerance(const gr_shape *s) { (void)s; return 8 * GR_EPS_F32; }

/* Three bytes read and one float written per pixel. */
static double grey_bytes(const gr_shape *s) { return 7.0 * s->d[0] * s->d[1]; }

/* ---- 02 and 03 saxpy: shape (n) ---- */

static void saxpy_declare(gr_case *c) {
    size_t n = (size_t)c->shape.d[0];
    gr_input(c, "x", GR_F32, n, GR_FILL_SIGNED);
    gr_input(c, "y", GR_F32, n, GR_FILL_SIGNED);
    gr_output(c, "z", GR_F32, n, 1);
    c->param[0] = (float)gr_random_uniform(c, -2.0, 2.0);  /* a fresh a every run */
    c->rows = (long)n;
}

static void saxpy_grid_stride_launch(gr_case *c, cudaStream_t stream) {
    saxpy_grid_stride((float)c->param[0], gr_ptr(c, "x"), gr_ptr(c, "y"), gr_ptr(c, "z"), c->shape.d[0], stream);
}

static void saxpy_vectorized_launch(gr_case *c, cudaStream_t stream) {
    saxpy_vectorized((float)c->param[0], gr_ptr(c, "x"), gr_ptr(c, "y"), gr_ptr(c, "z"), c->shape.d[0], stream);
}

static void saxpy_reference(gr_case *c, long r0, long r1) {
    ref_axpby(gr_in(c, "x"), gr_in(c, "y"), (float)c->param[0], 1.0f, gr_ref(c, "z"), r0, r1);
}

/* A multiply and an add, fused (one rounding) or not (two): a couple of ulps at most. */
static double saxpy_tolerance(const gr_shape *s) { (void)s; return 4 * GR_EPS_F32; }

/* Read x and y, write z. */
static double saxpy_bytes(const gr_shape *s) { return 12.0 * s->d[0]; }

static void saxpy_library(gr_case *c, cudaStream_t stream) {
    gr_lib_axpby(c->shape.d[0], (float)c->param[0], gr_ptr(c, "x"), 1.0f, gr_ptr(c, "y"), gr_ptr(c, "z"), stream);
}

/* Sizes: tiny and odd ones, one past what a single wave of threads covers (about 270 thousand
 * threads on an H100), and one whose float4 count passes it too. */
#define SAXPY_SHAPES                                                                                   \
    {GR_SHAPE(1), GR_SHAPE(3), GR_SHAPE(17), GR_SHAPE(127), GR_SHAPE(1000), GR_SHAPE((1 << 20) + 3),     \
     GR_SHAPE((1 << 22) + 1)}

/* The two saxpy exercises differ in name, summary, hint and launch only. */
#define SAXPY_EXERCISE(file, summary, tip, launch_fn)                                                  \
    {                                                                                                  \
        .name = file, .what = summary, .hint = tip, .compute = GR_ROOF_HBM, .check_shapes = SAXPY_SHAPES, \
        .bench_shape = GR_SHAPE(1L << 26), .declare = saxpy_declare, .launch = launch_fn,               \
        .reference = saxpy_reference, .tolerance = saxpy_tolerance, .bytes = saxpy_bytes,                \
        .library = saxpy_library, .library_name = "cublasSgeam"                                        \
    }

static const gr_exercise EXERCISES[] = {
    {
        .name = "01_rgb_to_grey",
        .what = "8-bit RGB to float grey, one thread per pixel on a 2D grid",
        .hint = "x = column, y = row; skip threads with x >= width or y >= height; pixel p's bytes start at rgb[3*p]",
        .compute = GR_ROOF_HBM,
        .check_shapes = {GR_SHAPE(1, 1), GR_SHAPE(17, 17), GR_SHAPE(127, 33), GR_SHAPE(1000, 3), GR_SHAPE(3, 1000),
                         GR_SHAPE(640, 480), GR_SHAPE(1921, 1081)},
        .bench_shape = GR_SHAPE(7680, 4320),
        .declare = grey_declare,
        .launch = grey_launch,
        .reference = grey_reference,
        .tolerance = grey_tolerance,
        .bytes = grey_bytes,
    },
    SAXPY_EXERCISE("02_saxpy_grid_stride", "z = a*x + y, a fixed grid and a grid-stride loop",
                   "for (long i = first; i < n; i += gridDim.x * (long)blockDim.x): the grid is smaller than n",
                   saxpy_grid_stride_launch),
    SAXPY_EXERCISE("03_saxpy_vectorized", "z = a*x + y with float4 loads and stores, scalar tail",
                   "the float4 loop covers n/4 vectors; elements 4*(n/4) .. n-1 still need a scalar loop",
                   saxpy_vectorized_launch),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "ladder/02-cuda-model", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
