/* A check driver for tests/python-test.sh: the embedded interpreter (grader/python/host.c) end to
 * end, on the CPU. Each exercise is a file of fixtures/ whose launch(y) gets the host buffer y;
 * Python cannot write it (no ctypes), so the best a file can earn is FAIL ("unwritten"): what is
 * tested is that every other file gets the verdict and the one line it should. */
#include "grader.h"
#include "python/host.h"

static void declare(gr_case *c) {
    gr_input(c, "x", GR_F32, 4, GR_FILL_SIGNED);
    gr_output(c, "y", GR_F32, 4, 4);
    c->rows = 1;
}

static void reference(gr_case *c, long r0, long r1) {
    const float *x = gr_in(c, "x");
    float *y = gr_ref(c, "y");
    for (long r = r0; r < r1; r++)
        for (int i = 0; i < 4; i++) y[i] = 2.0f * x[i];
}

static double tolerance(const gr_shape *s) { (void)s; return 1e-6; }

static void launch(gr_case *c, cudaStream_t stream) {
    gr_py_arg args[] = {GR_PY_BUFFER("y", 2, 2), GR_PY_INT(7)};
    gr_py_launch(c, stream, args, 2);
}

/* A launcher that names its stream (the CuTe DSL's): without the DSL loaded, the stream's number. */
static void launch_with_stream(gr_case *c, cudaStream_t stream) {
    gr_py_arg args[] = {GR_PY_BUFFER("y", 2, 2), GR_PY_INT(7), GR_PY_STREAM};
    gr_py_launch(c, stream, args, 3);
}

#define FIXTURE_WITH(file, launcher) \
    {.name = file, .what = "fixture " file, .on_host = true, .check_shapes = {GR_SHAPE(4)}, .declare = declare, \
     .launch = launcher, .reference = reference, .tolerance = tolerance, .open = gr_py_open}
#define FIXTURE(file) FIXTURE_WITH(file, launch)

static const gr_exercise EXERCISES[] = {
    FIXTURE("01_noop"), FIXTURE("02_torch"), FIXTURE("03_raises"), FIXTURE("04_syntax"), FIXTURE("05_no_launch"),
    FIXTURE("06_absent"), FIXTURE("07_raises_on_load"), FIXTURE("08_import_at_run_time"), FIXTURE("09_two_args"),
    FIXTURE("10_hangs_on_load"), FIXTURE("11_prints"), FIXTURE("12_recursion"),
    FIXTURE_WITH("13_stream", launch_with_stream),
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "tests/python", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
