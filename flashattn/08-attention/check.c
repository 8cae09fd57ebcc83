/* Session 08 check driver: naive attention in three steps, then the online softmax.
 *
 *   make check                 grade your files
 *   make check SOLUTION=1      grade the hidden solutions
 *   make demo-online-softmax   the board demo: softmax of [1, 3, 2, 5] in two tiles (no GPU needed)
 *
 * A shape is (batch, heads, sq, skv, head_dim, causal). Every exercise is timed at batch 1, 16 heads,
 * 4096 queries and keys, head dim 128: a score matrix of 1 GiB in float32, which the naive path
 * writes and reads twice. (Batch 4 would be 4 GiB of scores a pass: too much for many GPUs.) An
 * exercise name "05_attention_online+causal" is the file 05_attention_online.cu timed causal.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "exercises.h"
#include "grader.h"
#include "ref/attention.h"
#include "ref/references.h"

/* ---- counting ----------------------------------------------------------------------------- */

static double score_entries(const gr_shape *s) { return (double)ATTN_HEADS(s) * ATTN_SQ(s) * ATTN_SKV(s); }

/* Q K^T or P V alone: one multiply-add per visible pair and head-dim element. */
static double one_product_flops(const gr_shape *s) {
    return 2.0 * ATTN_HEADS(s) * gr_attention_visible_pairs(s) * ATTN_HD(s);
}
/* Q, K, V read once (BF16), O written once (float32): the least any attention moves. */
static double qkvo_bytes(const gr_shape *s) {
    return ATTN_HEADS(s) * (2.0 * ATTN_HD(s) * (ATTN_SQ(s) + 2.0 * ATTN_SKV(s)) + 4.0 * ATTN_SQ(s) * ATTN_HD(s));
}

/* 01: Q and K in, every score out, masked ones too (-inf). */
static double scores_bytes(const gr_shape *s) {
    return ATTN_HEADS(s) * 2.0 * ATTN_HD(s) * (ATTN_SQ(s) + ATTN_SKV(s)) + 4.0 * score_entries(s);
}
/* 02: S in, P out. */
static double softmax_bytes(const gr_shape *s) { return 8.0 * score_entries(s); }
/* 03: the visible part of P in (the rest is zero and may be skipped), V in, O out. */
static double pv_bytes(const gr_shape *s) {
    return 4.0 * ATTN_HEADS(s) * gr_attention_visible_pairs(s) +
           ATTN_HEADS(s) * (2.0 * ATTN_SKV(s) * ATTN_HD(s) + 4.0 * ATTN_SQ(s) * ATTN_HD(s));
}
/* 04: Q, K, V, O, plus the score matrix through the HBM four times: S written, S read, P written,
 * P read (its visible part). This is the bill of storing S. */
static double naive_bytes(const gr_shape *s) {
    return qkvo_bytes(s) + 12.0 * score_entries(s) + 4.0 * ATTN_HEADS(s) * gr_attention_visible_pairs(s);
}
/* 05: Q, K, V, O and the log-sum-exp; no score matrix. */
static double online_bytes(const gr_shape *s) { return qkvo_bytes(s) + 4.0 * ATTN_HEADS(s) * ATTN_SQ(s); }

/* The line under the bench result: what the score matrix costs at this size. */
static void format_bytes(double bytes, char *buf, size_t len) {
    const double kib = 1024.0, mib = kib * 1024, gib = mib * 1024;
    if (bytes >= gib) snprintf(buf, len, "%.2f GiB", bytes / gib);
    else if (bytes >= mib) snprintf(buf, len, "%.*f MiB", bytes >= 10 * mib ? 0 : 1, bytes / mib);
    else snprintf(buf, len, "%.0f KiB", bytes / kib);
}
static void score_matrix_note(const gr_shape *s, char *buf, size_t len) {
    char head[32], all[32];
    format_bytes(4.0 * ATTN_SQ(s) * ATTN_SKV(s), head, sizeof head);
    format_bytes(4.0 * score_entries(s), all, sizeof all);
    snprintf(buf, len, "score matrix: %.1f M entries/head, %s per head in float32, %s for all %ld heads; "
             "the naive path writes and reads it twice (S, then P)", (double)ATTN_SQ(s) * ATTN_SKV(s) / 1e6, head, all,
             ATTN_HEADS(s));
}
static void no_score_matrix_note(const gr_shape *s, char *buf, size_t len) {
    char all[32];
    format_bytes(4.0 * score_entries(s), all, sizeof all);
    snprintf(buf, len, "no score matrix in memory: %.1f M scores/head, 32 at a time in registers "
             "(the naive path stores %s here, twice)", (double)ATTN_SQ(s) * ATTN_SKV(s) / 1e6, all);
}

