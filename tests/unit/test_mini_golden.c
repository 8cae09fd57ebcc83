/* The C engine against the PyTorch trainer's golden values (finale/mini/train/export.py documents
 * the format): logits at every prompt position, the next token, the MTP module's first draft logits
 * and its 7 chained drafts, and 40 greedy bytes, with BF16 and with FP8 experts.
 *
 * Tolerance: |c - torch| <= 2e-3 + 2e-3 * |torch| for every logit. Both sides compute in float32
 * from the same decoded weights but sum in different orders (the engine in eight fixed lanes, torch
 * in its own blocks, and the FP8 engine scales per tile partial sums). On the random-weights file
 * the worst difference measured was 3e-6, so the tolerance leaves a wide margin for trained
 * weights' larger logits without hiding a wrong formula (which moves logits by 1e-1 and more). A greedy or draft byte may differ only
 * where the golden top-1 / top-2 margin is below 1e-3 (then the rest of the text legitimately
 * differs and is not compared).
 *
 * Two pairs of files: the random-weights file build/mini/random.bin + build/mini/golden-random.txt
 * (made by export.py; skipped with a message when absent), and the trained, committed
 * finale/mini/weights/mini.bin + golden.txt. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ops.h"
#include "mini_helpers.h"

#ifndef MINI_REPO_ROOT
#define MINI_REPO_ROOT "."
#endif

#define TOL_ABS 2e-3
#define TOL_REL 2e-3
#define TIE_MARGIN 1e-3
#define MAX_PROMPT 512

typedef struct {
    int present;
    int n_logits;            /* prompt positions seen */
    float *logits;           /* [MAX_PROMPT][256] */
    int next_token;
    float mtp_logits[256];
    uint8_t drafts[16];
    int n_drafts;
    uint8_t greedy[256];
    int n_greedy;
    float margin[256];
} GoldenSection;

typedef struct {
    unsigned long long checksum;
    uint8_t prompt[MAX_PROMPT];
    int prompt_len;
    GoldenSection section[2];   /* 0: bf16, 1: fp8 */
} Golden;

