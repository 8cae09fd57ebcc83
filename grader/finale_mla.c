/* Session 14's MLA decode (01) as the grader sees it: buffers, inputs, the float64 reference, the
 * tolerance, FLOP and byte counts. Layouts are finale/14-deepseek/exercises.h's:
 *
 *   kv_cache   [block][slot][d_latent + d_rope]   token t of sequence b -> block_table[b][t / 64], slot t % 64
 *   q          [b][i][h][d_latent + d_rope]       query token i of sequence b, head h
 *   out        [b][i][h][d_latent]
 *
 * It follows session 12's paged decode (serving_paged.c): ragged lengths, a random block table,
 * planted tokens that a probe head must find, garbage wherever nothing may be read. */
#include "finale_mla.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE FM_MLA_BLOCK

#define M_B(s) ((s)->d[0])
#define M_SQ(s) ((s)->d[1])
#define M_HQ(s) ((s)->d[2])
#define M_DL(s) ((s)->d[3])
#define M_DR(s) ((s)->d[4])
#define M_MAXCTX(s) ((s)->d[5])
#define M_D(s) (M_DL(s) + M_DR(s))                 /* one cached row: latent, then RoPE key */
#define M_ROWS_PER_SEQ(s) (M_SQ(s) * M_HQ(s))      /* output rows of a sequence: (query token, head) */
#define M_MAX_BLOCKS(s) ((M_MAXCTX(s) + PAGE - 1) / PAGE)

/* Slots past a sequence's length and blocks no table lists hold rows 2^100 times an input: a
 * kernel that gives one any weight is off by far more than a tolerance; one that reads them and
 * weighs them exactly 0 is right. (2^100 times a BF16 value is an exact BF16, and a score against
 * it stays finite in FP32: 2^100 * 2^8 * 576 < 2^128; 0 times it is 0, not NaN.) */
#define GARBAGE_EXPONENT 100

static float bf16_value(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}
static uint16_t bf16_bits(float f) {  /* only for values that are BF16 already */
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return (uint16_t)(bits >> 16);
}

static long draw_below(gr_case *c, long n) {
    long k = (long)gr_random_uniform(c, 0.0, (double)n);
    return k < n ? k : n - 1;
}

static void *checked_malloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) { fprintf(stderr, "finale_mla: out of host memory (%zu bytes)\n", bytes); exit(70); }
    return p;
}

float fm_mla_scale(const gr_shape *s) { return 1.0f / sqrtf((float)M_D(s)); }

long fm_mla_num_blocks(const gr_shape *s) {
    const long used = M_B(s) * M_MAX_BLOCKS(s);
    return used + used / 8 + 1;
}

long fm_mla_visible_end(long len, long s_q, long i) { return len - s_q + 1 + i; }

/* Length of sequence j >= 1 of a long context: in (3L/4, L], spread over the batch. */
static long long_length(const gr_shape *s, long j) {
    const long L = M_MAXCTX(s);
    return L - (j * L) / (4 * M_B(s));
}

double fm_mla_tokens(const gr_shape *s, double *pages) {
    const long B = M_B(s), L = M_MAXCTX(s), sq = M_SQ(s);
    double tokens = (double)L, pg = (double)((L + PAGE - 1) / PAGE);
    if (L >= FM_MLA_LONG_CONTEXT) {
        for (long j = 1; j < B; j++) {
            const long len = long_length(s, j);
            tokens += (double)len;
            pg += (double)((len + PAGE - 1) / PAGE);
        }
    } else if (B > 1) {  /* lengths uniform in s_q .. L: their mean */
        double mean_pages = 0;
        for (long len = sq; len <= L; len++) mean_pages += (double)((len + PAGE - 1) / PAGE);
        tokens += (double)(B - 1) * (double)(L + sq) / 2.0;
        pg += (double)(B - 1) * mean_pages / (double)(L - sq + 1);
    }
    if (pages) *pages = pg;
    return tokens;
}

void fm_mla_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    const long B = M_B(s), rows = B * M_ROWS_PER_SEQ(s);
    gr_input(c, "q", GR_BF16, (size_t)(rows * M_D(s)), GR_FILL_SIGNED);
    gr_input(c, "kv_cache", GR_BF16, (size_t)(fm_mla_num_blocks(s) * PAGE * M_D(s)), GR_FILL_SIGNED);
    gr_input(c, "block_table", GR_I32, (size_t)(B * M_MAX_BLOCKS(s)), GR_FILL_SIGNED);
    gr_input(c, "seq_len", GR_I32, (size_t)B, GR_FILL_SIGNED);
    gr_output(c, "out", GR_BF16, (size_t)(rows * M_DL(s)), M_DL(s));
    gr_scratch(c, "work", GR_F32, (size_t)(rows * FM_MLA_SPLIT_MAX * (M_DL(s) + 1)));
    c->param[0] = fm_mla_scale(s);
    c->param[1] = (double)M_MAX_BLOCKS(s);
    c->rows = rows;
}

