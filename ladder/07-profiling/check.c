/* Session 07 check driver: the given slow softmax, to profile, and the fast one you write.
 *
 *   make check                        grade your file; the given kernel is timed beside it
 *   make check SOLUTION=1             grade the hidden solution
 *   make profile EX=00_softmax_slow   Nsight Compute's key numbers for one exercise's kernels
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "exercises.h"
#include "grader.h"

/* ---- row softmax: shape (rows, cols) ---- */

static void softmax_declare(gr_case *c) {
    long rows = c->shape.d[0], cols = c->shape.d[1];
    /* Values in [-1, 1) around an offset of the row's own (softmax_offset_rows): every
     * exp(x - max) lies in [e^-2, 1], so no term is negligible and a lost or doubled element shows
     * in the sum. */
    gr_input(c, "x", GR_F32, (size_t)(rows * cols), GR_FILL_SIGNED);
    gr_output(c, "out", GR_F32, (size_t)(rows * cols), cols);
    c->rows = rows;
}

/* Each row moves by an offset in [-100, 100). Softmax ignores it, but a kernel that forgets to
 * subtract the row's maximum overflows exp (e^89 is past float32's range) or underflows the whole
 * sum to zero, and fails. x - max stays exact: both are close to the offset (Sterbenz). */
static void softmax_offset_rows(gr_case *c) {
    long rows = c->shape.d[0], cols = c->shape.d[1];
    float *x = (float *)gr_in(c, "x");
    for (long r = 0; r < rows; r++) {
        float offset = (float)gr_random_uniform(c, -100.0, 100.0);
        for (long k = 0; k < cols; k++) x[r * cols + k] += offset;
    }
}

#define SOFTMAX_LAUNCH(fn)                                                                             \
    static void fn##_launch(gr_case *c, cudaStream_t stream) {                                         \
        fn(gr_ptr(c, "x"), gr_ptr(c, "out"), (int)c->shape.d[0], (int)c->shape.d[1], stream);           \
    }
SOFTMAX_LAUNCH(softmax_slow)
SOFTMAX_LAUNCH(softmax_fast)

/* The CPU reference, rows [r0, r1): the row's maximum, then exp(x - max) and their sum in float64,
 * then each exp over the sum, rounded once to float32. */
static void softmax_reference(gr_case *c, long r0, long r1) {
    const float *x = gr_in(c, "x");
    float *out = gr_ref(c, "out");
    const long cols = c->shape.d[1];
    double *e = malloc(sizeof(double) * (size_t)cols);
    if (!e) { fprintf(stderr, "check: out of host memory for the softmax reference\n"); exit(70); }
    for (long r = r0; r < r1; r++) {
        const float *xr = x + r * cols;
        double m = xr[0], s = 0;
        for (long k = 1; k < cols; k++) m = xr[k] > m ? xr[k] : m;
        for (long k = 0; k < cols; k++) s += e[k] = exp((double)xr[k] - m);
        for (long k = 0; k < cols; k++) out[r * cols + k] = (float)(e[k] / s);
    }
    free(e);
}

/* What float32 arithmetic costs, relative to each output (inputs in [-1, 1), so |x - max| < 2):
 *   - x - max rounds by up to eps in absolute terms, which exp turns into up to eps relative;
 *     exp itself (expf, or __expf's ex2.approx at these arguments) adds 2 to 3 eps;
 *   - the row sum of cols positive terms: a tree of depth log2(cols) errs by about
 *     log2(cols) * eps / 2; each thread first adding a few hundred terms in a loop, and every
 *     rescaling of an online sum by exp(m_old - m_new), add a few eps more;
 *   - the reciprocal or division and the last product: eps.
 * We allow 4 eps per level of a log2(cols)-deep tree plus 8 levels' worth for the rest, the same
 * rule as session 03's sums. It leaves room for the slow kernel's 64-thread chunks and for one
 * warp per row; a sum that loses or doubles a single term of a row is off by about 1/cols, far
 * above this for every checked size. */
static double softmax_tolerance(const gr_shape *s) { return 4.0 * GR_EPS_F32 * (log2((double)s->d[1]) + 8.0); }

/* Each element read once and written once: the minimum any softmax must move. A kernel that
 * reads x twice moves more, and its percent of peak shows it. */
static double softmax_bytes(const gr_shape *s) { return 8.0 * s->d[0] * s->d[1]; }

/* One element; one row shorter than a warp; short, odd and long rows; a row of 12289 floats
 * (not a multiple of 4, longer than any register tile: read twice); 257 and 4095 columns (no
 * float4; the second fills the largest scalar tile). Then shapes that reach more tiles of 01's
 * launcher: 128, 2048 and 16384 columns (float4, one warp or one block per row, the largest tile
 * held in registers) and 20000 (float4, streamed). */
#define SOFTMAX_SHAPES                                                                                 \
    {GR_SHAPE(1, 1), GR_SHAPE(1, 17), GR_SHAPE(17, 1000), GR_SHAPE(127, 33), GR_SHAPE(3, 4096),          \
     GR_SHAPE(5, 12289), GR_SHAPE(1000, 257), GR_SHAPE(3, 4095), GR_SHAPE(33, 128), GR_SHAPE(64, 2048),    \
     GR_SHAPE(9, 16384), GR_SHAPE(2, 20000)}

/* The two exercises differ in name, summary, hint, launch, and whether the session gives it. */
#define SOFTMAX_EXERCISE(file, summary, tip, launch_fn, is_given)                                      \
    {                                                                                                  \
        .name = file, .what = summary, .hint = tip, .given = is_given, .compute = GR_ROOF_HBM,         \
        .check_shapes = SOFTMAX_SHAPES, .bench_shape = GR_SHAPE(16384, 4096), .declare = softmax_declare, \
        .adjust_inputs = softmax_offset_rows, .launch = launch_fn, .reference = softmax_reference,     \
        .tolerance = softmax_tolerance, .bytes = softmax_bytes                                         \
    }

static const gr_exercise EXERCISES[] = {
    SOFTMAX_EXERCISE("00_softmax_slow", "given: a correct row softmax with five classic faults, the kernel to profile",
                     "given code: if it fails, given/softmax_slow.cu was edited; compare it with the original",
                     softmax_slow_launch, true),
    SOFTMAX_EXERCISE("01_softmax_fast", "row softmax: coalesced float4 loads, online max and sum in one pass, one pass to write",
                     "merge (m1,s1) and (m2,s2) as m = max(m1,m2), s = s1*exp(m1-m) + s2*exp(m2-m); a partial "
                     "with m = -inf adds nothing",
                     softmax_fast_launch, false),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "ladder/07-profiling", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
