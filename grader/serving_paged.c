/* Session 12's paged KV cache as the grader sees it: the write of new tokens (03) and decode
 * attention over the pages (04, 05). Buffers, inputs, references, tolerances and byte counts; the
 * layouts are serving/12-serving/exercises.h's:
 *
 *   cache      [block][kv_head][slot][d]            num_blocks x Hkv x PAGE x D, BF16
 *   KV write   shape (T, Hkv, D, num_blocks)        token i -> slot_of[i] = block * PAGE + slot
 *   decode     shape (B, Hq, Hkv, D, max_context)   token t of sequence b -> block_table[b][t / PAGE]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/attention.h"
#include "serving.h"

#define PAGE SV_PAGE_TOKENS

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

/* A whole number drawn uniformly from [0, n). */
static long draw_below(gr_case *c, long n) {
    long k = (long)gr_random_uniform(c, 0.0, (double)n);
    return k < n ? k : n - 1;
}

/* The first k entries of a random permutation of 0 .. n-1 into out[0 .. k) (partial Fisher-Yates
 * over `scratch`, n entries). */
static void draw_distinct(gr_case *c, long n, long k, int *out, int *scratch) {
    for (long i = 0; i < n; i++) scratch[i] = (int)i;
    for (long i = 0; i < k && i < n; i++) {
        long j = i + draw_below(c, n - i);
        int t = scratch[i];
        scratch[i] = scratch[j];
        scratch[j] = t;
        out[i] = scratch[i];
    }
}

static void *checked_malloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) { fprintf(stderr, "serving_paged: out of host memory (%zu bytes)\n", bytes); exit(70); }
    return p;
}

/* ==== 03: the KV write ============================================================================ */

#define KW_T(s) ((s)->d[0])
#define KW_HKV(s) ((s)->d[1])
#define KW_D(s) ((s)->d[2])
#define KW_BLOCKS(s) ((s)->d[3])
/* Elements of one cache block (all its KV heads' pages): a reference row. */
#define KW_BLOCK_ELEMS(s) (KW_HKV(s) * PAGE * KW_D(s))

/* Padding tokens of a batch of T: exactly one in eight, so that the bytes to move are fixed. */
static long kv_write_padding(const gr_shape *s) { return KW_T(s) / 8; }

void sv_kv_write_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    const size_t rows = (size_t)(KW_T(s) * KW_HKV(s) * KW_D(s)), cache = (size_t)(KW_BLOCKS(s) * KW_BLOCK_ELEMS(s));
    gr_input(c, "k_new", GR_BF16, rows, GR_FILL_SIGNED);
    gr_input(c, "v_new", GR_BF16, rows, GR_FILL_SIGNED);
    gr_input(c, "slot_of", GR_I32, (size_t)KW_T(s), GR_FILL_SIGNED);
    /* In-out: random values before every launch, so a slot left unwritten keeps a wrong value. */
    gr_inout(c, "k_cache", GR_BF16, cache, KW_BLOCK_ELEMS(s), GR_FILL_SIGNED);
    gr_inout(c, "v_cache", GR_BF16, cache, KW_BLOCK_ELEMS(s), GR_FILL_SIGNED);
    c->rows = KW_BLOCKS(s);  /* a reference row: one cache block */
}

/* Distinct slots drawn from the whole cache (scattered, as a server's free list hands them out),
 * then T/8 tokens, at random places in the batch, made padding (-1). */
void sv_kv_write_adjust(gr_case *c) {
    const gr_shape *s = &c->shape;
    const long T = KW_T(s), slots = KW_BLOCKS(s) * PAGE;
    int *slot_of = (int *)gr_in(c, "slot_of");
    int *scratch = checked_malloc(sizeof(int) * (size_t)(slots > T ? slots : T));
    const long drawn = T < slots ? T : slots;  /* a batch larger than the cache: the rest is padding */
    draw_distinct(c, slots, drawn, slot_of, scratch);
    for (long i = drawn; i < T; i++) slot_of[i] = -1;
    int *padded = checked_malloc(sizeof(int) * (size_t)(T ? T : 1));
    draw_distinct(c, T, kv_write_padding(s), padded, scratch);
    for (long i = 0; i < kv_write_padding(s); i++) slot_of[padded[i]] = -1;
    free(padded);
    free(scratch);
}