/* A probe's query: its latent part 0, its RoPE part scaled by a power of two to a largest element in
 * [32, 64). Its score against any row is then the RoPE part's alone, exactly the same for rows
 * with the same RoPE key whatever their latents (0 times a finite value is 0). */
static void make_probe(uint16_t *q_row, long dl, long dr) {
    float big = 0;
    for (long x = 0; x < dl; x++) q_row[x] = 0;
    for (long x = dl; x < dl + dr; x++) big = fmaxf(big, fabsf(bf16_value(q_row[x])));
    int e = 0;
    if (big > 0) frexpf(big, &e);   /* big in [2^(e-1), 2^e) */
    for (long x = dl; x < dl + dr; x++) q_row[x] = bf16_bits(ldexpf(bf16_value(q_row[x]), 6 - e));
}
/* A planted row: its RoPE key the signs of the probe's RoPE query (times 2^exponent), so that the
 * probe's score for it, scale * sum |q_rope|, stands far above the others' (about
 * scale * |q_rope| * sqrt(d_rope) / 3); its latent, the value the probe then averages, stays as drawn
 * (times 2^exponent), different for every planted row. */
static void planted_row(uint16_t *row, const uint16_t *q_probe, long dl, long dr, int exponent) {
    for (long x = 0; x < dl; x++) row[x] = bf16_bits(ldexpf(bf16_value(row[x]), exponent));
    for (long x = dl; x < dl + dr; x++) row[x] = bf16_bits(ldexpf(bf16_value(q_probe[x]) < 0 ? -1.0f : 1.0f, exponent));
}
static uint16_t *cached_row(uint16_t *kv, const int *table, long max_blocks, long b, long t, long d) {
    return kv + ((size_t)table[b * max_blocks + t / PAGE] * PAGE + (size_t)(t % PAGE)) * (size_t)d;
}

/* After the uniform fill:
 *  - queries stretched: each row times 2^k, k in 0..8 (exact in BF16), as sessions 08 and 12 do:
 *    some rows' softmax stays flat, others put their weight on a few tokens;
 *  - lengths: sequence 0 holds max_context; from FM_MLA_LONG_CONTEXT up the others a fixed set in
 *    the top quarter, dealt out at random; below it, uniform in s_q .. max_context;
 *  - the pages are a random permutation of the cache's blocks; table entries past a sequence's
 *    last page are -1;
 *  - one head h_p of each sequence is a probe (make_probe: it scores by its RoPE part alone) and
 *    finds five planted rows (the first token, the last of the first block, the first of the last
 *    block, the last token, one anywhere) of equal scores far above the rest: its output is the
 *    mean of their five latents, and dropping, repeating or misplacing one moves it by a fifth.
 *    With s_q = 2 both query tokens of h_p get the same query: the last token is then a causal
 *    trap for query token 0 (it must not see it);
 *  - blocks no table lists hold garbage (GARBAGE_EXPONENT); slots past a sequence's length hold
 *    planted rows times 2^GARBAGE_EXPONENT, so that the probe's score for them is huge, not
 *    hugely negative: a kernel that lets one in gives it all the probe's weight. */