/* ---- inputs ------------------------------------------------------------------------------- */

/* Scores as exercise 01 would leave them: values in [-1, 1) times 2^k (k in 0..4), plus an offset
 * per row in [-100, 100) that softmax ignores but exp without the max subtracted does not survive,
 * then -infinity where the causal mask hides the key. */
static void make_scores(gr_case *c) {
    const gr_shape *s = &c->shape;
    float *x = (float *)gr_in(c, "scores");
    const long sq = ATTN_SQ(s), skv = ATTN_SKV(s);
    for (long r = 0; r < ATTN_HEADS(s) * sq; r++) {
        const float f = ldexpf(1.0f, (int)gr_random_uniform(c, 0.0, 5.0));
        const float offset = (float)gr_random_uniform(c, -100.0, 100.0);
        const int visible = ref_attention_visible((int)(r % sq), (int)sq, (int)skv, ATTN_CAUSAL(s));
        for (long j = 0; j < skv; j++) x[r * skv + j] = j < visible ? x[r * skv + j] * f + offset : -INFINITY;
    }
}

/* Probabilities as exercise 02 would leave them: each row non-negative and summing to 1 over its
 * visible keys, 0 past the mask (all 0 for a row that sees nothing). */
static void make_probs(gr_case *c) {
    const gr_shape *s = &c->shape;
    float *p = (float *)gr_in(c, "probs");
    const long sq = ATTN_SQ(s), skv = ATTN_SKV(s);
    for (long r = 0; r < ATTN_HEADS(s) * sq; r++) {
        const int visible = ref_attention_visible((int)(r % sq), (int)sq, (int)skv, ATTN_CAUSAL(s));
        double sum = 0;
        for (long j = 0; j < visible; j++) sum += p[r * skv + j];
        for (long j = 0; j < skv; j++) p[r * skv + j] = j < visible ? (float)(p[r * skv + j] / sum) : 0.0f;
    }
}

/* ---- declare and launch --------------------------------------------------------------------- */

static void declare_qkv(gr_case *c, bool with_v) {
    const gr_shape *s = &c->shape;
    gr_input(c, "q", GR_BF16, (size_t)(ATTN_HEADS(s) * ATTN_SQ(s) * ATTN_HD(s)), GR_FILL_SIGNED);
    gr_input(c, "k", GR_BF16, (size_t)(ATTN_HEADS(s) * ATTN_SKV(s) * ATTN_HD(s)), GR_FILL_SIGNED);
    if (with_v) gr_input(c, "v", GR_BF16, (size_t)(ATTN_HEADS(s) * ATTN_SKV(s) * ATTN_HD(s)), GR_FILL_SIGNED);
    c->rows = ATTN_HEADS(s) * ATTN_SQ(s);  /* a reference row: one query row of one head */
}

static void scores_declare(gr_case *c) {
    declare_qkv(c, false);
    gr_output(c, "scores", GR_F32, (size_t)score_entries(&c->shape), ATTN_SKV(&c->shape));
}
static void scores_launch(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    attention_scores(gr_ptr(c, "q"), gr_ptr(c, "k"), gr_ptr(c, "scores"), (int)ATTN_B(s), (int)ATTN_H(s),
                     (int)ATTN_SQ(s), (int)ATTN_SKV(s), (int)ATTN_HD(s), ATTN_SCALE(s), ATTN_CAUSAL(s), stream);
}

static void softmax_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    gr_input(c, "scores", GR_F32, (size_t)score_entries(s), GR_FILL_SIGNED);
    gr_output(c, "probs", GR_F32, (size_t)score_entries(s), ATTN_SKV(s));
    c->rows = ATTN_HEADS(s) * ATTN_SQ(s);
}
static void softmax_launch(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    attention_softmax(gr_ptr(c, "scores"), gr_ptr(c, "probs"), ATTN_HEADS(s) * ATTN_SQ(s), (int)ATTN_SKV(s), stream);
}