/* Blocks [r0, r1) of both caches: their values before the launch, with the slots the batch writes
 * replaced by the new tokens' rows. */
void sv_kv_write_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    const long T = KW_T(s), hkv = KW_HKV(s), d = KW_D(s), per_block = KW_BLOCK_ELEMS(s);
    const char *names[2] = {"k_cache", "v_cache"}, *news[2] = {"k_new", "v_new"};
    const int *slot_of = gr_in(c, "slot_of");
    for (int which = 0; which < 2; which++) {
        const uint16_t *before = gr_in(c, names[which]), *fresh = gr_in(c, news[which]);
        float *ref = gr_ref(c, names[which]);
        for (long i = r0 * per_block; i < r1 * per_block; i++) ref[i] = bf16_value(before[i]);
        for (long t = 0; t < T; t++) {
            const long slot = slot_of[t], block = slot / PAGE;
            if (slot < 0 || block < r0 || block >= r1) continue;
            for (long h = 0; h < hkv; h++)
                for (long x = 0; x < d; x++)
                    ref[((block * hkv + h) * PAGE + slot % PAGE) * d + x] = bf16_value(fresh[(t * hkv + h) * d + x]);
        }
    }
}

/* A copy: every written element must be the new value exactly, every other the old one. */
double sv_kv_write_tolerance(const gr_shape *s) {
    (void)s;
    return 0.0;
}

/* The real tokens' keys and values read once and written once (2 bytes an element), and the slot
 * mapping read; padding tokens need not be read, and the rest of the cache is not touched. */
double sv_kv_write_bytes(const gr_shape *s) {
    const double real = (double)(KW_T(s) - kv_write_padding(s));
    return 2.0 * 2.0 * 2.0 * real * (double)KW_HKV(s) * (double)KW_D(s) + 4.0 * (double)KW_T(s);
}

/* ==== 04, 05: decode attention over the pages ====================================================== */

#define DC_B(s) ((s)->d[0])
#define DC_HQ(s) ((s)->d[1])
#define DC_HKV(s) ((s)->d[2])
#define DC_D(s) ((s)->d[3])
#define DC_MAXCTX(s) ((s)->d[4])
#define DC_GROUP(s) (DC_HQ(s) / DC_HKV(s))
#define DC_MAX_BLOCKS(s) ((DC_MAXCTX(s) + PAGE - 1) / PAGE)
#define DC_BLOCK_ELEMS(s) (DC_HKV(s) * PAGE * DC_D(s))

/* Values of the cache that no sequence may read (slots past a sequence's length in its last page,
 * blocks no table lists) are 2^100 times an input: a kernel that gives one of them any weight is off
 * by far more than a tolerance; one that reads them and weighs them exactly 0 (a -inf score, or a
 * select) is right. Their keys are 0, or a probe's planted key (below), so that their scores are
 * not so low that the softmax would hide them. (2^100 x a BF16 value is still an exact BF16.) */
#define GARBAGE_EXPONENT 100

long sv_decode_num_blocks(const gr_shape *s) {
    const long used = DC_B(s) * DC_MAX_BLOCKS(s);
    return used + used / 8 + 1;
}

long sv_decode_long_length(const gr_shape *s, long j) {
    const long L = DC_MAXCTX(s);
    return L - (j * L) / (4 * DC_B(s));  /* in (3L/4, L]: the batch's lengths spread over the top quarter */
}

double sv_decode_tokens(const gr_shape *s, double *pages) {
    const long B = DC_B(s), L = DC_MAXCTX(s);
    double tokens = (double)L, pg = (double)((L + PAGE - 1) / PAGE);
    if (L >= SV_LONG_CONTEXT) {
        for (long j = 1; j < B; j++) {
            const long len = sv_decode_long_length(s, j);
            tokens += (double)len;
            pg += (double)((len + PAGE - 1) / PAGE);
        }
    } else if (B > 1) {  /* lengths uniform in 1 .. L: their mean */
        double mean_pages = 0;
        for (long len = 1; len <= L; len++) mean_pages += (double)((len + PAGE - 1) / PAGE);
        tokens += (double)(B - 1) * (double)(L + 1) / 2.0;
        pg += (double)(B - 1) * mean_pages / (double)L;
    }
    if (pages) *pages = pg;
    return tokens;
}

