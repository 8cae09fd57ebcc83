/* The serving numerics of the mini-model's CPU engine (MODEL.md "Serving numerics"): the BF16
 * rounding, the FP8 activation quantiser and the FP8 x FP8 product on cases worked by hand; what
 * mini_model_init_numerics refuses; and on the committed trained weights: serving greedy text is
 * deterministic, its first logits are near float's but not equal (the roundings are on), a batched
 * pass equals one-token decode, and speculative decoding gives the greedy text (also on the small
 * random weights, whose 32-wide FP8 blocks leave partial blocks). The float mode itself is covered
 * by the golden tests (test_mini_golden.c), which pass unchanged.
 *
 * mini_numerics/serving_and_float_agreement prints (does not assert) how many greedy tokens the
 * two numerics share before they first differ, and the top-two margins where they part. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/numerics.h"
#include "engine/ops.h"
#include "mini_helpers.h"

#ifndef MINI_REPO_ROOT
#define MINI_REPO_ROOT "."
#endif

#define N_NEW 64

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

Test(mini_numerics, bf16_rounds_to_nearest_even) {
    /* BF16 keeps the top 16 bits: 7 mantissa bits. Around 1.0 its step is 2^-7 (the low 16 bits
     * 0x8000 are half a step). */
    const struct { uint32_t in, want; const char *why; } cases[] = {
        {0x3f800000, 0x3f800000, "1.0 is a BF16 value"},
        {0xc0200000, 0xc0200000, "-2.5 is a BF16 value"},
        {0x00000000, 0x00000000, "+0"},
        {0x80000000, 0x80000000, "-0 keeps its sign"},
        {0x3f808000, 0x3f800000, "1 + 2^-8, a tie between 1 (even) and 1 + 2^-7 (odd): down"},
        {0x3f818000, 0x3f820000, "1 + 3*2^-8, a tie between 1 + 2^-7 (odd) and 1 + 2^-6 (even): up"},
        {0xbf818000, 0xbf820000, "the same tie, negative: away from zero to the even one"},
        {0x3f808001, 0x3f810000, "a hair above the tie: up"},
        {0x3f807fff, 0x3f800000, "a hair below the tie: down"},
        {0x3fffffff, 0x40000000, "the carry runs into the exponent: 2.0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const float got = mini_round_bf16(from_bits(cases[i].in));
        cr_assert_eq(to_bits(got), cases[i].want, "%s: 0x%08x rounds to 0x%08x, expected 0x%08x", cases[i].why,
                     cases[i].in, to_bits(got), cases[i].want);
    }
    float row[3] = {from_bits(0x3f808000), from_bits(0x3f818000), 3.0f};
    mini_round_bf16_array(row, 3);
    cr_assert(row[0] == 1.0f && to_bits(row[1]) == 0x3f820000 && row[2] == 3.0f, "the array version rounds the same");
}

/* The e4m3 value a code stands for, so expectations read as numbers. */
static float code_value(uint8_t code) { return mini_fp8_e4m3_to_float(code); }

Test(mini_numerics, fp8_quantiser_one_block_of_128) {
    /* amax = 448, so the scale is exactly 1 and each code is e4m3(a) itself: the rounding shows. */
    float a[128] = {0};
    a[0] = 448.0f;
    a[1] = -448.0f;
    a[2] = 17.0f;             /* steps of 2 in [16, 32): a tie between 16 (mantissa 0, even) and 18: 16 */
    a[3] = 19.0f;             /* between 18 (mantissa 1) and 20 (mantissa 2, even): 20 */
    a[4] = 1.0625f;           /* steps of 1/8 in [1, 2): a tie between 1 and 1.125: 1 */
    a[5] = 1.1875f;           /* between 1.125 and 1.25: 1.25 */
    a[6] = ldexpf(1.0f, -10); /* subnormals step by 2^-9: a tie between 0 and 2^-9: 0 */
    a[7] = ldexpf(3.0f, -10); /* between 2^-9 (odd) and 2^-8 (even): 2^-8 */
    a[8] = -0.3f;             /* steps of 1/32 in [0.25, 0.5): nearest is 0.3125 */
    a[127] = 5.0f;            /* the block's last value */
    const float want[10] = {448, -448, 16, 20, 1, 1.25f, 0, ldexpf(1.0f, -8), -0.3125f, 5};
    uint8_t codes[128];
    float scale = -1;
    mini_quantize_fp8_blocks(a, 128, 128, codes, &scale);
    cr_assert_eq(scale, 1.0f, "scale = amax / 448 = 1, got %g", scale);
    cr_assert_eq(codes[0], 0x7e, "448 is the largest finite e4m3, code 0x7e; got 0x%02x", codes[0]);
    cr_assert_eq(codes[1], 0xfe, "-448: code 0xfe; got 0x%02x", codes[1]);
    for (int i = 0; i < 9; i++)
        cr_assert_eq(code_value(codes[i]), want[i], "a[%d] = %.9g codes to %.9g, expected %.9g", i, a[i],
                     code_value(codes[i]), want[i]);
    cr_assert_eq(code_value(codes[127]), want[9]);
    for (int i = 9; i < 127; i++) cr_assert_eq(codes[i], 0, "a zero codes to 0x00 (index %d: 0x%02x)", i, codes[i]);
}

