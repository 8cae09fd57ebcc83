/* Session 01 check driver: describes each exercise to the grader.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 */
#include <math.h>

#include "exercises.h"
#include "grader.h"
#include "library.h"
#include "ref/references.h"

/* ---- shared by both matrix products ---- */

#define M_OF(s) ((s)->d[0])
#define N_OF(s) ((s)->d[1])
#define K_OF(s) ((s)->d[2])

static void matmul_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    gr_input(c, "A", GR_F32, (size_t)(M_OF(s) * K_OF(s)), GR_FILL_SIGNED);
    gr_input(c, "B", GR_F32, (size_t)(K_OF(s) * N_OF(s)), GR_FILL_SIGNED);
    gr_output(c, "C", GR_F32, (size_t)(M_OF(s) * N_OF(s)), N_OF(s));
    c->rows = M_OF(s);
}

static void matmul_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    ref_matmul(gr_in(c, "A"), gr_in(c, "B"), gr_ref(c, "C"), M_OF(s), N_OF(s), K_OF(s), r0, r1);
}

/* Each element is a K-term dot product summed in float32. With random signs the rounding errors
 * add up like a random walk: about eps * sqrt(K) relative to the result, with room to spare. */
static double matmul_tolerance(const gr_shape *s) { return GR_EPS_F32 * (4.0 * sqrt((double)K_OF(s)) + 4.0); }

/* 2 FLOP (a multiply and an add) per term, M*N*K terms. */
static double matmul_flops(const gr_shape *s) { return 2.0 * M_OF(s) * N_OF(s) * K_OF(s); }

/* At least: read A and B once, write C once. */
static double matmul_bytes(const gr_shape *s) {
    return 4.0 * ((double)M_OF(s) * K_OF(s) + (double)K_OF(s) * N_OF(s) + (double)M_OF(s) * N_OF(s));
}

static double matmul_freivalds(gr_case *c) {
    const gr_shape *s = &c->shape;
    return gr_freivalds_f32(gr_in(c, "A"), gr_in(c, "B"), gr_find(c, "C")->host, M_OF(s), N_OF(s), K_OF(s), c->seed);
}

static void matmul_library(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    gr_lib_sgemm((int)M_OF(s), (int)N_OF(s), (int)K_OF(s), 1.0f, gr_ptr(c, "A"), gr_ptr(c, "B"), 0.0f,
                 gr_ptr(c, "C"), stream);
}

/* ---- 01 matmul on the CPU ---- */

static void matmul_cpu_launch(gr_case *c, cudaStream_t stream) {
    (void)stream;
    const gr_shape *s = &c->shape;
    matmul_cpu(gr_ptr(c, "A"), gr_ptr(c, "B"), gr_ptr(c, "C"), (int)M_OF(s), (int)N_OF(s), (int)K_OF(s));
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
    matmul_naive(gr_ptr(c, "A"), gr_ptr(c, "B"), gr_ptr(c, "C"), (int)M_OF(s), (int)N_OF(s), (int)K_OF(s), stream);
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
        .declare = matmul_declare,
        .launch = matmul_cpu_launch,
        .reference = matmul_reference,
        .tolerance = matmul_tolerance,
        .flops = matmul_flops,
        .bytes = matmul_bytes,
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
        .declare = matmul_declare,
        .launch = matmul_naive_launch,
        .reference = matmul_reference,
        .tolerance = matmul_tolerance,
        .flops = matmul_flops,
        .bytes = matmul_bytes,
        .library = matmul_library,
        .library_name = "cuBLAS SGEMM",
        .extra_check = matmul_freivalds,
    },
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "ladder/01-gpu-vs-cpu", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