static void pv_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    gr_input(c, "probs", GR_F32, (size_t)score_entries(s), GR_FILL_UNIT);
    gr_input(c, "v", GR_BF16, (size_t)(ATTN_HEADS(s) * ATTN_SKV(s) * ATTN_HD(s)), GR_FILL_SIGNED);
    gr_output(c, "out", GR_F32, (size_t)(ATTN_HEADS(s) * ATTN_SQ(s) * ATTN_HD(s)), ATTN_HD(s));
    c->rows = ATTN_HEADS(s) * ATTN_SQ(s);
}
static void pv_launch(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    attention_pv(gr_ptr(c, "probs"), gr_ptr(c, "v"), gr_ptr(c, "out"), (int)ATTN_B(s), (int)ATTN_H(s), (int)ATTN_SQ(s),
                 (int)ATTN_SKV(s), (int)ATTN_HD(s), ATTN_CAUSAL(s), stream);
}

static void naive_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    declare_qkv(c, true);
    gr_scratch(c, "scores", GR_F32, (size_t)score_entries(s));
    gr_scratch(c, "probs", GR_F32, (size_t)score_entries(s));
    gr_output(c, "out", GR_F32, (size_t)(ATTN_HEADS(s) * ATTN_SQ(s) * ATTN_HD(s)), ATTN_HD(s));
}
static void naive_launch(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    attention_naive(gr_ptr(c, "q"), gr_ptr(c, "k"), gr_ptr(c, "v"), gr_ptr(c, "scores"), gr_ptr(c, "probs"),
                    gr_ptr(c, "out"), (int)ATTN_B(s), (int)ATTN_H(s), (int)ATTN_SQ(s), (int)ATTN_SKV(s),
                    (int)ATTN_HD(s), ATTN_SCALE(s), ATTN_CAUSAL(s), stream);
}

static void online_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    declare_qkv(c, true);
    gr_output(c, "out", GR_F32, (size_t)(ATTN_HEADS(s) * ATTN_SQ(s) * ATTN_HD(s)), ATTN_HD(s));
    gr_output(c, "lse", GR_F32, (size_t)(ATTN_HEADS(s) * ATTN_SQ(s)), 1);
}
static void online_launch(gr_case *c, cudaStream_t stream) {
    const gr_shape *s = &c->shape;
    attention_online(gr_ptr(c, "q"), gr_ptr(c, "k"), gr_ptr(c, "v"), gr_ptr(c, "out"), gr_ptr(c, "lse"), (int)ATTN_B(s),
                     (int)ATTN_H(s), (int)ATTN_SQ(s), (int)ATTN_SKV(s), (int)ATTN_HD(s), ATTN_SCALE(s), ATTN_CAUSAL(s),
                     stream);
}

/* ---- references: rows [r0, r1); row r is query (r % sq) of head (r / sq) --------------------- */

/* S = scale * q . k in float64, -inf past the mask; the magnitude behind each score is
 * scale * sum |q_x k_x|, against which its rounding is measured. */
static void scores_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    const long sq = ATTN_SQ(s), skv = ATTN_SKV(s), d = ATTN_HD(s);
    const float *q = gr_in_f32(c, "q"), *k = gr_in_f32(c, "k");
    float *out = gr_ref(c, "scores"), *mag = gr_scale(c, "scores");
    const double scale = ATTN_SCALE(s);
    for (long r = r0; r < r1; r++) {
        const float *qr = q + r * d, *kh = k + (r / sq) * skv * d;
        const int visible = ref_attention_visible((int)(r % sq), (int)sq, (int)skv, ATTN_CAUSAL(s));
        for (long j = 0; j < skv; j++) {
            double dot = 0, sum_abs = 0;
            for (long x = 0; x < d; x++) {
                dot += (double)qr[x] * kh[j * d + x];
                sum_abs += fabs((double)qr[x] * kh[j * d + x]);
            }
            out[r * skv + j] = j < visible ? (float)(scale * dot) : -INFINITY;
            mag[r * skv + j] = j < visible ? (float)(scale * sum_abs) : 0.0f;
        }
    }
}

static void softmax_reference(gr_case *c, long r0, long r1) {
    const long skv = ATTN_SKV(&c->shape);
    const float *x = gr_in(c, "scores");
    float *p = gr_ref(c, "probs");
    for (long r = r0; r < r1; r++) ref_softmax_row(x + r * skv, (int)skv, p + r * skv);
}