Test(mini_numerics, fp8_quantiser_zero_block_and_partial_last_block) {
    /* 160 values in blocks of 128: the first all zero (scale 1, every code 0), the second only 32
     * wide with amax 14, so its scale is 14/448 = 1/32 exactly and code = e4m3(32 a). */
    float a[160] = {0};
    a[128] = 14.0f;            /* 448 */
    a[129] = -3.5f;            /* -112 */
    a[130] = 0.5f + 1.0f / 64; /* 16.5: steps of 2 in [16, 32): 16 */
    a[159] = 1.0f / 32;        /* 1 */
    uint8_t codes[160];
    float scales[2] = {-1, -1};
    mini_quantize_fp8_blocks(a, 160, 128, codes, scales);
    cr_assert_eq(scales[0], 1.0f, "an all-zero block has scale 1, got %g", scales[0]);
    for (int i = 0; i < 128; i++) cr_assert_eq(codes[i], 0, "zero block, index %d: 0x%02x", i, codes[i]);
    cr_assert_eq(scales[1], 1.0f / 32, "the partial block's scale is its own amax / 448: %.9g", scales[1]);
    cr_assert_eq(codes[128], 0x7e);
    cr_assert_eq(code_value(codes[129]), -112.0f);
    cr_assert_eq(code_value(codes[130]), 16.0f);
    cr_assert_eq(code_value(codes[159]), 1.0f);
    for (int i = 131; i < 159; i++) cr_assert_eq(codes[i], 0);
}

Test(mini_numerics, fp8_quantiser_saturates_at_448) {
    /* The block maximum divided by amax/448 lands a hair off 448 in float: 1.0234375 gives
     * 448.00003, 1.0 gives 447.99997. Either way its code is +-448, never past it. */
    const float amax[2] = {1.0234375f, 1.0f};
    for (int i = 0; i < 2; i++) {
        float a[2] = {amax[i], -amax[i]};
        uint8_t codes[2];
        float scale;
        mini_quantize_fp8_blocks(a, 2, 128, codes, &scale);
        cr_assert(codes[0] == 0x7e && codes[1] == 0xfe, "amax %.9g: codes 0x%02x 0x%02x, expected 0x7e 0xfe", amax[i],
                  codes[0], codes[1]);
    }
    /* the element conversion itself: 464 would round to 480, which e4m3 lacks (0x7f is NaN) */
    cr_assert_eq(mini_float_to_fp8_e4m3(464.0f), 0x7e);
    cr_assert_eq(mini_float_to_fp8_e4m3(1e30f), 0x7e);
    cr_assert_eq(mini_float_to_fp8_e4m3(-500.0f), 0xfe);
}

