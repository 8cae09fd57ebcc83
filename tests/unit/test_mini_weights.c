/* The mini-model's weights file: number formats, checksum, and each kind of bad file refused with
 * its own message (finale/mini/engine/weights.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/ops.h"
#include "mini_helpers.h"

/* ---- number formats ---------------------------------------------------------------------------- */

Test(mini_formats, bf16_by_hand) {
    cr_assert_eq(mini_float_to_bf16(1.0f), 0x3f80);
    cr_assert_eq(mini_float_to_bf16(1.0f + 0x1p-8f), 0x3f80, "a tie goes to the even neighbour (down)");
    cr_assert_eq(mini_float_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82, "a tie goes to the even neighbour (up)");
    cr_assert_eq(mini_float_to_bf16(-2.0f), 0xc000);
    cr_assert_eq(mini_bf16_to_float(0x4049), 3.140625f);
}

Test(mini_formats, fp8_e4m3_by_hand) {
    cr_assert_eq(mini_fp8_e4m3_to_float(0x38), 1.0f);
    cr_assert_eq(mini_fp8_e4m3_to_float(0xb8), -1.0f);
    cr_assert_eq(mini_fp8_e4m3_to_float(0x7e), 448.0f, "the largest finite value");
    cr_assert_eq(mini_fp8_e4m3_to_float(0x08), 0x1p-6f, "the smallest normal");
    cr_assert_eq(mini_fp8_e4m3_to_float(0x01), 0x1p-9f, "the smallest subnormal");
    cr_assert(isnan(mini_fp8_e4m3_to_float(0x7f)), "0x7f is NaN (e4m3 has no infinity)");
    cr_assert_eq(mini_float_to_fp8_e4m3(1.0625f), 0x38, "1.0625 is a tie between 1 and 1.125: to even");
    cr_assert_eq(mini_float_to_fp8_e4m3(1.1875f), 0x3a, "1.1875 is a tie between 1.125 and 1.25: to even");
    cr_assert_eq(mini_float_to_fp8_e4m3(500.0f), 0x7e, "saturates at 448");
    cr_assert_eq(mini_float_to_fp8_e4m3(-0x1p-10f), 0x80, "half the smallest subnormal ties to (negative) zero");
    for (int code = 0; code < 256; code++) {
        if ((code & 0x7f) == 0x7f) continue;
        cr_assert_eq(mini_float_to_fp8_e4m3(mini_fp8_e4m3_to_float((uint8_t)code)), code,
                     "code 0x%02x does not survive decode + encode", code);
    }
}

Test(mini_formats, fnv1a64_known_values) {
    cr_assert_eq(mini_fnv1a64("", 0), 0xcbf29ce484222325ull);
    cr_assert_eq(mini_fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
    cr_assert_eq(mini_fnv1a64("foobar", 6), 0x85944171f73967e8ull);
}

/* The writer's FP8 copy follows MODEL.md: per tile scale = max|w| / 448, codes within e4m3's
 * rounding of w / scale; and the on-the-fly FP8 product equals the product with codes * scales. */
Test(mini_formats, fp8_experts_match_bf16_within_e4m3_rounding) {
    MiniWeights w;
    mini_test_weights(&w, MINI_TEST_SEED);
    const MiniSwiGLU *e = &w.layers[1].experts[2];
    const MiniFp8Matrix *q = &e->w2_fp8;   /* [d_model 64][d_expert 40], 32 x 32 tiles: partial edge tiles */
    const int tiles_per_row = (q->cols + q->block - 1) / q->block;
    float x[64], y_fp8[64], y_ref[64], row[64];
    for (int i = 0; i < q->cols; i++) x[i] = sinf(0.7f * i);
    for (int o = 0; o < q->rows; o++) {
        y_ref[o] = 0;
        for (int i = 0; i < q->cols; i++) {
            float scale = q->scales[(o / q->block) * tiles_per_row + i / q->block];
            float v = mini_fp8_e4m3_to_float(q->codes[o * q->cols + i]) * scale, want = e->w2[o * q->cols + i];
            cr_assert_leq(fabsf(v - want), 0x1p-4f * fabsf(want) + scale * 0x1p-9f, "w2[%d][%d] = %g, fp8 gives %g", o,
                          i, want, v);
            y_ref[o] += v * x[i];
        }
    }
    mini_matmul_fp8(q, x, 1, y_fp8, row);
    for (int o = 0; o < q->rows; o++)
        cr_assert_leq(fabsf(y_fp8[o] - y_ref[o]), 1e-5f * (1 + fabsf(y_ref[o])), "row %d: %g vs %g", o, y_fp8[o], y_ref[o]);
    mini_free_weights(&w);
}

/* ---- good and bad files ------------------------------------------------------------------------ */

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }

