/* Session 01 check driver: describes each exercise to the grader.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 */
#include "exercises.h"
#include "gemm.h"
#include "grader.h"
#include "library.h"
#include "ref/references.h"

/* ---- 01 matmul on the CPU ---- */

static void matmul_cpu_launch(gr_case *c, cudaStream_t stream) {
    (void)stream;
    const gr_shape *s = &c->shape;
    matmul_cpu(gr_ptr(c, "A"), gr_ptr(c, "B"), gr_ptr(c, "C"), (int)GR_GEMM_M(s), (int)GR_GEMM_N(s), (int)GR_GEMM_K(s));
}

/* ---- 02 vector add ---- */

static void vector_add_declare(gr_case *c) {
    size_t n = (size_t)c->shape.d[0];
    gr_input(c, "x", GR_F32, n, GR_FILL_SIGNED);
    gr_input(c, "y", GR_F32, n, GR_FILL_SIGNED);
    gr_output(c, "z", GR_F32, n, 1);
    c->rows = (long)n;
}

static void vector_add_launch(gr_case *c, cudaStream_t stream) {
    vector_add(gr_ptr(c, "x"), gr_ptr(c, "y"), gr_ptr(c, "z"), c->shape.d[0], stream);
}

static void vector_add_reference(gr_case *c, long r0, long r1) {
    ref_axpby(gr_in(c, "x"), gr_in(c, "y"), 1.0f, 1.0f, gr_ref(c, "z"), r0, r1);
}

/* One float32 addition, correctly rounded on both sides: the results should agree exactly. */
static double vector_add_tolerance(const gr_shape *s) { (void)s; return 2 * GR_EPS_F32; }

/* Read x and y, write z: 12 bytes per element. */
static double vector_add_bytes(const gr_shape *s) { return 12.0 * s->d[0]; }

static void vector_add_library(gr_case *c, cudaStream_t stream) {
    gr_lib_axpby(c->shape.d[0], 1.0f, gr_ptr(c, "x"), 1.0f, gr_ptr(c, "y"), gr_ptr(c, "z"), stream);
}

/* ---- 03 naive matmul on the GPU ---- */

static void matmul_naive_launch(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    matmul_naive(gr_ptr(c, "A"), gr_ptr(c, "B"), gr_ptr(c, "C"), (int)GR_GEMM_M(s), (int)GR_GEMM_N(s), (int)GR_GEMM_K(s),
                 stream);
}

static const gr_exercise EXERCISES[] = {
    {
        .name = "01_matmul_cpu",
        .what = "C = A * B on the CPU, three loops",
        .hint = "C[i*N + j] is the sum over k of A[i*K + k] * B[k*N + j]; start the sum at 0 for every (i, j)",
        .on_host = true,
        .compute = GR_ROOF_FP32,
        .check_shapes = {GR_SHAPE(1, 1, 1), GR_SHAPE(2, 2, 2), GR_SHAPE(17, 17, 17), GR_SHAPE(64, 33, 100),
                         GR_SHAPE(127, 1, 65)},
        .bench_shape = GR_SHAPE(512, 512, 512),
        .declare = gr_matmul_declare,
        .launch = matmul_cpu_launch,
        GR_MATMUL_REF,
        .tolerance = gr_gemm_tolerance,
        .flops = gr_gemm_flops,
        .bytes = gr_matmul_bytes,
    },
    {
        .name = "02_vector_add",
        .what = "z = x + y, one thread per element",
        .hint = "every element needs a thread: blocks = ceil(n / threads), and guard the tail with if (i < n)",
        .compute = GR_ROOF_HBM,
        .check_shapes = {GR_SHAPE(1), GR_SHAPE(17), GR_SHAPE(127), GR_SHAPE(1000), GR_SHAPE(1 << 20),
                         GR_SHAPE((1 << 20) + 3)},
        .bench_shape = GR_SHAPE(1L << 26),
        .declare = vector_add_declare,
        .launch = vector_add_launch,
        .reference = vector_add_reference,
        .tolerance = vector_add_tolerance,
        .bytes = vector_add_bytes,
        .library = vector_add_library,
        .library_name = "cublasSgeam",
    },
    {
        .name = "03_matmul_naive",
        .what = "C = A * B on the GPU, one thread per element of C",
        .hint = "row from the y indices, column from the x ones; skip threads with row >= M or col >= N",
        .compute = GR_ROOF_FP32,
        .check_shapes = {GR_SHAPE(1, 1, 1), GR_SHAPE(17, 17, 17), GR_SHAPE(127, 65, 33), GR_SHAPE(33, 127, 1),
                         GR_SHAPE(1000, 256, 300)},
        .bench_shape = GR_SHAPE(2048, 2048, 2048),
        .declare = gr_matmul_declare,
        .launch = matmul_naive_launch,
        GR_MATMUL_REF,
        .tolerance = gr_gemm_tolerance,
        .flops = gr_gemm_flops,
        .bytes = gr_matmul_bytes,
        .library = gr_matmul_library,
        .library_name = "cuBLAS SGEMM",
        .extra_check = gr_gemm_freivalds,
    },
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "ladder/01-gpu-vs-cpu", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
