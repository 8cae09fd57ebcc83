/* Helpers for the mini-model engine's tests (test_mini_*.c): a small model with deterministic
 * random weights built in memory by the engine's own test-file writer, and greedy / speculative
 * runs of it. Header-only, like unit_helpers.h. */
#ifndef MINI_HELPERS_H
#define MINI_HELPERS_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/generate.h"
#include "engine/model.h"
#include "engine/testfile.h"
#include "engine/weights.h"

#define MINI_TEST_SEED 0x5eed5eedull

/* The small config's weights (seed picks the values), parsed and checked. */
static inline void mini_test_weights(MiniWeights *w, uint64_t seed) {
    MiniConfig c = mini_small_config();
    unsigned char *image;
    size_t bytes;
    char err[256] = "";
    cr_assert_eq(mini_build_test_image(&c, seed, &image, &bytes), 0, "the test-file writer failed");
    cr_assert_eq(mini_parse_weights(image, bytes, w, err, sizeof err), 0, "a freshly written file is refused: %s", err);
}

static inline void mini_test_model(MiniModel *m, const MiniWeights *w, int use_fp8, int naive_mla) {
    char err[256] = "";
    cr_assert_eq(mini_model_init(m, w, use_fp8, naive_mla, err, sizeof err), 0, "%s", err);
}

/* n_new tokens after prompt, greedy (k = 0) or speculative with k drafts; stats may be NULL. */
static inline void mini_test_generate(MiniModel *m, const char *prompt, int n_new, int k, uint8_t *out,
                                      MiniGenerateStats *stats) {
    char err[256] = "";
    int rc = mini_generate(m, (const uint8_t *)prompt, (int)strlen(prompt), n_new, k, out, stats, err, sizeof err);
    cr_assert_eq(rc, 0, "mini_generate(\"%s\", %d, k = %d): %s", prompt, n_new, k, err);
}

/* The small config's file image, unparsed (the caller frees it), for tests that damage it. */
static inline unsigned char *mini_test_image(size_t *bytes) {
    MiniConfig c = mini_small_config();
    unsigned char *image;
    cr_assert_eq(mini_build_test_image(&c, MINI_TEST_SEED, &image, bytes), 0, "the test-file writer failed");
    return image;
}

/* The table entry of a tensor in an image, by name. */
static inline unsigned char *mini_test_entry(unsigned char *image, const char *name) {
    uint32_t n = image[88] | image[89] << 8 | image[90] << 16 | (uint32_t)image[91] << 24;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char *e = image + MINI_FIXED_HEADER + (size_t)i * MINI_ENTRY_BYTES;
        if (!strcmp((char *)e, name)) return e;
    }
    cr_assert_fail("no tensor '%s' in the test file", name);
    return NULL;
}

/* The first index where a and b differ, or -1. */
static inline int mini_first_difference(const uint8_t *a, const uint8_t *b, int n) {
    for (int i = 0; i < n; i++) if (a[i] != b[i]) return i;
    return -1;
}

#endif
