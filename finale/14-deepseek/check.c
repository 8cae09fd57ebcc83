/* Session 14 check driver: the finale's kernels, each judged against its roof.
 *
 *   make check              grade your files
 *   make check SOLUTION=1   grade the hidden solutions
 *
 * What each exercise reads and writes, its reference and its byte count: grader/finale_mla.h (01)
 * grader/finale.h (02, 04) and grader/finale_fp8.h (03). */
#include "exercises.h"
#include "finale.h"
#include "finale_fp8.h"
#include "finale_mla.h"
#include "grader.h"
#include "library.h"

#define S(i) ((int)c->shape.d[i])

static void mla_launch(gr_case *c, cudaStream_t s) {
    mla_decode(gr_ptr(c, "q"), gr_ptr(c, "kv_cache"), gr_ptr(c, "block_table"), gr_ptr(c, "seq_len"),
               (int)c->param[1], (float)c->param[0], gr_ptr(c, "out"), S(0), S(1), S(2), S(3), S(4),
               gr_ptr(c, "work"), s);
}
static void route_launch(gr_case *c, cudaStream_t s) {
    moe_route(gr_ptr(c, "logits"), gr_ptr(c, "bias"), S(0), S(1), S(2), gr_ptr(c, "topk_idx"),
              gr_ptr(c, "topk_weight"), gr_ptr(c, "expert_count"), gr_ptr(c, "expert_offset"), gr_ptr(c, "perm"),
              gr_ptr(c, "inv_perm"), s);
}
static void fp8_contiguous_launch(gr_case *c, cudaStream_t s) {
    fp8_grouped_gemm_contiguous(gr_ptr(c, "A"), gr_ptr(c, "sa"), gr_ptr(c, "B"), gr_ptr(c, "sb"), gr_ptr(c, "D"),
                                gr_ptr(c, "group_offset"), S(0), S(1), S(2), S(3), s);
}
/* The yardstick of the contiguous layout: cuBLASLt's dense FP8 GEMM on the same M x N x K (all M
 * rows against group 0's weights, unit scales), into D. */
static void fp8_dense_library(gr_case *c, cudaStream_t s) {
    gr_lib_gemm_fp8_nt(S(1), S(2), S(3), gr_ptr(c, "A"), gr_ptr(c, "B"), gr_ptr(c, "D"), s);
}
static bool fp8_dense_available(const gr_shape *s) {
    return gr_lib_gemm_fp8_nt_available((int)s->d[1], (int)s->d[2], (int)s->d[3]);
}
static void fp8_masked_launch(gr_case *c, cudaStream_t s) {
    fp8_grouped_gemm_masked(gr_ptr(c, "A"), gr_ptr(c, "sa"), gr_ptr(c, "B"), gr_ptr(c, "sb"), gr_ptr(c, "D"),
                            gr_ptr(c, "masked_m"), S(0), S(1), S(2), S(3), s);
}
static void greedy_launch(gr_case *c, cudaStream_t s) {
    accept_greedy(gr_ptr(c, "draft"), gr_ptr(c, "target_argmax"), S(0), S(1), gr_ptr(c, "accepted"),
                  gr_ptr(c, "out_tokens"), s);
}
static void sampled_launch(gr_case *c, cudaStream_t s) {
    accept_sampled(gr_ptr(c, "p_target"), gr_ptr(c, "p_draft"), gr_ptr(c, "draft"), gr_ptr(c, "u_accept"),
                   gr_ptr(c, "u_sample"), S(0), S(1), S(2), gr_ptr(c, "accepted"), gr_ptr(c, "out_tokens"), s);
}

#define MLA(file, size)                                                                                       \
    {.name = file, .what = "absorbed MLA decode over a paged latent cache: every head reads one latent per token", \
     .hint = "token t: block block_table[b][t / 64], slot t % 64; scores over [c, kr], values are c itself",  \
     .compute = GR_ROOF_BF16, .check_shapes = MLA_CHECK_SHAPES, .bench_shape = size, .declare = fm_mla_declare, \
     .adjust_inputs = fm_mla_adjust, .launch = mla_launch, .reference = fm_mla_reference,                   \
     .tolerance = fm_mla_tolerance, .flops = fm_mla_flops, .bytes = fm_mla_bytes, .bench_note = fm_mla_note}

/* (T, E, top_k): one token; odd T; T past any one block (1000, 2049 tokens of 8 slots); the
 * mini-model's E = 8 and top_k = 2; E = 64; DeepSeek-V3's E = 256 and top_k = 8; every expert
 * chosen (top_k = E = 8) and one chosen of many. */
#define ROUTE_SHAPES                                                                                         \
    {GR_SHAPE(1, 8, 2), GR_SHAPE(1, 256, 8), GR_SHAPE(7, 8, 1), GR_SHAPE(17, 64, 2), GR_SHAPE(33, 256, 8),   \
     GR_SHAPE(5, 8, 8), GR_SHAPE(100, 256, 1), GR_SHAPE(129, 64, 8), GR_SHAPE(1000, 8, 2),                  \
     GR_SHAPE(2049, 256, 8), GR_SHAPE(300, 64, 1)}