static int from_hex(const char *hex, uint8_t *out, int max) {
    int n = 0;
    while (hex[0] && hex[1] && n < max && hex[0] != '\n') {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1) break;
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

static int read_floats(char *text, float *out, int max) {
    int n = 0;
    char *end;
    for (float v = strtof(text, &end); end != text && n < max; v = strtof(text, &end)) {
        out[n++] = v;
        text = end;
    }
    return n;
}

static void parse_golden(const char *path, Golden *g) {
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    memset(g, 0, sizeof *g);
    static char line[1 << 16];
    GoldenSection *s = NULL;
    int line_no = 0, saw_end = 0;
    while (fgets(line, sizeof line, f)) {
        line_no++;
        char key[32] = "";
        int used = 0;
        if (line[0] == '#' || sscanf(line, "%31s %n", key, &used) < 1) continue;
        char *rest = line + used;
        if (!strcmp(key, "golden")) cr_assert_eq(atoi(rest), 1, "%s: golden format %d, expected 1", path, atoi(rest));
        else if (!strcmp(key, "weights")) g->checksum = strtoull(rest, NULL, 16);
        else if (!strcmp(key, "prompt_hex")) g->prompt_len = from_hex(rest, g->prompt, MAX_PROMPT);
        else if (!strcmp(key, "section")) {
            s = &g->section[strncmp(rest, "fp8", 3) == 0];
            s->present = 1;
            s->logits = calloc((size_t)MAX_PROMPT * 256, sizeof(float));
        } else if (!strcmp(key, "end")) saw_end = 1;
        else {
            cr_assert_not_null(s, "%s:%d: '%s' before any section", path, line_no, key);
            if (!strcmp(key, "logits")) {
                char *end;
                long pos = strtol(rest, &end, 10);
                cr_assert(pos >= 0 && pos < MAX_PROMPT, "%s:%d: position %ld", path, line_no, pos);
                cr_assert_eq(read_floats(end, s->logits + pos * 256, 256), 256, "%s:%d: not 256 logits", path, line_no);
                if (pos + 1 > s->n_logits) s->n_logits = (int)pos + 1;
            } else if (!strcmp(key, "next_token")) s->next_token = atoi(rest);
            else if (!strcmp(key, "mtp_logits"))
                cr_assert_eq(read_floats(rest, s->mtp_logits, 256), 256, "%s:%d: not 256 MTP logits", path, line_no);
            else if (!strcmp(key, "mtp_draft_hex")) s->n_drafts = from_hex(rest, s->drafts, 16);
            else if (!strcmp(key, "greedy_hex")) s->n_greedy = from_hex(rest, s->greedy, 256);
            else if (!strcmp(key, "greedy_margin")) read_floats(rest, s->margin, 256);
        }
    }
    fclose(f);
    cr_assert(saw_end, "%s: no 'end' line: the file is cut short", path);
    cr_assert_gt(g->prompt_len, 0, "%s: no prompt", path);
}

/* Worst |got - want| measured against the tolerance; fails naming the worst element. */
static void compare_logits(const float *got, const float *want, int n, const char *what, int position) {
    double worst = 0;
    int at = 0;
    for (int i = 0; i < n; i++) {
        double excess = fabs((double)got[i] - want[i]) / (TOL_ABS + TOL_REL * fabs(want[i]));
        if (excess > worst || isnan(got[i])) worst = isnan(got[i]) ? INFINITY : excess, at = i;
    }
    cr_assert_leq(worst, 1.0, "%s at position %d, byte %d: engine %.9g, golden %.9g (tolerance %g + %g*|golden|)", what,
                  position, at, got[at], want[at], TOL_ABS, TOL_REL);
}

/* Bytes must agree until the golden margin says a near tie allowed them to part. */
static void compare_bytes(const uint8_t *got, const uint8_t *want, const float *margin, int n, const char *what) {
    int at = mini_first_difference(got, want, n);
    if (at < 0) return;
    cr_assert(margin && margin[at] < TIE_MARGIN, "%s: byte %d is %d, golden %d (golden margin %g is no near tie)", what, at,
              got[at], want[at], margin ? margin[at] : -1.0f);
    cr_log_info("%s: byte %d parts at a near tie (margin %g); the rest is not compared", what, at, margin[at]);
}

static void check_section(const MiniWeights *w, const Golden *g, const GoldenSection *s, int use_fp8) {
    const char *mode = use_fp8 ? "fp8" : "bf16";
    const int n = g->prompt_len, d = w->cfg.d_model;
    cr_assert_eq(s->n_logits, n, "%s: golden has logits for %d of %d prompt positions", mode, s->n_logits, n);
    MiniModel m;
    mini_test_model(&m, w, use_fp8, 0);
    float *hidden = malloc((size_t)n * d * sizeof(float)), *logits = malloc((size_t)n * 256 * sizeof(float));
    for (int start = 0; start < n; start += MINI_MAX_BATCH) {
        int count = n - start < MINI_MAX_BATCH ? n - start : MINI_MAX_BATCH;
        mini_forward(&m, g->prompt + start, count, hidden + (size_t)start * d, logits + (size_t)start * 256);
    }
    char what[64];
    snprintf(what, sizeof what, "%s main logits", mode);
    for (int t = 0; t < n; t++) compare_logits(logits + (size_t)t * 256, s->logits + (size_t)t * 256, 256, what, t);
    const uint8_t next = (uint8_t)mini_argmax(logits + (size_t)(n - 1) * 256, 256);
    if (next != s->next_token)
        cr_assert_lt(s->margin[0], TIE_MARGIN, "%s: next token %d, golden %d", mode, next, s->next_token);

    /* MTP: cache positions 0 .. n-2 from main hidden states, then the chained drafts. */
    for (int i = 0; i + 1 < n; i++) mini_mtp_fill(&m, hidden + (size_t)i * d, g->prompt[i + 1]);
    float mtp_logits[256], *z = malloc((size_t)d * sizeof(float));
    uint8_t drafts[16];
    mini_mtp_step(&m, hidden + (size_t)(n - 1) * d, (uint8_t)s->next_token, z, mtp_logits);
    snprintf(what, sizeof what, "%s MTP logits", mode);
    compare_logits(mtp_logits, s->mtp_logits, 256, what, n - 1);
    drafts[0] = (uint8_t)mini_argmax(mtp_logits, 256);
    for (int j = 1; j < s->n_drafts; j++) {
        mini_mtp_step(&m, z, drafts[j - 1], z, mtp_logits);
        drafts[j] = (uint8_t)mini_argmax(mtp_logits, 256);
    }
    snprintf(what, sizeof what, "%s MTP drafts", mode);
    compare_bytes(drafts, s->drafts, NULL, s->n_drafts, what);

    /* Greedy text, and the speculative decoder gives the same. */
    uint8_t text[256];
    for (int k = 0; k <= MINI_MAX_DRAFTS; k += 3) {
        char err[256] = "";
        cr_assert_eq(mini_generate(&m, g->prompt, n, s->n_greedy, k, text, NULL, err, sizeof err), 0, "%s", err);
        snprintf(what, sizeof what, "%s greedy text (k = %d)", mode, k);
        compare_bytes(text, s->greedy, s->margin, s->n_greedy, what);
    }
    free(z);
    free(hidden);
    free(logits);
    mini_model_free(&m);
}

static void check_golden(const char *weights_rel, const char *golden_rel, const char *how_to_make) {
    char weights_path[1024], golden_path[1024];
    snprintf(weights_path, sizeof weights_path, "%s/%s", MINI_REPO_ROOT, weights_rel);
    snprintf(golden_path, sizeof golden_path, "%s/%s", MINI_REPO_ROOT, golden_rel);
    FILE *probe_w = fopen(weights_path, "rb"), *probe_g = fopen(golden_path, "r");
    if (probe_w) fclose(probe_w);
    if (probe_g) fclose(probe_g);
    if (!probe_w || !probe_g) {
        cr_skip_test("%s or %s is absent (%s)", weights_rel, golden_rel, how_to_make);
        return;
    }
    Golden g;
    parse_golden(golden_path, &g);
    MiniWeights w;
    char err[512] = "";
    cr_assert_eq(mini_load_weights(weights_path, &w, err, sizeof err), 0, "%s: %s", weights_rel, err);
    const unsigned char *sum = w.image + w.image_bytes - 8;
    unsigned long long checksum = 0;
    for (int i = 7; i >= 0; i--) checksum = checksum << 8 | sum[i];
    cr_assert_eq(checksum, g.checksum, "%s is for weights %016llx, but %s is %016llx: make them again together",
                 golden_rel, g.checksum, weights_rel, checksum);
    cr_assert(g.section[0].present && g.section[1].present, "%s: needs a bf16 and an fp8 section", golden_rel);
    check_section(&w, &g, &g.section[0], 0);
    check_section(&w, &g, &g.section[1], 1);
    free(g.section[0].logits);
    free(g.section[1].logits);
    mini_free_weights(&w);
}

Test(mini_golden, random_weights_match_pytorch) {
    check_golden("build/mini/random.bin", "build/mini/golden-random.txt",
                 "python3 finale/mini/train/export.py --random build/mini/random.bin, then --weights build/mini/random.bin "
                 "--golden PROMPT build/mini/golden-random.txt");
}

Test(mini_golden, trained_weights_match_pytorch) {
    check_golden("finale/mini/weights/mini.bin", "finale/mini/weights/golden.txt",
                 "train with finale/mini/train/train.py; the trained file is committed there");
}
