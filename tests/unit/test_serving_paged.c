/* Session 12's paged KV cache as the grader sees it (grader/serving_paged.c): the KV write (03) and
 * decode attention over the pages (04, 05). The inputs' invariants (distinct slots, a block table
 * that is a permutation, lengths, garbage where nothing may be read), the references by hand, the
 * byte counts, and the tolerances' claims: a kernel's FP32 arithmetic with a BF16 output passes,
 * one token too many or too few, a wrong KV head or a page counted twice fails. Host cases: no GPU. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "internal.h"
#include "serving.h"
#include "../../serving/12-serving/exercises.h"

static const gr_exercise KV_EX = {.name = "unit_kv_write", .on_host = true, .adjust_inputs = sv_kv_write_adjust};
static const gr_exercise DEC_EX = {.name = "unit_decode", .on_host = true, .adjust_inputs = sv_decode_adjust};

static inline float bf(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static uint16_t to_bf16(float x) {  /* round to nearest even */
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7F800000u) == 0x7F800000u) return (uint16_t)(u >> 16);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

Test(serving_paged, grader_constants_are_the_exercises) {
    cr_assert_eq(SV_PAGE_TOKENS, PAGE_TOKENS);
    cr_assert_eq(SV_SPLIT_MAX, SPLIT_MAX);
}

/* ==== 03: the KV write ============================================================================ */

static void kv_case(gr_case *c, gr_shape s, uint64_t seed) {
    char err[256] = "";
    gr_case_init(c, &KV_EX, s, seed);
    sv_kv_write_declare(c);
    cr_assert(gr_case_alloc(c, err, sizeof err), "alloc: %s", err);
    gr_case_fill_inputs(c);
}

/* check.c's shapes, one where the batch is 33 of the cache's 48 slots, and the bench shape. */
static const gr_shape KV_SHAPES[] = {{4, {1, 1, 64, 4}}, {4, {17, 2, 128, 8}}, {4, {100, 8, 64, 40}},
                                     {4, {33, 8, 128, 3}}, {4, {257, 4, 128, 100}}, {4, {4096, 8, 128, 2048}}};

Test(serving_paged, kv_write_slots_are_distinct_and_one_in_eight_is_padding) {
    for (size_t i = 0; i < sizeof KV_SHAPES / sizeof KV_SHAPES[0]; i++)
        for (uint64_t seed = 1; seed <= (KV_SHAPES[i].d[0] > 1000 ? 1u : 3u); seed++) {  /* the bench shape once */
            gr_case c;
            kv_case(&c, KV_SHAPES[i], seed);
            const long T = KV_SHAPES[i].d[0], slots = KV_SHAPES[i].d[3] * PAGE_TOKENS;
            const int *slot_of = gr_in(&c, "slot_of");
            unsigned char *seen = calloc((size_t)slots, 1);
            long padding = 0;
            for (long t = 0; t < T; t++) {
                if (slot_of[t] < 0) {
                    cr_assert_eq(slot_of[t], -1);
                    padding++;
                    continue;
                }
                cr_assert_lt(slot_of[t], slots, "slot %d of a cache of %ld", slot_of[t], slots);
                cr_assert_not(seen[slot_of[t]], "slot %d given twice", slot_of[t]);
                seen[slot_of[t]] = 1;
            }
            cr_assert_eq(padding, T / 8, "T = %ld: %ld padding tokens", T, padding);
            free(seen);
            gr_case_free(&c);
        }
}

/* Fresh slots at every fill: a kernel cannot learn the mapping. */
Test(serving_paged, kv_write_slots_change_with_every_fill) {
    gr_case c;
    kv_case(&c, GR_SHAPE(100, 8, 64, 40), 7);
    int first[100];
    memcpy(first, gr_in(&c, "slot_of"), sizeof first);
    gr_case_fill_inputs(&c);
    cr_assert_neq(memcmp(first, gr_in(&c, "slot_of"), sizeof first), 0);
    gr_case_free(&c);
}

/* T = 3 tokens, one KV head of 8, two blocks: token 0 to block 1 slot 1 (slot 17), token 1
 * padding, token 2 to block 0 slot 3. Everything else keeps its value. */