/* Parses the image and expects a refusal whose message contains `want`. */
static void expect_refused(unsigned char *image, size_t bytes, const char *want) {
    MiniWeights w;
    char err[512] = "";
    int rc = mini_parse_weights(image, bytes, &w, err, sizeof err);
    mini_free_weights(&w);
    cr_assert_neq(rc, 0, "a bad file was accepted (expected \"%s\")", want);
    cr_assert_not_null(strstr(err, want), "message \"%s\" does not say \"%s\"", err, want);
    cr_assert_null(strchr(err, '\n'), "the message is one line: \"%s\"", err);
}

Test(mini_weights, good_file_loads_with_its_config) {
    char path[] = "/tmp/mini-weights-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    MiniConfig c = mini_small_config();
    char err[256] = "";
    cr_assert_eq(mini_write_test_file(path, &c, MINI_TEST_SEED, err, sizeof err), 0, "%s", err);
    MiniWeights w;
    int rc = mini_load_weights(path, &w, err, sizeof err);
    remove(path);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(w.cfg.d_model, 64);
    cr_assert_eq(w.cfg.n_experts, 4);
    cr_assert_eq(w.cfg.fp8_block, 32);
    cr_assert_eq(w.cfg.norm_eps, 1e-6f);
    cr_assert_not_null(w.mtp_block.experts[3].w3_fp8.codes);
    mini_free_weights(&w);
}

Test(mini_weights, missing_file) {
    MiniWeights w;
    char err[256] = "";
    cr_assert_neq(mini_load_weights("/nonexistent/mini.bin", &w, err, sizeof err), 0);
    cr_assert_not_null(strstr(err, "cannot open"), "%s", err);
    mini_free_weights(&w);
}

Test(mini_weights, flipped_byte_fails_the_checksum) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    image[bytes / 2] ^= 0x10;   /* somewhere in the tensor data */
    expect_refused(image, bytes, "checksum mismatch");
}

Test(mini_weights, flipped_checksum_byte_fails_the_checksum) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    image[bytes - 1] ^= 1;
    expect_refused(image, bytes, "checksum mismatch");
}

Test(mini_weights, truncated_files) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    expect_refused(image, bytes - 1, "truncated");          /* only the checksum's last byte missing */
    image = mini_test_image(&bytes);
    expect_refused(image, bytes / 2, "truncated");
    image = mini_test_image(&bytes);
    expect_refused(image, 1000, "truncated");               /* inside the tensor table */
    image = mini_test_image(&bytes);
    expect_refused(image, 40, "truncated");                 /* inside the fixed header */
}

Test(mini_weights, wrong_version) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    put32(image + 8, 2);
    mini_set_checksum(image, bytes);
    expect_refused(image, bytes, "format version 2");
}

Test(mini_weights, wrong_magic) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    memcpy(image, "GGUF\0\0\0\3", 8);
    mini_set_checksum(image, bytes);
    expect_refused(image, bytes, "bad magic");
}

Test(mini_weights, missing_tensor) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    mini_test_entry(image, "layers.1.attn.wq")[15] = 'Q';   /* renamed to layers.1.attn.wQ */
    mini_set_checksum(image, bytes);
    expect_refused(image, bytes, "'layers.1.attn.wq' is missing");
}

Test(mini_weights, wrong_shape) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    put32(mini_test_entry(image, "final_norm") + 72, 32);   /* [64] -> [32] */
    mini_set_checksum(image, bytes);
    expect_refused(image, bytes, "'final_norm' has the wrong shape");
}

Test(mini_weights, wrong_dtype) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    put32(mini_test_entry(image, "mtp.hnorm") + 64, MINI_BF16);
    mini_set_checksum(image, bytes);
    expect_refused(image, bytes, "'mtp.hnorm' is bf16, expected f32");
}

Test(mini_weights, unknown_dtype) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    put32(mini_test_entry(image, "embed") + 64, 7);
    mini_set_checksum(image, bytes);
    expect_refused(image, bytes, "unknown dtype 7");
}

Test(mini_weights, data_outside_the_file) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    unsigned char *e = mini_test_entry(image, "lm_head");
    put32(e + 88, (uint32_t)(bytes - bytes % 64));   /* an aligned offset near the end */
    mini_set_checksum(image, bytes);
    expect_refused(image, bytes, "'lm_head' (bytes");
}

Test(mini_weights, zero_and_out_of_range_config) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    put32(image + 16 + 4 * 1, 0);   /* d_model */
    mini_set_checksum(image, bytes);
    expect_refused(image, bytes, "config: d_model = 0");
    image = mini_test_image(&bytes);
    put32(image + 16 + 4 * 9, 5);   /* top_k > n_experts */
    mini_set_checksum(image, bytes);
    expect_refused(image, bytes, "config: top_k = 5");
    image = mini_test_image(&bytes);
    put32(image + 16 + 4 * 5, 7);   /* odd d_rope */
    mini_set_checksum(image, bytes);
    expect_refused(image, bytes, "d_rope = 7");
}