#define ROUTE(file, size)                                                                                     \
    {.name = file, .what = "MoE routing: top-k experts by sigmoid score + bias, weights, pairs grouped by expert", \
     .hint = "ties go to the lower expert; inside an expert the pairs stay in index order (count the earlier ones)", \
     .compute = GR_ROOF_HBM, .check_shapes = ROUTE_SHAPES, .bench_shape = size, .declare = fm_route_declare,   \
     .adjust_inputs = fm_route_adjust, .launch = route_launch, .reference = fm_route_reference,              \
     .tolerance = fm_route_tolerance, .bytes = fm_route_bytes, .bench_note = fm_route_note}

/* (B, k): one sequence, one draft; odd batches; k from 1 to 40 (past a warp). */
#define GREEDY_SHAPES                                                                                        \
    {GR_SHAPE(1, 1), GR_SHAPE(1, 7), GR_SHAPE(3, 2), GR_SHAPE(17, 7), GR_SHAPE(100, 3), GR_SHAPE(5, 33),     \
     GR_SHAPE(129, 8), GR_SHAPE(1000, 1), GR_SHAPE(7, 40)}
/* (B, k, V): one sequence; the mini-model's byte vocabulary (256); odd V; a vocabulary of 32000. */
#define SAMPLED_SHAPES                                                                                       \
    {GR_SHAPE(1, 1, 2), GR_SHAPE(1, 7, 256), GR_SHAPE(4, 3, 17), GR_SHAPE(9, 7, 1000), GR_SHAPE(8, 1, 4097),  \
     GR_SHAPE(17, 4, 256), GR_SHAPE(3, 2, 32000), GR_SHAPE(64, 7, 300)}

static const gr_exercise EXERCISES[] = {
    MLA("01_mla_decode", MLA_BENCH_16),
    MLA("01_mla_decode+heads128", MLA_BENCH_128),
    MLA("01_mla_decode+mini", MLA_BENCH_MINI),
    ROUTE("02_moe_route", GR_SHAPE(4096, 256, 8)),
    ROUTE("02_moe_route+mini", GR_SHAPE(8, 8, 2)),
    {.name = "03_fp8_grouped_gemm", .what = "FP8 grouped GEMM of an MoE layer, 128-block scales; groups' rows stacked",
     .hint = "a tile's rows belong to one group; each 128-value K block's FP32 sums times sa[row] * sb[g][n / 128]",
     .compute = GR_ROOF_FP8, .check_shapes = FP8_CONTIGUOUS_SHAPES, .bench_shape = FP8_BENCH_CONTIGUOUS,
     .declare = fm_fp8_contiguous_declare, .adjust_inputs = fm_fp8_contiguous_adjust, .launch = fp8_contiguous_launch,
     .reference = fm_fp8_contiguous_reference, .tolerance = fm_fp8_tolerance, .flops = fm_fp8_contiguous_flops,
     .bytes = fm_fp8_contiguous_bytes, .bench_note = fm_fp8_contiguous_note, .library = fp8_dense_library,
     .library_name = "cuBLASLt FP8 dense", .library_available = fp8_dense_available},
    {.name = "03_fp8_grouped_gemm+masked", .what = "the same, masked: group g uses its first masked_m[g] of M_max rows",
     .hint = "rows past masked_m[g] keep their values; each 128-value K block's sums times sa * sb",
     .compute = GR_ROOF_FP8, .check_shapes = FP8_MASKED_SHAPES, .bench_shape = FP8_BENCH_MASKED,
     .declare = fm_fp8_masked_declare, .adjust_inputs = fm_fp8_masked_adjust, .launch = fp8_masked_launch,
     .reference = fm_fp8_masked_reference, .tolerance = fm_fp8_tolerance, .flops = fm_fp8_masked_flops,
     .bytes = fm_fp8_masked_bytes, .bench_note = fm_fp8_masked_note},
    {.name = "04_accept", .what = "speculative accept, greedy: the longest prefix of drafts the target agrees with",
     .hint = "n = the first i with draft != target_argmax (k if none); then target_argmax[n], then -1",
     .compute = GR_ROOF_HBM, .check_shapes = GREEDY_SHAPES, .bench_shape = GR_SHAPE(256, 7),
     .declare = fm_greedy_declare, .adjust_inputs = fm_greedy_adjust, .launch = greedy_launch,
     .reference = fm_greedy_reference, .tolerance = fm_accept_tolerance, .bytes = fm_greedy_bytes,
     .bench_note = fm_greedy_note},
    {.name = "04_accept+sampled", .what = "speculative sampling: accept while u < p/q, then draw from the residual",
     .hint = "accept when u * p_draft[x] < p_target[x]; draw: the smallest v whose running sum passes u * total",
     .compute = GR_ROOF_HBM, .check_shapes = SAMPLED_SHAPES, .bench_shape = GR_SHAPE(256, 7, 32000),
     .declare = fm_sampled_declare, .adjust_inputs = fm_sampled_adjust, .launch = sampled_launch,
     .reference = fm_sampled_reference, .tolerance = fm_accept_tolerance, .bytes = fm_sampled_bytes,
     .bench_note = fm_sampled_note},
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "finale/14-deepseek", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