Test(serving_paged, kv_write_reference_by_hand) {
    gr_case c;
    kv_case(&c, GR_SHAPE(3, 1, 8, 2), 11);
    int *slot_of = (int *)gr_in(&c, "slot_of");
    slot_of[0] = 17;
    slot_of[1] = -1;
    slot_of[2] = 3;
    sv_kv_write_reference(&c, 0, c.rows);
    const char *cache[2] = {"k_cache", "v_cache"}, *fresh[2] = {"k_new", "v_new"};
    for (int w = 0; w < 2; w++) {
        const uint16_t *before = gr_in(&c, cache[w]), *rows = gr_in(&c, fresh[w]);
        const float *ref = gr_ref(&c, cache[w]);
        for (long i = 0; i < 2 * 16 * 8; i++) {
            const long slot = i / 8, x = i % 8;
            float want = slot == 17 ? bf(rows[0 * 8 + x]) : slot == 3 ? bf(rows[2 * 8 + x]) : bf(before[i]);
            cr_assert_eq(ref[i], want, "%s[%ld]: %g, expected %g", cache[w], i, ref[i], want);
        }
    }
    gr_case_free(&c);
}

/* Reference rows are blocks: the reference of blocks [1, 3) writes only those. */
Test(serving_paged, kv_write_reference_fills_only_its_blocks) {
    gr_case c;
    kv_case(&c, GR_SHAPE(40, 2, 64, 5), 12);
    float *ref = gr_ref(&c, "k_cache");
    const long per_block = 2 * 16 * 64, n = 5 * per_block;
    for (long i = 0; i < n; i++) ref[i] = -999.0f;
    sv_kv_write_reference(&c, 1, 3);
    for (long i = 0; i < n; i++) {
        const bool mine = i >= per_block && i < 3 * per_block;
        cr_assert_eq(ref[i] == -999.0f, !mine, "element %ld (block %ld)", i, i / per_block);
    }
    gr_case_free(&c);
}

/* What the kernel leaves in the caches: the reference itself, or with one mistake. */
enum kv_mistake { KV_CORRECT, KV_SKIP_ONE_TOKEN, KV_WRITE_PADDING_TO_SLOT_0, KV_ONE_ELEMENT_OFF, KV_SWAP_K_V };

static void kv_emulate(gr_case *c, enum kv_mistake mistake) {
    const gr_shape *s = &c->shape;
    const long T = s->d[0], hkv = s->d[1], d = s->d[2];
    const int *slot_of = gr_in(c, "slot_of");
    const char *cache[2] = {"k_cache", "v_cache"}, *fresh[2] = {"k_new", "v_new"};
    for (int w = 0; w < 2; w++) {
        gr_buffer *b = (gr_buffer *)gr_find(c, cache[w]);
        memcpy(b->host, b->init, b->count * 2);
        uint16_t *out = b->host;
        const uint16_t *rows = gr_in(c, fresh[mistake == KV_SWAP_K_V ? 1 - w : w]);
        bool skipped = false;
        for (long t = 0; t < T; t++) {
            int slot = slot_of[t];
            if (slot < 0 && mistake == KV_WRITE_PADDING_TO_SLOT_0) slot = 0;
            if (slot < 0) continue;
            if (mistake == KV_SKIP_ONE_TOKEN && !skipped) { skipped = true; continue; }
            for (long h = 0; h < hkv; h++)
                memcpy(out + (((long)(slot / PAGE_TOKENS) * hkv + h) * PAGE_TOKENS + slot % PAGE_TOKENS) * d,
                       rows + (t * hkv + h) * d, (size_t)d * 2);
        }
        if (mistake == KV_ONE_ELEMENT_OFF && w == 1) {
            for (long t = 0; t < T; t++)
                if (slot_of[t] >= 0) {
                    const long blk = slot_of[t] / PAGE_TOKENS, pos = slot_of[t] % PAGE_TOKENS;
                    out[(blk * hkv * PAGE_TOKENS + pos) * d] ^= 1;  /* the last bit of one element */
                    break;
                }
        }
    }
}

static bool kv_judge(gr_case *c) {
    bool ok = true;
    sv_kv_write_reference(c, 0, c->rows);
    const char *cache[2] = {"k_cache", "v_cache"};
    for (int w = 0; w < 2; w++) {
        const gr_buffer *b = gr_find(c, cache[w]);
        gr_comparison cmp;
        gr_compare_scaled(b->dtype, b->host, b->ref, b->scale, b->count, b->row_len, NULL,
                          sv_kv_write_tolerance(&c->shape), &cmp);
        ok &= cmp.ok;
    }
    return ok;
}