Test(mini_numerics, fp8_times_fp8_product_by_hand) {
    /* W [2][3] in tiles of 2 columns, weight scales (0.5, 2); two tokens with their own block scales.
     * Y[t][o] = sum over tiles kb of (x_scale[t][kb] * w_scale[kb]) * (codes . codes over the tile). */
    const float w[6] = {1, 2, 4, 0.5f, -1, 3}, w_scales[2] = {0.5f, 2};
    const float x[6] = {1, 0.5f, 3, 2, -2, 1}, x_scales[4] = {4, 0.25f, 1, 1};
    uint8_t w_codes[6], x_codes[6];
    for (int i = 0; i < 6; i++) w_codes[i] = mini_float_to_fp8_e4m3(w[i]), x_codes[i] = mini_float_to_fp8_e4m3(x[i]);
    const MiniFp8Matrix W = {.codes = w_codes, .scales = w_scales, .rows = 2, .cols = 3, .block = 2};
    float y[4], row_buffer[2], x_buffer[6];
    mini_matmul_fp8_fp8(&W, x_codes, x_scales, 2, y, row_buffer, x_buffer);
    /* token 0: (4*0.5)*(1*1 + 2*0.5) + (0.25*2)*(4*3) = 10;   (4*0.5)*(0.5 - 0.5) + 0.5*(3*3) = 4.5
     * token 1: (1*0.5)*(2 - 4) + (1*2)*4 = 7;                 0.5*(1 + 2) + 2*3 = 7.5 */
    const float want[4] = {10, 4.5f, 7, 7.5f};
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], want[i], "Y[%d][%d] = %g, expected %g", i / 2, i % 2, y[i], want[i]);
}

Test(mini_numerics, init_checks_what_serving_needs) {
    MiniWeights w;
    mini_test_weights(&w, MINI_TEST_SEED);
    MiniModel m;
    char err[256] = "";
    mini_test_model(&m, &w, 0, 0);
    cr_assert_eq(m.numerics, MINI_NUMERICS_FLOAT, "mini_model_init computes in float");
    mini_model_free(&m);
    cr_assert_neq(mini_model_init_numerics(&m, &w, 1, 1, MINI_NUMERICS_SERVING, err, sizeof err), 0, "naive MLA");
    cr_assert_not_null(strstr(err, "absorbed"), "%s", err);
    mini_model_free(&m);
    cr_assert_neq(mini_model_init_numerics(&m, &w, 0, 0, 7, err, sizeof err), 0, "numerics 7 does not exist");
    mini_model_free(&m);
    const uint8_t *saved = w.mtp_block.experts[1].w2_fp8.codes;
    w.mtp_block.experts[1].w2_fp8.codes = NULL;   /* as if the file had no FP8 copy of it */
    cr_assert_neq(mini_model_init_numerics(&m, &w, 1, 0, MINI_NUMERICS_SERVING, err, sizeof err), 0, "no FP8 copies");
    cr_assert_not_null(strstr(err, "FP8"), "%s", err);
    cr_assert(strchr(err, '\n') == NULL, "one line: %s", err);
    mini_model_free(&m);
    w.mtp_block.experts[1].w2_fp8.codes = saved;
    cr_assert_eq(mini_model_init_numerics(&m, &w, 0, 0, MINI_NUMERICS_SERVING, err, sizeof err), 0, "%s", err);
    cr_assert(m.numerics == MINI_NUMERICS_SERVING && m.use_fp8 == 1, "serving runs the FP8 experts");
    mini_model_free(&m);
    mini_free_weights(&w);
}

/* ---- on the committed trained weights -------------------------------------------------------- */

/* The trained weights, or a skip when the file is absent. Returns 0 when skipped. */
static int trained_weights(MiniWeights *w) {
    char path[1024], err[512] = "";
    snprintf(path, sizeof path, "%s/finale/mini/weights/mini.bin", MINI_REPO_ROOT);
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        cr_skip_test("finale/mini/weights/mini.bin is absent");
        return 0;
    }
    fclose(probe);
    cr_assert_eq(mini_load_weights(path, w, err, sizeof err), 0, "%s: %s", path, err);
    return 1;
}

static void model_with(MiniModel *m, const MiniWeights *w, int numerics, int use_fp8) {
    char err[256] = "";
    cr_assert_eq(mini_model_init_numerics(m, w, use_fp8, 0, numerics, err, sizeof err), 0, "%s", err);
}

/* Logits of the last of tokens[0 .. n-1], run in passes of up to MINI_MAX_BATCH positions. */
static void logits_after(MiniModel *m, const uint8_t *tokens, int n, float *logits) {
    static float all[MINI_MAX_BATCH * 256];
    mini_truncate(m, 0);
    for (int start = 0; start < n; start += MINI_MAX_BATCH) {
        int count = n - start < MINI_MAX_BATCH ? n - start : MINI_MAX_BATCH;
        mini_forward(m, tokens + start, count, NULL, all);
        if (start + count == n) memcpy(logits, all + (size_t)(count - 1) * 256, 256 * sizeof(float));
    }
}

