/* Matrix-product exercises: buffers, references, counts and library yardsticks. */
#include "gemm.h"

#include <math.h>

#include "library.h"
#include "ref/references.h"

#define M_OF GR_GEMM_M
#define N_OF GR_GEMM_N
#define K_OF GR_GEMM_K

double gr_gemm_flops(const gr_shape *s) { return 2.0 * M_OF(s) * N_OF(s) * K_OF(s); }

double gr_gemm_tolerance(const gr_shape *s) { return GR_EPS_F32 * (4.0 * sqrt((double)K_OF(s)) + 4.0); }

/* Works for all three: A and B widened to float32, C read back as float32, C's initial values
 * and alpha, beta where the exercise has them. */
double gr_gemm_freivalds(gr_case *c) {
    const gr_shape *s = &c->shape;
    const gr_buffer *C = gr_find(c, "C");
    float alpha = C->is_inout ? GR_SGEMM_ALPHA(c) : 1.0f, beta = C->is_inout ? GR_SGEMM_BETA(c) : 0.0f;
    return gr_freivalds_gemm_f32(gr_in_f32(c, "A"), gr_in_f32(c, "B"), C->is_inout ? gr_in(c, "C") : NULL, alpha,
                                 beta, C->host, M_OF(s), N_OF(s), K_OF(s), c->check_seed);
}

/* ---- C = A * B, FP32 ---- */

void gr_matmul_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    gr_input(c, "A", GR_F32, (size_t)(M_OF(s) * K_OF(s)), GR_FILL_SIGNED);
    gr_input(c, "B", GR_F32, (size_t)(K_OF(s) * N_OF(s)), GR_FILL_SIGNED);
    gr_output(c, "C", GR_F32, (size_t)(M_OF(s) * N_OF(s)), N_OF(s));
    c->rows = M_OF(s);
}

void gr_matmul_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    ref_gemm_scaled(gr_in_f32(c, "A"), gr_in_f32(c, "B"), NULL, 1.0f, 0.0f, gr_ref(c, "C"), gr_scale(c, "C"), M_OF(s),
                    N_OF(s), K_OF(s), r0, r1);
}

void gr_matmul_reference_rows(gr_case *c, const long *rows, long n_rows) {
    const gr_shape *s = &c->shape;
    ref_gemm_scaled_rows(gr_in_f32(c, "A"), gr_in_f32(c, "B"), NULL, 1.0f, 0.0f, gr_ref(c, "C"), gr_scale(c, "C"),
                         N_OF(s), K_OF(s), rows, n_rows);
}

/* At least: read A and B once, write C once. */
double gr_matmul_bytes(const gr_shape *s) {
    return 4.0 * ((double)M_OF(s) * K_OF(s) + (double)K_OF(s) * N_OF(s) + (double)M_OF(s) * N_OF(s));
}

void gr_matmul_library(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    gr_lib_sgemm((int)M_OF(s), (int)N_OF(s), (int)K_OF(s), 1.0f, gr_ptr(c, "A"), gr_ptr(c, "B"), 0.0f,
                 gr_ptr(c, "C"), stream);
}

/* ---- C = alpha * A * B + beta * C, FP32 ---- */

void gr_sgemm_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    gr_input(c, "A", GR_F32, (size_t)(M_OF(s) * K_OF(s)), GR_FILL_SIGNED);
    gr_input(c, "B", GR_F32, (size_t)(K_OF(s) * N_OF(s)), GR_FILL_SIGNED);
    gr_inout(c, "C", GR_F32, (size_t)(M_OF(s) * N_OF(s)), N_OF(s), GR_FILL_SIGNED);
    /* Fresh scalars every run; beta stays inside (-1, 1) so that repeated timed launches, each
     * updating C in place, keep C bounded. */
    c->param[0] = (float)gr_random_uniform(c, 0.5, 2.0);
    c->param[1] = (float)gr_random_uniform(c, -0.9, 0.9);
    c->rows = M_OF(s);
}

void gr_sgemm_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    ref_gemm_scaled(gr_in_f32(c, "A"), gr_in_f32(c, "B"), gr_in(c, "C"), GR_SGEMM_ALPHA(c), GR_SGEMM_BETA(c),
                    gr_ref(c, "C"), gr_scale(c, "C"), M_OF(s), N_OF(s), K_OF(s), r0, r1);
}

void gr_sgemm_reference_rows(gr_case *c, const long *rows, long n_rows) {
    const gr_shape *s = &c->shape;
    ref_gemm_scaled_rows(gr_in_f32(c, "A"), gr_in_f32(c, "B"), gr_in(c, "C"), GR_SGEMM_ALPHA(c), GR_SGEMM_BETA(c),
                         gr_ref(c, "C"), gr_scale(c, "C"), N_OF(s), K_OF(s), rows, n_rows);
}

void gr_sgemm_run(gr_sgemm_launcher fn, gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    fn((int)M_OF(s), (int)N_OF(s), (int)K_OF(s), GR_SGEMM_ALPHA(c), gr_ptr(c, "A"), gr_ptr(c, "B"), GR_SGEMM_BETA(c),
       gr_ptr(c, "C"), stream);
}