Test(serving_paged, kv_write_exact_copy_passes_and_every_mistake_fails) {
    const gr_shape shapes[] = {GR_SHAPE(17, 2, 128, 8), GR_SHAPE(100, 8, 64, 40), GR_SHAPE(33, 8, 128, 3)};
    for (size_t i = 0; i < 3; i++) {
        gr_case c;
        kv_case(&c, shapes[i], 100 + i);
        kv_emulate(&c, KV_CORRECT);
        cr_assert(kv_judge(&c), "shape %zu: the exact copy fails", i);
        const enum kv_mistake wrong[] = {KV_SKIP_ONE_TOKEN, KV_WRITE_PADDING_TO_SLOT_0, KV_ONE_ELEMENT_OFF,
                                         KV_SWAP_K_V};
        for (int m = 0; m < 4; m++) {
            kv_emulate(&c, wrong[m]);
            cr_assert_not(kv_judge(&c), "shape %zu: mistake %d passes", i, (int)wrong[m]);
        }
        gr_case_free(&c);
    }
}

/* (4096, 8, 128): 3584 real tokens of 8 x 128 keys and values, read and written; 4096 slot indices. */
Test(serving_paged, kv_write_bytes) {
    gr_shape s = GR_SHAPE(4096, 8, 128, 2048);
    cr_assert_eq(sv_kv_write_bytes(&s), 3584.0 * 8 * 128 * 2 * 2 * 2 + 4096.0 * 4);
    gr_shape one = GR_SHAPE(1, 1, 64, 4);
    cr_assert_eq(sv_kv_write_bytes(&one), 64.0 * 2 * 2 * 2 + 4);
}

/* ==== 04, 05: decode ================================================================================= */

#define B_OF(c) ((c)->shape.d[0])
#define HQ_OF(c) ((c)->shape.d[1])
#define HKV_OF(c) ((c)->shape.d[2])
#define D_OF(c) ((c)->shape.d[3])
#define L_OF(c) ((c)->shape.d[4])
#define MB_OF(c) ((L_OF(c) + PAGE_TOKENS - 1) / PAGE_TOKENS)

static void dec_case(gr_case *c, gr_shape s, uint64_t seed) {
    char err[256] = "";
    gr_case_init(c, &DEC_EX, s, seed);
    sv_decode_declare(c);
    cr_assert(gr_case_alloc(c, err, sizeof err), "alloc: %s", err);
    gr_case_fill_inputs(c);
}

/* check.c's DECODE_SHAPES, then smaller cousins of the bench shapes (the bench shapes themselves
 * hold 600 MB of cache). */
static const gr_shape DEC_SHAPES[] = {
    {5, {1, 1, 1, 64, 1}},      {5, {1, 4, 1, 128, 17}},    {5, {3, 8, 2, 64, 100}},   {5, {5, 32, 8, 128, 300}},
    {5, {2, 8, 8, 128, 1000}},  {5, {7, 16, 2, 64, 33}},    {5, {1, 32, 8, 128, 5000}}, {5, {2, 8, 2, 128, 4096}},
    {5, {1, 4, 1, 128, 32768}}};
#define N_DEC_SHAPES ((int)(sizeof DEC_SHAPES / sizeof DEC_SHAPES[0]))

static long page_block(gr_case *c, long b, long p) {
    return ((const int *)gr_in(c, "block_table"))[b * MB_OF(c) + p];
}
/* Element x of token t's key (value when v) of KV head g of sequence b, through the block table. */
static const uint16_t *token_row(gr_case *c, bool v, long b, long g, long t) {
    const uint16_t *cache = gr_in(c, v ? "v_cache" : "k_cache");
    const long blk = page_block(c, b, t / PAGE_TOKENS);
    return cache + ((blk * HKV_OF(c) + g) * PAGE_TOKENS + t % PAGE_TOKENS) * D_OF(c);
}