static void last_logits(MiniModel *m, const char *prompt, float *logits) {
    logits_after(m, (const uint8_t *)prompt, (int)strlen(prompt), logits);
}

/* The largest logit less the second largest. */
static float top2_margin(const float *logits) {
    int best = mini_argmax(logits, 256);
    float second = -INFINITY;
    for (int i = 0; i < 256; i++) if (i != best && logits[i] > second) second = logits[i];
    return logits[best] - second;
}

static const char *trained_prompts[] = {"The best way to predict the future is", "Once upon a time"};

Test(mini_numerics, serving_greedy_is_deterministic_and_near_float) {
    MiniWeights w;
    if (!trained_weights(&w)) return;
    MiniModel serving, serving2, flt;
    model_with(&serving, &w, MINI_NUMERICS_SERVING, 0);
    model_with(&serving2, &w, MINI_NUMERICS_SERVING, 0);
    model_with(&flt, &w, MINI_NUMERICS_FLOAT, 1);   /* float with the same FP8 expert weights */
    for (int p = 0; p < 2; p++) {
        const char *prompt = trained_prompts[p];
        uint8_t a[N_NEW], b[N_NEW], c[N_NEW];
        mini_test_generate(&serving, prompt, N_NEW, 0, a, NULL);
        mini_test_generate(&serving, prompt, N_NEW, 0, b, NULL);
        mini_test_generate(&serving2, prompt, N_NEW, 0, c, NULL);
        cr_assert_eq(mini_first_difference(a, b, N_NEW), -1, "\"%s\": a second run on the same model differs", prompt);
        cr_assert_eq(mini_first_difference(a, c, N_NEW), -1, "\"%s\": a second model differs", prompt);

        float ls[256], lf[256];
        last_logits(&serving, prompt, ls);
        last_logits(&flt, prompt, lf);
        double diff2 = 0, ref2 = 0, worst = 0;
        for (int i = 0; i < 256; i++) {
            double d = (double)ls[i] - lf[i];
            diff2 += d * d, ref2 += (double)lf[i] * lf[i];
            if (fabs(d) > worst) worst = fabs(d);
        }
        const double rel = sqrt(diff2 / ref2);
        cr_log_info("\"%s\": first-step logits, serving vs float: relative L2 difference %.2e, largest %.3g", prompt, rel,
                    worst);
        cr_assert_lt(rel, 0.05, "\"%s\": serving moves the logits by %.3g (relative L2): more than rounding", prompt, rel);
        cr_assert_gt(worst, 0.0, "\"%s\": serving logits equal float's to the bit: the roundings are off", prompt);
    }
    mini_model_free(&serving);
    mini_model_free(&serving2);
    mini_model_free(&flt);
    mini_free_weights(&w);
}

Test(mini_numerics, serving_batched_pass_equals_one_token_decode) {
    MiniWeights w;
    if (!trained_weights(&w)) return;
    MiniModel m;
    model_with(&m, &w, MINI_NUMERICS_SERVING, 0);
    const uint8_t *tokens = (const uint8_t *)"Batched!";   /* MINI_MAX_BATCH positions */
    const size_t hb = (size_t)MINI_MAX_BATCH * w.cfg.d_model * sizeof(float);
    const size_t lb = (size_t)MINI_MAX_BATCH * 256 * sizeof(float);
    float *batched_h = malloc(hb), *single_h = malloc(hb), *batched_l = malloc(lb), *single_l = malloc(lb);
    mini_forward(&m, tokens, MINI_MAX_BATCH, batched_h, batched_l);
    mini_truncate(&m, 0);
    for (int t = 0; t < MINI_MAX_BATCH; t++)
        mini_forward(&m, tokens + t, 1, single_h + (size_t)t * w.cfg.d_model, single_l + (size_t)t * 256);
    cr_assert_eq(memcmp(batched_h, single_h, hb), 0, "hidden states differ between batched and one by one");
    cr_assert_eq(memcmp(batched_l, single_l, lb), 0, "logits differ between batched and one by one");
    free(batched_h), free(single_h), free(batched_l), free(single_l);
    mini_model_free(&m);
    mini_free_weights(&w);
}