/* O = P V in float64, one row of P against its head's V; magnitudes sum_j |p_j v_j|. */
static void pv_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    const long sq = ATTN_SQ(s), skv = ATTN_SKV(s), d = ATTN_HD(s);
    const float *p = gr_in(c, "probs"), *v = gr_in_f32(c, "v");
    float *out = gr_ref(c, "out"), *mag = gr_scale(c, "out");
    for (long r = r0; r < r1; r++)
        ref_gemm_scaled(p + r * skv, v + (r / sq) * skv * d, NULL, 1.0f, 0.0f, out + r * d, mag + r * d, 1, d, skv,
                        0, 1);
}

/* ---- tolerances: what the arithmetic allows (BF16 inputs are exact in the reference, which reads
 * the same rounded values) ------------------------------------------------------------------- */

/* 01: products of two BF16 values are exact in FP32; a sum of head_dim of them errs by about
 * sqrt(head_dim) eps relative to sum |q k| (more in the worst case, and the tensor cores add in an
 * order of their own), then one rounding for the scale. The rule of session 06's BF16 GEMM with
 * K = head_dim: 4 eps (4 sqrt(head_dim) + 4). */
static double scores_tolerance(const gr_shape *s) { return 4.0 * GR_EPS_F32 * (4.0 * sqrt((double)ATTN_HD(s)) + 4.0); }

/* 02: as session 07's softmax, with room for |s - max| up to 32 (stretched rows): x - max rounds
 * by up to 16 eps relative in exp's argument, exp adds a few eps, the sum of skv terms log2(skv)
 * levels of eps. A lost or doubled term is off by about 1/skv, far above this at every checked size. */
static double softmax_tolerance(const gr_shape *s) { return 4.0 * GR_EPS_F32 * (log2((double)ATTN_SKV(s)) + 16.0); }


/* ---- the exercises -------------------------------------------------------------------------- */

/* One key; odd sizes both ways; Q shorter than KV with the causal mask aligned to the end (rows
 * see 33..37 keys); Q longer than KV (rows 0..26 see no key: zeros, lse -inf); head dims 1, 64,
 * 80, 128 and 256; one query against 1000 cached keys; several batches and heads; sizes no tile
 * divides (17, 127, 257) and more than one tile of 32 keys, so the online rescale is exercised. */
#define ATTENTION_SHAPES                                                                                   \
    {GR_SHAPE(1, 1, 1, 1, 64, 0),      GR_SHAPE(1, 1, 17, 17, 64, 1),   GR_SHAPE(2, 3, 33, 100, 64, 0),     \
     GR_SHAPE(1, 2, 5, 37, 128, 1),    GR_SHAPE(1, 1, 40, 13, 64, 1),   GR_SHAPE(2, 2, 127, 127, 128, 1),   \
     GR_SHAPE(1, 4, 64, 257, 128, 0),  GR_SHAPE(1, 1, 1, 1000, 128, 1), GR_SHAPE(1, 2, 200, 200, 80, 1),    \
     GR_SHAPE(3, 1, 65, 129, 256, 0),  GR_SHAPE(1, 3, 7, 300, 1, 1),    GR_SHAPE(1, 8, 256, 256, 128, 1)}
/* The causal timing entries re-check one causal shape across tile edges, not the whole list. */
#define CAUSAL_SHAPES {GR_SHAPE(2, 2, 127, 127, 128, 1)}
#define BENCH GR_SHAPE(1, 16, 4096, 4096, 128, 0)
#define BENCH_CAUSAL GR_SHAPE(1, 16, 4096, 4096, 128, 1)