Test(serving_paged, decode_lengths_and_block_table) {
    for (int i = 0; i < N_DEC_SHAPES; i++)
        for (uint64_t seed = 1; seed <= 2; seed++) {
            gr_case c;
            dec_case(&c, DEC_SHAPES[i], seed);
            const long B = B_OF(&c), L = L_OF(&c), mb = MB_OF(&c), nb = sv_decode_num_blocks(&c.shape);
            const int *len = gr_in(&c, "seq_len"), *table = gr_in(&c, "block_table");
            unsigned char *seen = calloc((size_t)nb, 1);
            double tokens = 0, pages_used = 0;
            cr_assert_eq(len[0], L, "the first sequence holds max_context");
            for (long b = 0; b < B; b++) {
                cr_assert(len[b] >= 1 && len[b] <= L, "length %d", len[b]);
                if (L >= SV_LONG_CONTEXT) cr_assert_geq(4 * (long)len[b], 3 * L, "a long context's length %d", len[b]);
                const long pages = (len[b] + PAGE_TOKENS - 1) / PAGE_TOKENS;
                tokens += len[b];
                pages_used += (double)pages;
                for (long p = 0; p < mb; p++) {
                    const int blk = table[b * mb + p];
                    if (p >= pages) { cr_assert_eq(blk, -1, "entry %ld past the last page", p); continue; }
                    cr_assert(blk >= 0 && blk < nb, "block %d of %ld", blk, nb);
                    cr_assert_not(seen[blk], "block %d listed twice", blk);
                    seen[blk] = 1;
                }
            }
            cr_assert_gt(nb, pages_used, "some blocks stay unused");
            double want_pages;
            if (L >= SV_LONG_CONTEXT) {
                cr_assert_eq(tokens, sv_decode_tokens(&c.shape, &want_pages), "the lengths are the fixed set");
                cr_assert_eq(pages_used, want_pages);
            }
            free(seen);
            gr_case_free(&c);
        }
}

/* The pages are scattered: not the blocks 0, 1, 2 ... in order. */
Test(serving_paged, decode_pages_are_scattered) {
    gr_case c;
    dec_case(&c, GR_SHAPE(4, 8, 2, 128, 4096), 3);
    const int *table = gr_in(&c, "block_table");
    long in_order = 0;
    for (long p = 1; p < 256; p++) in_order += table[p] == table[p - 1] + 1;
    cr_assert_lt(in_order, 10, "%ld of 255 neighbouring pages are neighbouring blocks", in_order);
    gr_case_free(&c);
}

/* Every value past a sequence's length in its last page, and in every block no table lists, is
 * 2^100 times an input; the keys there are 0 (or a probe's planted key). Inside, every key and
 * value is within [-1, 1]. */
Test(serving_paged, decode_garbage_where_nothing_may_be_read) {
    gr_case c;
    dec_case(&c, GR_SHAPE(3, 8, 2, 64, 100), 5);
    const long B = 3, hkv = 2, d = 64, nb = sv_decode_num_blocks(&c.shape), per_block = hkv * PAGE_TOKENS * d;
    const int *len = gr_in(&c, "seq_len"), *table = gr_in(&c, "block_table");
    const uint16_t *kc = gr_in(&c, "k_cache"), *vc = gr_in(&c, "v_cache");
    unsigned char *valid = calloc((size_t)(nb * per_block), 1);
    for (long b = 0; b < B; b++)
        for (long t = 0; t < len[b]; t++)
            for (long g = 0; g < hkv; g++)
                memset(valid + ((table[b * MB_OF(&c) + t / PAGE_TOKENS] * hkv + g) * PAGE_TOKENS + t % PAGE_TOKENS) * d,
                       1, (size_t)d);
    double big_k = 0, small_v = INFINITY, inside = 0;
    for (long i = 0; i < nb * per_block; i++) {
        const double k = fabs(bf(kc[i])), v = fabs(bf(vc[i]));
        if (valid[i]) inside = fmax(inside, fmax(k, v));
        else { big_k = fmax(big_k, k); small_v = fmin(small_v, v == 0 ? INFINITY : v); }
    }
    cr_assert_leq(inside, 1.0, "a readable value of %g", inside);
    cr_assert_leq(big_k, 1.0, "garbage keys are 0 or planted (+-1): %g", big_k);
    cr_assert_gt(small_v, 1e20, "garbage values are 2^100 times an input: %g", small_v);
    free(valid);
    gr_case_free(&c);
}

/* The planted keys: the first and last tokens of each probed (sequence, KV head) are the signs of
 * one query head of the group. */