static void check_speculative_equals_greedy(MiniModel *m, const char *prompt, const char *what) {
    uint8_t greedy[N_NEW], spec[N_NEW];
    mini_test_generate(m, prompt, N_NEW, 0, greedy, NULL);
    for (int k = 1; k <= MINI_MAX_DRAFTS; k++) {
        memset(spec, 0xAA, sizeof spec);
        mini_test_generate(m, prompt, N_NEW, k, spec, NULL);
        int at = mini_first_difference(greedy, spec, N_NEW);
        cr_assert_eq(at, -1, "%s, \"%s\", k = %d: token %d is %d, greedy says %d", what, prompt, k, at,
                     at >= 0 ? spec[at] : 0, at >= 0 ? greedy[at] : 0);
    }
}

Test(mini_numerics, serving_speculative_equals_greedy) {
    MiniModel m;
    /* the small random-weights file: 32-wide FP8 blocks, so experts' inputs have partial blocks */
    MiniWeights small;
    mini_test_weights(&small, MINI_TEST_SEED);
    model_with(&m, &small, MINI_NUMERICS_SERVING, 0);
    check_speculative_equals_greedy(&m, "Hello, world. Hello, world. Hello", "small weights");
    mini_model_free(&m);
    mini_free_weights(&small);

    MiniWeights w;
    if (!trained_weights(&w)) return;
    model_with(&m, &w, MINI_NUMERICS_SERVING, 0);
    for (int p = 0; p < 2; p++) check_speculative_equals_greedy(&m, trained_prompts[p], "trained weights");
    mini_model_free(&m);
    mini_free_weights(&w);
}

/* golden.txt's prompt (its prompt_hex line), or "" when there is none. */
static void golden_prompt(char *prompt, size_t len) {
    char path[1024], line[4096];
    snprintf(path, sizeof path, "%s/finale/mini/weights/golden.txt", MINI_REPO_ROOT);
    prompt[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "prompt_hex ", 11)) {
            size_t n = 0;
            unsigned v;
            for (const char *h = line + 11; n + 1 < len && sscanf(h, "%2x", &v) == 1; h += 2) prompt[n++] = (char)v;
            prompt[n] = 0;
            break;
        }
    fclose(f);
}

Test(mini_numerics, serving_and_float_agreement) {
    /* Not asserted: how far serving greedy follows float greedy before a near tie parts them. */
    MiniWeights w;
    if (!trained_weights(&w)) return;
    enum { N = 256 };
    char golden[512];
    golden_prompt(golden, sizeof golden);
    const char *prompts[] = {golden, "The ", "Once upon a time"};
    MiniModel serving, bf16, fp8;
    model_with(&serving, &w, MINI_NUMERICS_SERVING, 0);
    model_with(&bf16, &w, MINI_NUMERICS_FLOAT, 0);
    model_with(&fp8, &w, MINI_NUMERICS_FLOAT, 1);
    for (int p = 0; p < 3; p++) {
        if (!prompts[p][0]) continue;
        uint8_t s[N], b[N], f[N];
        mini_test_generate(&serving, prompts[p], N, 0, s, NULL);
        mini_test_generate(&bf16, prompts[p], N, 0, b, NULL);
        mini_test_generate(&fp8, prompts[p], N, 0, f, NULL);
        const int at[2] = {mini_first_difference(s, b, N), mini_first_difference(s, f, N)};
        for (int i = 0; i < 2; i++) {
            MiniModel *flt = i ? &fp8 : &bf16;
            const char *experts = i ? "FP8" : "BF16";
            if (at[i] < 0) {
                cr_log_info("\"%s\": serving and float (%s experts) greedy agree for all %d tokens", prompts[p], experts, N);
                continue;
            }
            /* the margins at the position that chose the first differing token */
            uint8_t seq[1024];
            const int len = (int)strlen(prompts[p]);
            memcpy(seq, prompts[p], (size_t)len);
            memcpy(seq + len, s, (size_t)at[i]);
            float ls[256], lf[256];
            logits_after(&serving, seq, len + at[i], ls);
            logits_after(flt, seq, len + at[i], lf);
            cr_log_info("\"%s\": serving and float (%s experts) greedy agree for %d of %d tokens; at token %d the top-two "
                        "margin is %.3g (serving), %.3g (float)", prompts[p], experts, at[i], N, at[i], top2_margin(ls),
                        top2_margin(lf));
        }
    }
    mini_model_free(&serving);
    mini_model_free(&bf16);
    mini_model_free(&fp8);
    mini_free_weights(&w);
}