void sv_decode_declare(gr_case *c) {
    const gr_shape *s = &c->shape;
    const long B = DC_B(s), hq = DC_HQ(s), d = DC_D(s);
    const size_t cache = (size_t)(sv_decode_num_blocks(s) * DC_BLOCK_ELEMS(s));
    gr_input(c, "q", GR_BF16, (size_t)(B * hq * d), GR_FILL_SIGNED);
    gr_input(c, "k_cache", GR_BF16, cache, GR_FILL_SIGNED);
    gr_input(c, "v_cache", GR_BF16, cache, GR_FILL_SIGNED);
    gr_input(c, "block_table", GR_I32, (size_t)(B * DC_MAX_BLOCKS(s)), GR_FILL_SIGNED);
    gr_input(c, "seq_len", GR_I32, (size_t)B, GR_FILL_SIGNED);
    gr_output(c, "out", GR_BF16, (size_t)(B * hq * d), d);
    gr_scratch(c, "work", GR_F32, (size_t)(B * hq * SV_SPLIT_MAX * (d + 1)));
    c->param[0] = 1.0f / sqrtf((float)d);  /* the scale, as the float the launcher is given */
    c->param[1] = (double)DC_MAX_BLOCKS(s);
    c->rows = B * hq;  /* a reference row: one query head of one sequence */
}

/* Uniform [-1, 1) queries give scores of spread ~1/3: a flat softmax that hides a wrong running
 * max. So each query row is multiplied by 2^k, k drawn from 0..8 (exact in BF16), as session 08
 * does (gr_attention_stretch_queries): some rows stay flat, others put their weight on a few keys. */
static void stretch_queries(gr_case *c) {
    const gr_shape *s = &c->shape;
    uint16_t *q = (uint16_t *)gr_in(c, "q");
    const long d = DC_D(s);
    for (long r = 0; r < DC_B(s) * DC_HQ(s); r++) {
        const float f = ldexpf(1.0f, (int)gr_random_uniform(c, 0.0, 9.0));
        for (long x = 0; x < d; x++) q[r * d + x] = bf16_bits(bf16_value(q[r * d + x]) * f);
    }
}

/* The tokens whose loss a kernel is most likely to get wrong: the first, the last of the first
 * page, the first of the last page, the last, and one anywhere. */
#define PLANTED 5
/* A planted key: the signs of the probe's query, so that its score, scale * sum |q|, stands far
 * above the others' (about scale * |q| * sqrt(D) / 3). */
static void planted_key(uint16_t *k, const uint16_t *q_probe, long d) {
    for (long x = 0; x < d; x++) k[x] = bf16_bits(bf16_value(q_probe[x]) < 0 ? -1.0f : 1.0f);
}
static void planted_tokens(gr_case *c, long len, long t[PLANTED]) {
    t[0] = 0;
    t[1] = len - 1 < PAGE - 1 ? len - 1 : PAGE - 1;
    t[2] = (len - 1) / PAGE * PAGE;
    t[3] = len - 1;
    t[4] = draw_below(c, len);
}

/* Lengths, the block table and the structure of the scores, after the uniform fill:
 *  - sequence 0 holds max_context tokens; from SV_LONG_CONTEXT up the others hold a fixed set of
 *    lengths in the top quarter (so the bytes to move are known), dealt out at random; below it,
 *    lengths uniform in 1 .. max_context.
 *  - the sequences' pages are a random permutation of the cache's blocks; table entries past a
 *    sequence's last page are -1.
 *  - one query head of each KV group (every other group when the heads are not grouped) is a probe:
 *    the planted tokens' keys are the signs of its query, so their scores stand far above the rest
 *    and dropping, repeating or misplacing any of them moves the probe's output by a fifth.
 *  - blocks no table lists and slots past a sequence's length hold garbage (GARBAGE_EXPONENT). */