Test(serving_paged, decode_planted_keys_are_a_probe_query_signs) {
    gr_case c;
    dec_case(&c, GR_SHAPE(3, 8, 2, 64, 100), 9);
    const long G = 4, d = 64;
    const int *len = gr_in(&c, "seq_len");
    const uint16_t *q = gr_in(&c, "q");
    for (long b = 0; b < 3; b++)
        for (long g = 0; g < 2; g++) {
            long matches = 0;
            for (long h = g * G; h < (g + 1) * G; h++) {
                bool all = true;
                const long ends[2] = {0, len[b] - 1};
                for (int e = 0; e < 2; e++) {
                    const uint16_t *k = token_row(&c, false, b, g, ends[e]);
                    for (long x = 0; x < d; x++) all &= bf(k[x]) == (bf(q[(b * 8 + h) * d + x]) < 0 ? -1.0f : 1.0f);
                }
                matches += all;
            }
            cr_assert_geq(matches, 1, "sequence %ld, KV head %ld has no probe", b, g);
        }
    gr_case_free(&c);
}

/* B = 2, Hq = 2, Hkv = 1, D = 4 (scale 1/2), max_context 17. Sequence 1 holds 17 tokens: 0..15 in
 * one block, 16 in another. Keys are zero but token 16's (1, 0, 0, 0); query head 0 is (2, 0, 0, 0),
 * so token 16 scores 1 and the rest 0: out = (16 e^0 v_0 + e v_16) / (16 + e) with v = (1,0,0,0) but
 * v_16 = (0,0,0,1). Query head 1 is 0: every token weighs 1/17. Sequence 0 holds 3 tokens, scores
 * 0, 1, -1 against values e1, e2, e3. */
Test(serving_paged, decode_reference_by_hand) {
    gr_case c;
    dec_case(&c, GR_SHAPE(2, 2, 1, 4, 17), 21);
    int *len = (int *)gr_in(&c, "seq_len"), *table = (int *)gr_in(&c, "block_table");
    uint16_t *q = (uint16_t *)gr_in(&c, "q");
    uint16_t *kc = (uint16_t *)gr_in(&c, "k_cache"), *vc = (uint16_t *)gr_in(&c, "v_cache");
    const long nb = sv_decode_num_blocks(&c.shape);
    cr_assert_eq(nb, 5);
    memset(kc, 0, (size_t)(nb * 16 * 4 * 2));
    memset(vc, 0, (size_t)(nb * 16 * 4 * 2));
    memset(q, 0, 2 * 2 * 4 * 2);
    len[0] = 3;
    len[1] = 17;
    table[0] = 4; table[1] = -1;  /* sequence 0: block 4 */
    table[2] = 2; table[3] = 0;   /* sequence 1: blocks 2 then 0 */
    q[0 * 4 + 0] = to_bf16(2.0f); /* sequence 0, head 0 */
    q[2 * 4 + 0] = to_bf16(2.0f); /* sequence 1, head 0; head 1 stays 0 */
    /* sequence 0: k = 0, (1,0,0,0), (-1,0,0,0); v = e1, e2, e3 */
    kc[(4 * 16 + 1) * 4] = to_bf16(1.0f);
    kc[(4 * 16 + 2) * 4] = to_bf16(-1.0f);
    for (int t = 0; t < 3; t++) vc[(4 * 16 + t) * 4 + t] = to_bf16(1.0f);
    /* sequence 1: v = e1 for tokens 0..15 (block 2), token 16 (block 0, slot 0): k = e1, v = e4 */
    for (int t = 0; t < 16; t++) vc[(2 * 16 + t) * 4] = to_bf16(1.0f);
    kc[0] = to_bf16(1.0f);
    vc[3] = to_bf16(1.0f);
    cr_assert_eq((float)c.param[0], 0.5f);
    sv_decode_reference(&c, 0, c.rows);
    const float *out = gr_ref(&c, "out"), *mag = gr_scale(&c, "out");
    const double e = exp(1.0), z0 = 1 + e + 1 / e;
    const double want[4][4] = {{1 / z0, e / z0, 1 / (e * z0), 0},
                               {1.0 / 3, 1.0 / 3, 1.0 / 3, 0},
                               {16 / (16 + e), 0, 0, e / (16 + e)},
                               {16.0 / 17, 0, 0, 1.0 / 17}};
    for (int r = 0; r < 4; r++)
        for (int x = 0; x < 4; x++) {
            cr_assert_float_eq(out[r * 4 + x], want[r][x], 1e-6, "out[%d][%d] = %g, expected %g", r, x, out[r * 4 + x],
                               want[r][x]);
            cr_assert_float_eq(mag[r * 4 + x], want[r][x], 1e-6, "magnitude [%d][%d]", r, x);  /* v >= 0 */
        }
    gr_case_free(&c);
}