void fm_mla_adjust(gr_case *c) {
    const gr_shape *s = &c->shape;
    const long B = M_B(s), sq = M_SQ(s), hq = M_HQ(s), d = M_D(s), L = M_MAXCTX(s), R = M_ROWS_PER_SEQ(s);
    const long max_blocks = M_MAX_BLOCKS(s), nb = fm_mla_num_blocks(s);
    int *seq_len = (int *)gr_in(c, "seq_len"), *table = (int *)gr_in(c, "block_table");
    uint16_t *q = (uint16_t *)gr_in(c, "q"), *kv = (uint16_t *)gr_in(c, "kv_cache");

    for (long r = 0; r < B * R; r++) {
        const float f = ldexpf(1.0f, (int)gr_random_uniform(c, 0.0, 9.0));
        for (long x = 0; x < d; x++) q[r * d + x] = bf16_bits(bf16_value(q[r * d + x]) * f);
    }

    seq_len[0] = (int)L;
    if (L >= FM_MLA_LONG_CONTEXT) {
        for (long j = 1; j < B; j++) seq_len[j] = (int)long_length(s, j);
        for (long j = B - 1; j > 1; j--) {  /* shuffle sequences 1 .. B-1 */
            const long k = 1 + draw_below(c, j);
            const int t = seq_len[j];
            seq_len[j] = seq_len[k];
            seq_len[k] = t;
        }
    } else {
        for (long j = 1; j < B; j++) seq_len[j] = (int)(sq + draw_below(c, L - sq + 1));
    }

    /* The pages: a random permutation of all blocks (partial Fisher-Yates), dealt in order. */
    int *perm = checked_malloc(sizeof(int) * (size_t)nb);
    unsigned char *used = calloc((size_t)nb, 1);
    if (!used) { fprintf(stderr, "finale_mla: out of host memory\n"); exit(70); }
    for (long i = 0; i < nb; i++) perm[i] = (int)i;
    for (long i = 0; i + 1 < nb; i++) {
        const long j = i + draw_below(c, nb - i);
        const int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    long next = 0;
    for (long b = 0; b < B; b++) {
        const long pages = (seq_len[b] + PAGE - 1) / PAGE;
        for (long p = 0; p < max_blocks; p++) {
            table[b * max_blocks + p] = p < pages ? perm[next++] : -1;
            if (p < pages) used[table[b * max_blocks + p]] = 1;
        }
    }

    const long dl = M_DL(s), dr = M_DR(s);
    for (long b = 0; b < B; b++) {
        const long len = seq_len[b], probe = draw_below(c, hq);
        uint16_t *q_last = q + ((b * sq + sq - 1) * hq + probe) * d;   /* the probe's last query token */
        make_probe(q_last, dl, dr);
        for (long i = 0; i < sq - 1; i++)  /* its earlier query tokens: the same query */
            memcpy(q + ((b * sq + i) * hq + probe) * d, q_last, sizeof(uint16_t) * (size_t)d);
        const long planted[5] = {0, len - 1 < PAGE - 1 ? len - 1 : PAGE - 1, (len - 1) / PAGE * PAGE, len - 1,
                                 draw_below(c, len)};
        for (int i = 0; i < 5; i++) planted_row(cached_row(kv, table, max_blocks, b, planted[i], d), q_last, dl, dr, 0);
        for (long t = len; t % PAGE != 0; t++)  /* the slots past the end: planted rows, huge */
            planted_row(cached_row(kv, table, max_blocks, b, t, d), q_last, dl, dr, GARBAGE_EXPONENT);
    }

    for (long blk = 0; blk < nb; blk++) {
        if (used[blk]) continue;
        for (long i = blk * PAGE * d; i < (blk + 1) * PAGE * d; i++)
            kv[i] = bf16_bits(ldexpf(bf16_value(kv[i]), GARBAGE_EXPONENT));
    }
    free(used);
    free(perm);
}

void fm_mla_reference_row(const float *q, const float *const *rows, long visible, int d_latent, int d_rope,
                          double scale, float *out, float *mag) {
    const int d = d_latent + d_rope;
    double *score = checked_malloc(sizeof(double) * (size_t)visible);
    double big = -INFINITY, sum = 0;
    for (long t = 0; t < visible; t++) {
        double dot = 0;
        for (int x = 0; x < d; x++) dot += (double)q[x] * (double)rows[t][x];
        score[t] = scale * dot;
        if (score[t] > big) big = score[t];
    }
    for (long t = 0; t < visible; t++) {
        score[t] = exp(score[t] - big);
        sum += score[t];
    }
    for (int x = 0; x < d_latent; x++) {
        double o = 0, m = 0;
        for (long t = 0; t < visible; t++) {
            o += score[t] * (double)rows[t][x];
            m += score[t] * fabs((double)rows[t][x]);
        }
        out[x] = (float)(o / sum);
        mag[x] = (float)(m / sum);
    }
    free(score);
}

/* Rows [r0, r1) (row r: head r % h_q of query token (r / h_q) % s_q of sequence r / (s_q h_q)). A
 * sequence's rows are gathered once, in float, for the consecutive rows that read them. */
void fm_mla_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    const long sq = M_SQ(s), hq = M_HQ(s), d = M_D(s), dl = M_DL(s), R = M_ROWS_PER_SEQ(s);
    const long max_blocks = M_MAX_BLOCKS(s);
    const float *q = gr_in_f32(c, "q");
    const uint16_t *kv = gr_in(c, "kv_cache");
    const int *seq_len = gr_in(c, "seq_len"), *table = gr_in(c, "block_table");
    float *out = gr_ref(c, "out"), *mag = gr_scale(c, "out");
    float *rows = checked_malloc(sizeof(float) * (size_t)(M_MAXCTX(s) * d));
    const float **row_of = checked_malloc(sizeof(float *) * (size_t)M_MAXCTX(s));
    long have_b = -1;
    for (long r = r0; r < r1; r++) {
        const long b = r / R, i = (r % R) / hq, len = seq_len[b];
        if (b != have_b) {
            for (long t = 0; t < len; t++) {
                const uint16_t *src = cached_row((uint16_t *)kv, table, max_blocks, b, t, d);
                for (long x = 0; x < d; x++) rows[t * d + x] = bf16_value(src[x]);
                row_of[t] = rows + t * d;
            }
            have_b = b;
        }
        fm_mla_reference_row(q + r * d, row_of, fm_mla_visible_end(len, sq, i), (int)dl, (int)M_DR(s),
                             (double)(float)c->param[0], out + r * dl, mag + r * dl);
    }
    free(row_of);
    free(rows);
}