void sv_decode_adjust(gr_case *c) {
    const gr_shape *s = &c->shape;
    const long B = DC_B(s), hq = DC_HQ(s), hkv = DC_HKV(s), d = DC_D(s), L = DC_MAXCTX(s);
    const long G = DC_GROUP(s), max_blocks = DC_MAX_BLOCKS(s), nb = sv_decode_num_blocks(s);
    const long per_block = DC_BLOCK_ELEMS(s);
    int *seq_len = (int *)gr_in(c, "seq_len"), *table = (int *)gr_in(c, "block_table");
    uint16_t *q = (uint16_t *)gr_in(c, "q");
    uint16_t *kc = (uint16_t *)gr_in(c, "k_cache"), *vc = (uint16_t *)gr_in(c, "v_cache");

    stretch_queries(c);

    seq_len[0] = (int)L;
    if (L >= SV_LONG_CONTEXT) {
        for (long j = 1; j < B; j++) seq_len[j] = (int)sv_decode_long_length(s, j);
        for (long j = B - 1; j > 1; j--) {  /* shuffle sequences 1 .. B-1 */
            long k = 1 + draw_below(c, j);
            int t = seq_len[j];
            seq_len[j] = seq_len[k];
            seq_len[k] = t;
        }
    } else {
        for (long j = 1; j < B; j++) seq_len[j] = (int)(1 + draw_below(c, L));
    }

    int *perm = checked_malloc(sizeof(int) * (size_t)nb), *scratch = checked_malloc(sizeof(int) * (size_t)nb);
    unsigned char *used = calloc((size_t)nb, 1);
    if (!used) { fprintf(stderr, "serving_paged: out of host memory\n"); exit(70); }
    draw_distinct(c, nb, nb, perm, scratch);
    long next = 0;
    for (long b = 0; b < B; b++) {
        const long pages = (seq_len[b] + PAGE - 1) / PAGE;
        for (long p = 0; p < max_blocks; p++) {
            table[b * max_blocks + p] = p < pages ? perm[next++] : -1;
            if (p < pages) used[table[b * max_blocks + p]] = 1;
        }
    }

    /* Probes first (their query rows are final now), then garbage where nothing may be read. */
    long *probe = checked_malloc(sizeof(long) * (size_t)(B * hkv));
    for (long b = 0; b < B; b++)
        for (long g = 0; g < hkv; g++) {
            long t[PLANTED];
            probe[b * hkv + g] = g * G + draw_below(c, G);
            planted_tokens(c, seq_len[b], t);
            if (G == 1 && (b + g) % 2) probe[b * hkv + g] = -1;
            if (probe[b * hkv + g] < 0) continue;
            for (int i = 0; i < PLANTED; i++) {
                const long blk = table[b * max_blocks + t[i] / PAGE];
                planted_key(kc + ((blk * hkv + g) * PAGE + t[i] % PAGE) * d, q + (b * hq + probe[b * hkv + g]) * d, d);
            }
        }
    for (long blk = 0; blk < nb; blk++) {
        if (used[blk]) continue;
        for (long i = blk * per_block; i < (blk + 1) * per_block; i++) {
            kc[i] = 0;
            vc[i] = bf16_bits(ldexpf(bf16_value(vc[i]), GARBAGE_EXPONENT));
        }
    }
    for (long b = 0; b < B; b++) {
        const long len = seq_len[b], blk = table[b * max_blocks + (len - 1) / PAGE];
        for (long g = 0; g < hkv; g++)
            for (long slot = (len - 1) % PAGE + 1; slot < PAGE; slot++) {
                const long at = ((blk * hkv + g) * PAGE + slot) * d;
                /* with a probe, the slot looks like one more planted token to it */
                if (probe[b * hkv + g] >= 0) planted_key(kc + at, q + (b * hq + probe[b * hkv + g]) * d, d);
                else memset(kc + at, 0, sizeof(uint16_t) * (size_t)d);
                for (long x = 0; x < d; x++) vc[at + x] = bf16_bits(ldexpf(bf16_value(vc[at + x]), GARBAGE_EXPONENT));
            }
    }
    free(probe);
    free(used);
    free(scratch);
    free(perm);
}

/* Rows [r0, r1) (row r: query head r % Hq of sequence r / Hq): softmax(scale q.K^T) V over the
 * sequence's tokens, in float64 (ref_attention_row), with the magnitudes sum_j p_j |v_j| of each
 * output element. The keys and values of a (sequence, KV head) are gathered once for the query
 * heads that share them. */