/* ---- what a kernel computes: FP32, page by page, the output rounded to BF16 --------------------- */

enum dec_way {
    DEC_CORRECT,        /* 04's kernel: four warps take every fourth page, online softmax, merged */
    DEC_SPLIT,          /* 05's: the pages in contiguous splits, partials combined by their lse */
    DEC_DROP_LAST,      /* the last token missed */
    DEC_DROP_FIRST,     /* the first token missed */
    DEC_ONE_PAST_END,   /* one slot past the length read as a token */
    DEC_WHOLE_PAGE,     /* the last page read whole, its slots past the length too */
    DEC_GQA_MODULO,     /* query head h reads KV head h % Hkv, not h / (Hq / Hkv) */
    DEC_SPLIT_OVERLAP,  /* 05 with each split's range one page too long: boundary pages counted twice */
    DEC_SPLIT_GAP,      /* 05 with each split's range one page too short: boundary pages lost */
    DEC_N
};
static const char *const DEC_WAY_NAME[] = {"correct",         "split",          "drop-last",
                                           "drop-first",      "one-past-end",   "whole-last-page",
                                           "gqa-modulo",      "split-overlap",  "split-gap"};

/* Running state of one query row: max and sum in log2 units, accumulator. */
typedef struct {
    float m, l;
    float acc[128];
} dec_state;

static void state_init(dec_state *st, long d) {
    st->m = -INFINITY;
    st->l = 0;
    for (long x = 0; x < d; x++) st->acc[x] = 0;
}

/* Fold tokens [t0, t1) of the row's sequence (t1 may pass the length: the slots are read as they
 * are) into the state, one online-softmax step, as a warp does with a page. */
static void fold(gr_case *c, dec_state *st, const float *qs, long b, long g, long t0, long t1) {
    const long d = D_OF(c);
    float s[PAGE_TOKENS + 1], mx = -INFINITY;
    for (long t = t0; t < t1; t++) {
        const uint16_t *k = token_row(c, false, b, g, t);
        float dot = 0;
        for (long x = 0; x < d; x++) dot = fmaf(qs[x], bf(k[x]), dot);
        s[t - t0] = dot;
        mx = fmaxf(mx, dot);
    }
    const float m_new = fmaxf(st->m, mx), alpha = exp2f(st->m - m_new);
    st->l *= alpha;
    for (long x = 0; x < d; x++) st->acc[x] *= alpha;
    for (long t = t0; t < t1; t++) {
        const float p = exp2f(s[t - t0] - m_new);
        const uint16_t *v = token_row(c, true, b, g, t);
        st->l += p;
        for (long x = 0; x < d; x++) st->acc[x] = fmaf(p, bf(v[x]), st->acc[x]);
    }
    st->m = m_new;
}

/* Several states of one row into one (the block's merge of its warps, or 05's combine). */
static void merge(dec_state *into, const dec_state *parts, int n, long d) {
    state_init(into, d);
    for (int i = 0; i < n; i++) into->m = fmaxf(into->m, parts[i].m);
    for (int i = 0; i < n; i++) {
        const float w = parts[i].m == -INFINITY ? 0.0f : exp2f(parts[i].m - into->m);
        into->l += w * parts[i].l;
        for (long x = 0; x < d; x++) into->acc[x] += w * parts[i].acc[x];
    }
}

/* Pages [p0, p1) of a sequence of `len` tokens into `st`: every page clipped to the length, but for
 * the ways that read past it. */
static void fold_pages(gr_case *c, dec_state *st, const float *qs, long b, long g, long len, long p0, long p1,
                       enum dec_way way) {
    const long pages = (len + PAGE_TOKENS - 1) / PAGE_TOKENS;
    for (long p = p0; p < p1 && p < pages; p++) {
        long t0 = p * PAGE_TOKENS, t1 = t0 + PAGE_TOKENS < len ? t0 + PAGE_TOKENS : len;
        if (p == pages - 1) {
            if (way == DEC_DROP_LAST) t1--;
            if (way == DEC_ONE_PAST_END && len % PAGE_TOKENS) t1++;
            if (way == DEC_WHOLE_PAGE) t1 = t0 + PAGE_TOKENS;
        }
        if (p == 0 && way == DEC_DROP_FIRST) t0++;
        if (t1 > t0) fold(c, st, qs, b, g, t0, t1);
    }
}