/* Measured against the magnitudes sum_t p_t |c_t| (which bound |out|):
 *  - the BF16 output rounds by at most 2^-9 of itself;
 *  - the weights p go through the tensor cores as BF16: each rounded by at most 2^-9 of itself
 *    (the sum l counts the same rounded weights, so the normalisation stays consistent);
 *  - the FP32 scores: products of BF16 values are exact and a sum of d_latent + d_rope of them errs
 *    by about sqrt(D) eps of its partial sums; with stretched queries that and exp2's few ulps stay
 *    below the third 2^-9;
 *  - l and P V add up to max_context terms of one sign in FP32 (and the combine a few more): in
 *    the worst order max_context eps of the result, session 12's rule.
 * A planted row dropped or repeated moves its probe's output by about a fifth (a causal trap seen
 * too, the same), a garbage row by 2^100: far above this at every shape. */
double fm_mla_tolerance(const gr_shape *s) { return 3.0 * 0x1p-9 + GR_EPS_F32 * (double)M_MAXCTX(s); }

/* Per cached token of a sequence and per (query token, head): the score q . [c, kr] (2 FLOP per
 * element of d_latent + d_rope) and p c into the output (2 per element of d_latent). The causal
 * limit of s_q = 2 (one token fewer for query token 0) is not subtracted. */
double fm_mla_flops(const gr_shape *s) {
    const double per_token = 2.0 * (double)M_D(s) + 2.0 * (double)M_DL(s);
    return per_token * (double)M_HQ(s) * (double)M_SQ(s) * fm_mla_tokens(s, NULL);
}

/* The least an MLA decode step moves: every cached row of every sequence once (all heads and query
 * tokens share it: MLA's point), q read and out written once, the table entries of the pages used
 * and the lengths. 2 bytes a BF16 element, 4 an index. */
double fm_mla_bytes(const gr_shape *s) {
    double pages;
    const double tokens = fm_mla_tokens(s, &pages);
    const double rows = (double)M_B(s) * (double)M_ROWS_PER_SEQ(s);
    return 2.0 * tokens * (double)M_D(s) + 2.0 * rows * (double)M_D(s) + 2.0 * rows * (double)M_DL(s) +
           4.0 * pages + 4.0 * (double)M_B(s);
}

/* The cache's size, the step's bytes and its FLOP per byte against the BF16 ridge, which says which
 * roof holds: an H100's or H200's dense BF16 rate over its HBM bandwidth is about 989 / 3.35 = 295
 * and 989 / 4.8 = 206 FLOP a byte. */
void fm_mla_note(const gr_shape *s, char *buf, size_t len) {
    const double tokens = fm_mla_tokens(s, NULL), cache = 2.0 * tokens * (double)M_D(s);
    const double intensity = fm_mla_flops(s) / fm_mla_bytes(s);
    snprintf(buf, len,
             "latent cache: %.0f MB (%.0f tokens x %ld B, each row read once for all %ld heads); %.0f MB in all; "
             "%.0f FLOP/B: %s (the BF16 ridge of an H200 is about 206 FLOP/B)",
             cache / 1e6, tokens, 2 * M_D(s), M_HQ(s), fm_mla_bytes(s) / 1e6, intensity,
             intensity < 206.0 ? "memory-bound, the copy roof is the target" : "compute-bound, the tensor roof holds");
}