/* Read A and B once; read and write C once. */
double gr_sgemm_bytes(const gr_shape *s) {
    return 4.0 * ((double)M_OF(s) * K_OF(s) + (double)K_OF(s) * N_OF(s) + 2.0 * M_OF(s) * N_OF(s));
}

void gr_sgemm_library(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    gr_lib_sgemm((int)M_OF(s), (int)N_OF(s), (int)K_OF(s), GR_SGEMM_ALPHA(c), gr_ptr(c, "A"), gr_ptr(c, "B"),
                 GR_SGEMM_BETA(c), gr_ptr(c, "C"), stream);
}

/* ---- C = A * B, BF16 inputs, FP32 accumulate and output ---- */

void gr_bf16_gemm_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    gr_input(c, "A", GR_BF16, (size_t)(M_OF(s) * K_OF(s)), GR_FILL_SIGNED);
    gr_input(c, "B", GR_BF16, (size_t)(K_OF(s) * N_OF(s)), GR_FILL_SIGNED);
    gr_output(c, "C", GR_F32, (size_t)(M_OF(s) * N_OF(s)), N_OF(s));
    c->rows = M_OF(s);
}

/* 2 bytes per element of A and B read once, 4 per element of C written once. */
double gr_bf16_gemm_bytes(const gr_shape *s) {
    return 2.0 * ((double)M_OF(s) * K_OF(s) + (double)K_OF(s) * N_OF(s)) + 4.0 * M_OF(s) * N_OF(s);
}

double gr_bf16_gemm_tolerance(const gr_shape *s) { return 4.0 * gr_gemm_tolerance(s); }

void gr_bf16_gemm_library(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    gr_lib_gemm_bf16((int)M_OF(s), (int)N_OF(s), (int)K_OF(s), gr_ptr(c, "A"), gr_ptr(c, "B"), gr_ptr(c, "C"), stream);
}

/* ---- C = A * B^T, BF16 in and out, FP32 accumulate: a linear layer ---- */

void gr_bf16_gemm_nt_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    gr_input(c, "A", GR_BF16, (size_t)(M_OF(s) * K_OF(s)), GR_FILL_SIGNED);
    gr_input(c, "B", GR_BF16, (size_t)(N_OF(s) * K_OF(s)), GR_FILL_SIGNED);
    gr_output(c, "C", GR_BF16, (size_t)(M_OF(s) * N_OF(s)), N_OF(s));
    c->rows = M_OF(s);
}

/* The exact product (kept in float32, not rounded to BF16), and no gr_scale: see the tolerance. */
void gr_bf16_gemm_nt_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    ref_gemm_nt(gr_in_f32(c, "A"), gr_in_f32(c, "B"), gr_ref(c, "C"), M_OF(s), N_OF(s), K_OF(s), r0, r1);
}

void gr_bf16_gemm_nt_reference_rows(gr_case *c, const long *rows, long n_rows) {
    const gr_shape *s = &c->shape;
    ref_gemm_nt_rows(gr_in_f32(c, "A"), gr_in_f32(c, "B"), gr_ref(c, "C"), N_OF(s), K_OF(s), rows, n_rows);
}

/* The error of a correct kernel, measured against the result itself (||out-ref|| / ||ref||):
 *  - Rounding each output to BF16 (8 significant bits, round to nearest) moves it by at most 2^-8
 *    of itself, so ||out - ref|| <= 2^-8 ||ref|| whatever the inputs. (Truncating errs by up to
 *    2^-7: on average it stays under the tolerance, but outputs of a few elements fail it in
 *    about one run of five.)
 *  - The FP32 accumulation errs by at most eps of the running sum at each of at most K steps; with
 *    random signs the running sums stay about the size of the result, so K eps of it is ample.
 * Against the terms instead (sum |a||b|, as session 06 measures its FP32 output), the rounding looks
 * sqrt(K) times smaller for random signs: a tolerance that holds for any inputs would then pass a
 * C rounded to 4 bits at K = 4096, and one fitted to random inputs would fail Freivalds' check,
 * which measures against ||C x||. */
double gr_bf16_gemm_nt_tolerance(const gr_shape *s) { return 0x1p-8 + GR_EPS_F32 * (double)K_OF(s); }

/* 2 bytes per element of A, B and C, each moved once. */
double gr_bf16_gemm_nt_bytes(const gr_shape *s) {
    return 2.0 * ((double)M_OF(s) * K_OF(s) + (double)N_OF(s) * K_OF(s) + (double)M_OF(s) * N_OF(s));
}

double gr_bf16_gemm_nt_freivalds(gr_case *c) {
    const gr_shape *s = &c->shape;
    const gr_buffer *C = gr_find(c, "C");
    return gr_freivalds_nt(gr_in_f32(c, "A"), gr_in_f32(c, "B"), C->host, C->dtype, M_OF(s), N_OF(s), K_OF(s),
                           c->check_seed);
}

void gr_bf16_gemm_nt_library(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    gr_lib_gemm_bf16_nt((int)M_OF(s), (int)N_OF(s), (int)K_OF(s), gr_ptr(c, "A"), gr_ptr(c, "B"), gr_ptr(c, "C"),
                        stream);
}

const char *gr_bf16_gemm_nt_library_label(const gr_shape *s) {
    return gr_lib_gemm_bf16_nt_name((int)M_OF(s), (int)N_OF(s), (int)K_OF(s));
}