static void emulate_decode(gr_case *c, enum dec_way way) {
    const long B = B_OF(c), hq = HQ_OF(c), hkv = HKV_OF(c), d = D_OF(c), G = hq / hkv;
    const float *q = gr_in_f32(c, "q");
    const int *len = gr_in(c, "seq_len");
    uint16_t *out = gr_find(c, "out")->host;
    const float q_scale = (float)c->param[0] * 1.4426950408889634f;  /* scores in log2 units */
    const bool split = way == DEC_SPLIT || way == DEC_SPLIT_OVERLAP || way == DEC_SPLIT_GAP;
    for (long b = 0; b < B; b++)
        for (long h = 0; h < hq; h++) {
            const long g = way == DEC_GQA_MODULO ? h % hkv : h / G;
            float qs[128];
            for (long x = 0; x < d; x++) qs[x] = q[(b * hq + h) * d + x] * q_scale;
            const long pages = (len[b] + PAGE_TOKENS - 1) / PAGE_TOKENS;
            dec_state parts[SPLIT_MAX], all;
            int n = 0;
            if (split) {  /* 7 pages a split at least (so that the checked shapes have several) */
                const long by_max = (pages + SPLIT_MAX - 1) / SPLIT_MAX, per = by_max > 7 ? by_max : 7;
                for (long p0 = 0; p0 < pages; p0 += per, n++) {
                    const long p1 = p0 + per + (way == DEC_SPLIT_OVERLAP) - (way == DEC_SPLIT_GAP && p0 + per < pages);
                    state_init(&parts[n], d);
                    fold_pages(c, &parts[n], qs, b, g, len[b], p0, p1, way);
                }
            } else {  /* four warps, page w, w + 4, ... each */
                for (n = 0; n < 4; n++) {
                    state_init(&parts[n], d);
                    for (long p = n; p < pages; p += 4) fold_pages(c, &parts[n], qs, b, g, len[b], p, p + 1, way);
                }
            }
            merge(&all, parts, n, d);
            for (long x = 0; x < d; x++) out[(b * hq + h) * d + x] = to_bf16(all.acc[x] / all.l);
        }
}

/* The comparison run.c makes, at the exercise's tolerance (the full reference). */
static gr_comparison dec_judge(gr_case *c) {
    const gr_buffer *b = gr_find(c, "out");
    gr_comparison cmp;
    gr_compare_scaled(b->dtype, b->host, b->ref, b->scale, b->count, b->row_len, NULL, sv_decode_tolerance(&c->shape),
                      &cmp);
    return cmp;
}

Test(serving_paged, decode_tolerance_is_bf16_rounding_plus_accumulation) {
    gr_shape s = GR_SHAPE(1, 32, 8, 128, 32768), small = GR_SHAPE(1, 1, 1, 64, 1);
    cr_assert_eq(sv_decode_tolerance(&s), 0x1p-8 + 32768 * GR_EPS_F32);
    cr_assert_eq(sv_decode_tolerance(&small), 0x1p-8 + GR_EPS_F32);
}

/* 04's and 05's arithmetic passes at every checked shape and seed. A token too many or too few, or
 * the wrong KV head, fails at every shape where the mistake changes anything (the probes and the
 * garbage see to it). A split boundary off by one page is caught by the unprobed rows whose weight
 * sits on few keys, so only where such a row's keys fall in a boundary page: not at every shape
 * (the 32768-token shape here has 4 rows), but at some shape of the list in every seed. */
