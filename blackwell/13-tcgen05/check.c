/* Session 13's Blackwell-only check driver: the NVFP4 GEMM on tcgen05 (sm_100a: B200, GB200).
 *
 *   make check              grade your file (on a Blackwell GPU; elsewhere one line says it needs one)
 *   make check SOLUTION=1   grade the hidden solution
 *   make sass EX=07_tcgen05_gemm   the tcgen05 instructions in your kernel (no GPU needed)
 *
 * The reference and the inputs are the session's (grader/nvfp4.h): the dot product of a row of A
 * with a row of B is exactly the GEMV's, and the scales are drawn as for the GEMV. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exercises.h"
#include "grader.h"
#include "nvfp4.h"

/* Shape (M, N, K). */
#define GM(s) ((s)->d[0])
#define GN(s) ((s)->d[1])
#define GK(s) ((s)->d[2])

static void gemm_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    gr_input(c, "a", GR_U8, (size_t)(GM(s) * GK(s) / 2), GR_FILL_BYTES);
    gr_input(c, "sfa", GR_U8, (size_t)(GM(s) * GK(s) / FP4_BLOCK), GR_FILL_BYTES);
    gr_input(c, "b", GR_U8, (size_t)(GN(s) * GK(s) / 2), GR_FILL_BYTES);
    gr_input(c, "sfb", GR_U8, (size_t)(GN(s) * GK(s) / FP4_BLOCK), GR_FILL_BYTES);
    gr_output(c, "D", GR_F32, (size_t)(GM(s) * GN(s)), GN(s));
    c->rows = GM(s);
}

/* Row m of D: each element the exact sum (nvfp4.h), its magnitude the sum of the terms' sizes. */
static void gemm_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    const long N = GN(s), K = GK(s);
    const uint8_t *a = gr_in(c, "a"), *sfa = gr_in(c, "sfa"), *b = gr_in(c, "b"), *sfb = gr_in(c, "sfb");
    float *ref = gr_ref(c, "D"), *scale = gr_scale(c, "D");
    for (long m = r0; m < r1; m++)
        for (long n = 0; n < N; n++) {
            double mag;
            ref[m * N + n] = (float)fp4_gemv_dot(a + m * (K / 2), sfa + m * (K / FP4_BLOCK), b + n * (K / 2),
                                                 sfb + n * (K / FP4_BLOCK), K, &mag);
            if (scale) scale[m * N + n] = (float)mag;
        }
}

static void gemm_launch(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    nvfp4_gemm_tcgen05(gr_ptr(c, "a"), gr_ptr(c, "sfa"), gr_ptr(c, "b"), gr_ptr(c, "sfb"), gr_ptr(c, "D"), (int)GM(s),
                       (int)GN(s), (int)GK(s), stream);
}

/* Every product of two e2m1 values and two e4m3 scales is exact in FP32; what a right kernel gets
 * wrong is the order and precision of its FP32 sums, about sqrt(K) 2^-24 of the output. 2^-11 of
 * ||D|| leaves the tensor core room for its own summation order, and a single scale taken from the
 * wrong block (off by 2x or more, grader/nvfp4_check.c) is still far outside it. */
static double gemm_tolerance(const gr_shape *s) {
    (void)s;
    return ldexp(1.0, -11);
}
static double gemm_flops(const gr_shape *s) { return 2.0 * GM(s) * GN(s) * GK(s); }
/* A and B read once (half a byte a value), their scales once (a byte per 16), D written once in FP32. */
static double gemm_bytes(const gr_shape *s) {
    return (GM(s) + GN(s)) * (GK(s) / 2.0 + GK(s) / (double)FP4_BLOCK) + 4.0 * GM(s) * GN(s);
}

static const gr_exercise EXERCISES[] = {
    {.name = "07_tcgen05_gemm",
     .what = "NVFP4 GEMM D = A * B^T on tcgen05: scales in tensor memory, FP32 accumulator in tensor memory",
     .hint = "one MMA is 128 x 128 x 64: 32 bytes of each row and one 4-byte word of its scales; the first MMA must not accumulate",
     .compute = GR_ROOF_FP4,
     .check_shapes = {GR_SHAPE(128, 128, 256), GR_SHAPE(128, 256, 512), GR_SHAPE(256, 128, 256),
                      GR_SHAPE(384, 640, 1024), GR_SHAPE(256, 256, 4096), GR_SHAPE(1024, 128, 768)},
     .bench_shape = GR_SHAPE(8192, 8192, 8192), .declare = gemm_declare, .adjust_inputs = fp4_gemv_adjust,
     .launch = gemm_launch, .reference = gemm_reference, .tolerance = gemm_tolerance, .flops = gemm_flops,
     .bytes = gemm_bytes},
};
#define N_EXERCISES ((int)(sizeof EXERCISES / sizeof EXERCISES[0]))

/* The kernel takes whole tiles and whole K steps only (exercises.h); NULL when the shape is fine. */
static const char *shape_refused(const gr_shape *s) {
    if (GM(s) < TC_TILE_M || GM(s) % TC_TILE_M || GN(s) < TC_TILE_N || GN(s) % TC_TILE_N)
        return "M and N must be multiples of 128 (whole 128 x 128 tiles of D)";
    if (GK(s) < TC_STEP_K || GK(s) % TC_STEP_K) return "K must be a multiple of 256 (whole steps of four K = 64 MMAs)";
    return NULL;
}

int main(int argc, char **argv) {
    /* A shape the kernel cannot take is this driver's mistake, said before anything runs. */
    for (int i = 0; i < N_EXERCISES; i++) {
        const gr_exercise *ex = &EXERCISES[i];
        for (int j = 0; j <= GR_MAX_SHAPES; j++) {
            const gr_shape *s = j < GR_MAX_SHAPES ? &ex->check_shapes[j] : &ex->bench_shape;
            const char *why = s->rank ? shape_refused(s) : NULL;
            if (why) {
                fprintf(stderr, "blackwell/13-tcgen05: %s cannot run at (%ld, %ld, %ld): %s\n", ex->name, GM(s), GN(s),
                        GK(s), why);
                return 2;
            }
        }
    }
    return gr_main(argc, argv, "blackwell/13-tcgen05", EXERCISES, N_EXERCISES);
}