static const gr_exercise EXERCISES[] = {
    {.name = "01_attention_scores",
     .what = "naive step 1: S = scale * Q K^T to memory, float32, -inf past the causal mask (WMMA, BF16)",
     .hint = "key j is visible to query row i iff j < visible_keys(i, sq, skv, causal); K [skv][d] read as a "
             "col_major matrix_b is K^T",
     .compute = GR_ROOF_BF16, .check_shapes = ATTENTION_SHAPES, .bench_shape = BENCH, .declare = scores_declare,
     .launch = scores_launch, .reference = scores_reference, .tolerance = scores_tolerance,
     .flops = one_product_flops, .bytes = scores_bytes, .bench_note = score_matrix_note},
    {.name = "02_attention_softmax",
     .what = "naive step 2: P = softmax of each row of S (max, sum, write); -inf gives 0, an all -inf row zeros",
     .hint = "subtract the row max before exp; if the max is -inf the row sees no key: write zeros, not NaN",
     .compute = GR_ROOF_HBM, .check_shapes = ATTENTION_SHAPES, .bench_shape = BENCH, .declare = softmax_declare,
     .adjust_inputs = make_scores, .launch = softmax_launch, .reference = softmax_reference,
     .tolerance = softmax_tolerance, .bytes = softmax_bytes, .full_reference_limit = 5e7,
     .bench_note = score_matrix_note},
    {.name = "03_attention_pv",
     .what = "naive step 3: O = P V, P rounded to BF16 for the tensor cores, FP32 accumulate, O in float32",
     .hint = "P [sq][skv] is matrix_a and V [skv][d] matrix_b, both row_major; the keys are the reduction "
             "dimension; zero-fill the staged tiles past sq, skv and d",
     .compute = GR_ROOF_BF16, .check_shapes = ATTENTION_SHAPES, .bench_shape = BENCH, .declare = pv_declare,
     .adjust_inputs = make_probs, .launch = pv_launch, .reference = pv_reference, .tolerance = gr_attention_tolerance,
     .flops = one_product_flops, .bytes = pv_bytes},
    {.name = "04_attention_naive", .given = true,
     .what = "given: your 01, 02, 03 in a row, S and P through memory: what storing the score matrix costs",
     .hint = "given code: it passes once 01, 02 and 03 pass; fix those first",
     .compute = GR_ROOF_BF16, .check_shapes = ATTENTION_SHAPES, .bench_shape = BENCH, .declare = naive_declare,
     .adjust_inputs = gr_attention_stretch_queries, .launch = naive_launch, .reference = gr_attention_reference,
     .tolerance = gr_attention_tolerance, .flops = gr_attention_flops, .bytes = naive_bytes,
     .bench_note = score_matrix_note},
    {.name = "04_attention_naive+causal", .given = true,
     .what = "given: the same, causal (the mask halves the useful work; S and P are still written whole)",
     .hint = "given code: it passes once 01, 02 and 03 pass; fix those first",
     .compute = GR_ROOF_BF16, .check_shapes = CAUSAL_SHAPES, .bench_shape = BENCH_CAUSAL,
     .declare = naive_declare, .adjust_inputs = gr_attention_stretch_queries, .launch = naive_launch,
     .reference = gr_attention_reference, .tolerance = gr_attention_tolerance, .flops = gr_attention_flops,
     .bytes = naive_bytes, .bench_note = score_matrix_note},
    {.name = "05_attention_online",
     .what = "online softmax: one warp per query row, running max, sum and output, no S or P in memory (FP32)",
     .hint = "per tile: m_new = max(m, tile max); rescale = exp(m - m_new) multiplies l AND every acc; then "
             "add p = exp(s - m_new); at the end O = acc / l, lse = m + log(l)",
     .compute = GR_ROOF_FP32, .check_shapes = ATTENTION_SHAPES, .bench_shape = BENCH, .declare = online_declare,
     .adjust_inputs = gr_attention_stretch_queries, .launch = online_launch, .reference = gr_attention_reference,
     .tolerance = gr_attention_tolerance, .flops = gr_attention_flops, .bytes = online_bytes,
     .bench_note = no_score_matrix_note},
    {.name = "05_attention_online+causal",
     .what = "online softmax, causal: each row walks only the keys it sees, half the work",
     .hint = "loop over t < visible_keys(i, ...) only; keys past it in the last tile get s = -inf",
     .compute = GR_ROOF_FP32, .check_shapes = CAUSAL_SHAPES, .bench_shape = BENCH_CAUSAL,
     .declare = online_declare, .adjust_inputs = gr_attention_stretch_queries, .launch = online_launch,
     .reference = gr_attention_reference, .tolerance = gr_attention_tolerance, .flops = gr_attention_flops,
     .bytes = online_bytes, .bench_note = no_score_matrix_note},
};

int main(int argc, char **argv) {
    return gr_main(argc, argv, "flashattn/08-attention", EXERCISES, (int)(sizeof EXERCISES / sizeof EXERCISES[0]));
}