Test(serving_paged, decode_correct_passes_and_mistakes_fail, .timeout = 120) {
    for (uint64_t seed = 1; seed <= 2; seed++) {
        int caught[DEC_N] = {0}, tried[DEC_N] = {0};
        for (int i = 0; i < N_DEC_SHAPES; i++) {
            gr_case c;
            dec_case(&c, DEC_SHAPES[i], 1000 * seed + (uint64_t)i);
            sv_decode_reference(&c, 0, c.rows);
            const long L = L_OF(&c), B = B_OF(&c), G = HQ_OF(&c) / HKV_OF(&c);
            const int *len = gr_in(&c, "seq_len");
            bool any_partial_page = false, any_multi_split = false;
            for (long b = 0; b < B; b++) {
                any_partial_page |= len[b] % PAGE_TOKENS != 0;
                any_multi_split |= len[b] > 7 * PAGE_TOKENS;
            }
            for (int w = 0; w < DEC_N; w++) {
                const enum dec_way way = (enum dec_way)w;
                if ((way == DEC_ONE_PAST_END || way == DEC_WHOLE_PAGE) && !any_partial_page) continue;
                if ((way == DEC_DROP_FIRST || way == DEC_DROP_LAST) && L == 1) continue;  /* 0/0 */
                if (way == DEC_GQA_MODULO && (G == 1 || HKV_OF(&c) == 1)) continue;      /* the same head */
                if ((way == DEC_SPLIT_OVERLAP || way == DEC_SPLIT_GAP) && !any_multi_split) continue;
                emulate_decode(&c, way);
                gr_comparison cmp = dec_judge(&c);
                tried[w]++;
                caught[w] += !cmp.ok;
                cr_log_info("seed %lu %-15s shape %ld x %2ld x %ld x %3ld x %5ld: error %.2e, tolerance %.2e, %5ld bad",
                            (unsigned long)seed, DEC_WAY_NAME[w], B, HQ_OF(&c), HKV_OF(&c), D_OF(&c), L, cmp.rel_l2,
                            cmp.tol, cmp.n_bad);
                if (way == DEC_CORRECT || way == DEC_SPLIT)
                    cr_assert(cmp.ok, "%s at shape %d seed %lu: error %.3e, tolerance %.3e, %ld bad", DEC_WAY_NAME[w],
                              i, (unsigned long)seed, cmp.rel_l2, cmp.tol, cmp.n_bad);
                else if (way != DEC_SPLIT_OVERLAP && way != DEC_SPLIT_GAP)
                    cr_assert_not(cmp.ok, "%s at shape %d seed %lu passes: error %.3e, tolerance %.3e",
                                  DEC_WAY_NAME[w], i, (unsigned long)seed, cmp.rel_l2, cmp.tol);
            }
            gr_case_free(&c);
        }
        for (int w = DEC_SPLIT_OVERLAP; w <= DEC_SPLIT_GAP; w++) {
            cr_log_info("seed %lu %s caught at %d of %d shapes", (unsigned long)seed, DEC_WAY_NAME[w], caught[w],
                        tried[w]);
            cr_assert_gt(caught[w], 0, "%s passes every shape of seed %lu", DEC_WAY_NAME[w], (unsigned long)seed);
        }
    }
}

/* (32, 32, 8, 128, 4096): 4096 + the 31 lengths 4096 - j * 4096 / 128 tokens, each of 8 heads'
 * keys and values in BF16; q and out; the table entries of their pages and the 32 lengths. */
Test(serving_paged, decode_bytes_and_flops) {
    gr_shape s = GR_SHAPE(32, 32, 8, 128, 4096);
    double tokens = 4096, pages = 256;
    for (long j = 1; j < 32; j++) {
        const long len = 4096 - j * 32;
        tokens += (double)len;
        pages += (double)((len + 15) / 16);
    }
    double got_pages;
    cr_assert_eq(sv_decode_tokens(&s, &got_pages), tokens);
    cr_assert_eq(got_pages, pages);
    cr_assert_eq(sv_decode_bytes(&s), tokens * 8 * 128 * 2 * 2 + 32.0 * 32 * 128 * 2 * 2 + 4 * pages + 4 * 32);
    cr_assert_eq(sv_decode_flops(&s), 4.0 * 32 * 128 * tokens);
    gr_shape one = GR_SHAPE(1, 32, 8, 128, 32768);
    cr_assert_eq(sv_decode_tokens(&one, NULL), 32768);
    gr_shape tiny = GR_SHAPE(1, 1, 1, 64, 1);
    cr_assert_eq(sv_decode_bytes(&tiny), 64.0 * 2 * 2 + 64.0 * 2 * 2 + 4 + 4);
}

Test(serving_paged, decode_bench_note) {
    char buf[256];
    gr_shape one = GR_SHAPE(1, 32, 8, 128, 32768);
    sv_decode_note(&one, buf, sizeof buf);
    cr_assert_str_eq(buf, "K and V: 134 MB, 32768 tokens of 8 KV heads; a block per (sequence, KV head) is 8 blocks, "
                          "each streaming 16.8 MB");
}