void sv_decode_reference(gr_case *c, long r0, long r1) {
    const gr_shape *s = &c->shape;
    const long hq = DC_HQ(s), hkv = DC_HKV(s), d = DC_D(s), G = DC_GROUP(s), max_blocks = DC_MAX_BLOCKS(s);
    const float *q = gr_in_f32(c, "q");
    const uint16_t *kc = gr_in(c, "k_cache"), *vc = gr_in(c, "v_cache");
    const int *seq_len = gr_in(c, "seq_len"), *table = gr_in(c, "block_table");
    float *out = gr_ref(c, "out"), *mag = gr_scale(c, "out");
    const float scale = (float)c->param[0];
    float *k = checked_malloc(sizeof(float) * (size_t)(DC_MAXCTX(s) * d));
    float *v = checked_malloc(sizeof(float) * (size_t)(DC_MAXCTX(s) * d));
    long have_b = -1, have_g = -1;
    for (long r = r0; r < r1; r++) {
        const long b = r / hq, g = (r % hq) / G;
        const long len = seq_len[b];
        if (b != have_b || g != have_g) {
            for (long t = 0; t < len; t++) {
                const long blk = table[b * max_blocks + t / PAGE];
                const long at = ((blk * hkv + g) * PAGE + t % PAGE) * d;
                for (long x = 0; x < d; x++) {
                    k[t * d + x] = bf16_value(kc[at + x]);
                    v[t * d + x] = bf16_value(vc[at + x]);
                }
            }
            have_b = b;
            have_g = g;
        }
        ref_attention_row(q + r * d, k, v, (int)len, (int)d, scale, (int)len, out + r * d, NULL, mag + r * d);
    }
    free(k);
    free(v);
}

/* Measured against the magnitudes sum_j p_j |v_j| (which bound |out|):
 *  - the BF16 output rounds by at most 2^-9 of itself;
 *  - the FP32 scores: products of BF16 values are exact, a sum of D of them errs by about
 *    sqrt(D) eps of the partial sums, far below 2^-9 in the probabilities even for stretched rows;
 *    that and exp2's few ulps are what the other 2^-9 of the 2^-8 covers;
 *  - the softmax sum and P V add up to max_context terms of one sign (the weights) in FP32: in the
 *    worst order that errs by max_context eps of the result, the gr_bf16_gemm_nt_tolerance rule.
 * A planted token dropped or repeated moves its probe's output by about a fifth, a value read past
 * a sequence's end by a thousand times a value: both far above this at every length. */
double sv_decode_tolerance(const gr_shape *s) { return 0x1p-8 + GR_EPS_F32 * (double)DC_MAXCTX(s); }

/* Both products, q.K^T and P V: 4 FLOP per token, head-dim element and query head. */
double sv_decode_flops(const gr_shape *s) {
    return 4.0 * (double)DC_HQ(s) * (double)DC_D(s) * sv_decode_tokens(s, NULL);
}

/* The least a decode step moves: each token's key and value once per KV head (the query heads of a
 * group share them: GQA's saving), q read and out written once, the table entries of the pages
 * used and the lengths. 2 bytes a BF16 element, 4 an index. */
double sv_decode_bytes(const gr_shape *s) {
    double pages;
    const double tokens = sv_decode_tokens(s, &pages);
    return 2.0 * 2.0 * tokens * (double)DC_HKV(s) * (double)DC_D(s) +
           2.0 * 2.0 * (double)DC_B(s) * (double)DC_HQ(s) * (double)DC_D(s) + 4.0 * pages + 4.0 * (double)DC_B(s);
}

void sv_decode_note(const gr_shape *s, char *buf, size_t len) {
    const double tokens = sv_decode_tokens(s, NULL), kv = 4.0 * tokens * (double)DC_HKV(s) * (double)DC_D(s);
    snprintf(buf, len, "K and V: %.0f MB, %.0f tokens of %ld KV heads; a block per (sequence, KV head) is %ld blocks, "
             "each streaming %.1f MB", kv / 1e6, tokens, DC_HKV(s), DC_B(s) * DC_HKV(s),
             kv / (double)(DC_B(s) * DC_HKV(s)) / 1e6);
}
