/* Crafted files against the readers of user files: the results-record reader (grader/jsonl.c), the
 * roofs cache (grader/roofs.c) and the mini-model's weights loader (finale/mini/engine). Each test
 * is a file once made to fool or crash a reader; the tools built on them (leaderboard, bench-table,
 * plot-bench.sh) are tested from the outside by tests/fuzz-test.sh, and all of them are fuzzed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/rope.h"
#include "jsonl.h"
#include "mini_helpers.h"
#include "roofs.h"
#include "unit_helpers.h"

/* ---- results records ------------------------------------------------------------------------- */

static gr_json_record rec;   /* ~40 KB: off the stack */

static void json_refused(const char *line, const char *why) {
    char err[160] = "";
    cr_assert_not(gr_json_parse(line, &rec, err, sizeof err), "'%s' should be refused", line);
    cr_assert_not_null(strstr(err, why), "'%s': reason '%s' does not say '%s'", line, err, why);
    cr_assert_null(strchr(err, '\n'), "the reason is one line: '%s'", err);
}

Test(hostile_jsonl, a_nul_escape_cannot_cut_a_string_short) {
    json_refused("{\"verdict\":\"PASS\\u0000junk\"}", "control character");
    json_refused("{\"verdict\":\"PASS\\u0000\"}", "control character");
    json_refused("{\"PASS\\u0000x\":1}", "control character");   /* keys too */
}

Test(hostile_jsonl, escapes_of_other_control_characters_are_refused) {
    json_refused("{\"a\":\"\\u001b[2J\"}", "control character");    /* a terminal escape */
    json_refused("{\"a\":\"\\u007f\"}", "control character");       /* DEL */
    json_refused("{\"a\":\"\\u0085\"}", "control character");       /* C1: next line */
    json_refused("{\"a\":\"\\u009b31m\"}", "control character");    /* C1: CSI */
    json_refused("{\"a\":\"\\uFFFF\"}", "non-character");
    json_refused("{\"a\":\"raw\x7f" "del\"}", "raw control character");
}

Test(hostile_jsonl, lone_surrogates_are_refused_and_a_pair_is_one_character) {
    json_refused("{\"a\":\"\\ud800\"}", "lone surrogate");
    json_refused("{\"a\":\"\\ud800x\"}", "lone surrogate");
    json_refused("{\"a\":\"\\udc00\"}", "control character or non-character");
    json_refused("{\"a\":\"\\ud800\\u0041\"}", "lone surrogate");
    cr_assert(gr_json_parse("{\"a\":\"x\\ud83d\\ude00y\\u00e9\"}", &rec, (char[64]){0}, 64));
    cr_assert_str_eq(gr_json_string(&rec, "a"), "x?y?", "printable non-ASCII reads as one '?'");
}

Test(hostile_jsonl, a_key_twice_is_refused) {
    /* readers that keep the first and readers that keep the last would see two different records */
    json_refused("{\"verdict\":\"FAIL\",\"verdict\":\"PASS\"}", "appears twice");
}

Test(hostile_jsonl, numbers_are_json_numbers) {
    json_refused("{\"pct_peak\":nan}", "bad value");
    json_refused("{\"pct_peak\":NaN}", "bad value");
    json_refused("{\"pct_peak\":inf}", "bad value");
    json_refused("{\"pct_peak\":0x1p3}", "expected ','");
    json_refused("{\"pct_peak\":\v12}", "bad value");
    json_refused("{\"pct_peak\":1.}", "bad value");
    json_refused("{\"pct_peak\":1e}", "bad value");
    json_refused("{\"pct_peak\":+1}", "bad value");
    char err[64];
    cr_assert(gr_json_parse("{\"a\":-0.5e+3,\"b\":12,\"c\":1E-2}", &rec, err, sizeof err), "%s", err);
}

Test(hostile_jsonl, a_refusal_names_a_bad_key_on_one_line) {
    json_refused("{\"line\\nbreak\" 1}", "line?break");
}

/* ---- the roofs cache ----------------------------------------------------------------------- */

static bool roofs_from(const char *text, size_t len, gr_measured *m) {
    char path[512];
    unit_temp_file(path, sizeof path, "gpu.roofs");
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite(text, 1, len, f);
    fclose(f);
    return gr_measured_load(path, m);
}

static bool roofs_text(const char *text, gr_measured *m) { return roofs_from(text, strlen(text), m); }

Test(hostile_roofs, the_tail_of_a_long_line_is_not_read_as_a_value) {
    /* fgets into 256 bytes would read the first 255 as one line and "copy_gbs 99999" as the next */
    char text[600];
    int n = snprintf(text, sizeof text, "copy_gbs 1000\nmeasured_on 2026-11-22%240s", "");
    snprintf(text + n, sizeof text - (size_t)n, "copy_gbs 99999\n");
    gr_measured m;
    cr_assert_not(roofs_text(text, &m), "a line longer than 255 bytes makes the cache untrusted");
    cr_assert_eq(m.copy_gbs, 0.0, "no value of it is used");
}

Test(hostile_roofs, a_long_comment_is_a_comment_to_its_end) {
    char text[600];
    int n = snprintf(text, sizeof text, "copy_gbs 1000\n#");
    memset(text + n, 'x', 300);
    snprintf(text + n + 300, sizeof text - (size_t)n - 300, "copy_gbs 99999\n");
    gr_measured m;
    cr_assert(roofs_text(text, &m));
    cr_assert_eq(m.copy_gbs, 1000.0, "the comment's tail was read as a line");
}

Test(hostile_roofs, bytes_and_fields_that_are_not_a_cache_line) {
    gr_measured m;
    cr_assert_not(roofs_from("copy_gbs 3000\0 9\n", 17, &m), "a NUL byte");
    cr_assert_not(roofs_text("copy_gbs 3000 extra\n", &m), "three words");
    cr_assert_not(roofs_text("copy_gbs 3000\ncopy_gbs 1\n", &m), "a key twice");
    cr_assert_not(roofs_text("copy_gbs 3000\nmeasured_on 2026\x1b[2J\n", &m), "a control byte");
    cr_assert_not(roofs_text("copy_gbs 3000\nmeasured_on caf\xc3\xa9\n", &m), "non-ASCII");
    char text[200];
    snprintf(text, sizeof text, "copy_gbs 3000\nx%080d 1\n", 0);   /* a key of 81 bytes */
    cr_assert_not(roofs_text(text, &m), "a word longer than 63 bytes");
    snprintf(text, sizeof text, "copy_gbs 3000\nsgemm_tflops %070d5\n", 0);
    cr_assert_not(roofs_text(text, &m), "a value longer than 63 bytes (%%63s would cut it)");
    cr_assert_eq(m.copy_gbs, 0.0);
}

Test(hostile_roofs, windows_line_ends_and_unknown_keys_still_load) {
    gr_measured m;
    cr_assert(roofs_text("# c\r\ncopy_gbs 3000\r\nfuture_key 1\r\nmeasured_on 2026-01-01\r\n", &m));
    cr_assert_eq(m.copy_gbs, 3000.0);
    cr_assert_str_eq(m.measured_on, "2026-01-01");
}

/* ---- the mini-model's weights file -------------------------------------------------------------- */

static void set_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void set_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void set_field(unsigned char *image, int index, uint32_t v) { set_u32(image + 16 + 4 * index, v); }
enum { F_D_MODEL = 1, F_N_LAYERS = 2, F_D_ROPE = 5, F_D_LATENT = 7, F_MAX_SEQ = 13 };

static void weights_refused(unsigned char *image, size_t bytes, const char *want) {
    mini_set_checksum(image, bytes);
    MiniWeights w;
    char err[512] = "";
    int rc = mini_parse_weights(image, bytes, &w, err, sizeof err);
    mini_free_weights(&w);
    cr_assert_neq(rc, 0, "a crafted file was accepted (expected \"%s\")", want);
    cr_assert_not_null(strstr(err, want), "message \"%s\" does not say \"%s\"", err, want);
    cr_assert_null(strchr(err, '\n'), "the message is one line: \"%s\"", err);
}

Test(hostile_weights, a_data_offset_near_two_to_the_64_does_not_wrap) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    /* offset + bytes wraps to a small number: the old check passed and the decode read far away */
    set_u64(mini_test_entry(image, "lm_head") + 88, 0xffffffffffffffc0ull);
    weights_refused(image, bytes, "'lm_head' (bytes from 18446744073709551552");
}

Test(hostile_weights, dims_whose_product_wraps_are_absurd) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    unsigned char *e = mini_test_entry(image, "final_norm");
    set_u32(e + 68, 4);                  /* ndim 4: 2^20 * 2^20 * 2^16 * 2^8 = 2^64 elements, 0 mod 2^64 */
    set_u32(e + 72, 1u << 20);
    set_u32(e + 76, 1u << 20);
    set_u32(e + 80, 1u << 16);
    set_u32(e + 84, 1u << 8);
    weights_refused(image, bytes, "'final_norm': absurdly large");
}

Test(hostile_weights, tensors_may_not_share_their_data) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    /* every expert pointing at one block would decode to far more memory than the file holds */
    unsigned char *a = mini_test_entry(image, "layers.0.moe.experts.0.w1"), *b = mini_test_entry(image, "layers.0.moe.experts.1.w1");
    memcpy(b + 88, a + 88, 8);
    weights_refused(image, bytes, "overlap");
}

Test(hostile_weights, tensor_names_are_printable) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    mini_test_entry(image, "final_norm")[3] = '\n';
    weights_refused(image, bytes, "not printable ASCII");
}

Test(hostile_weights, a_huge_header_value_is_named_as_written) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    set_field(image, F_MAX_SEQ, 4000000000u);
    weights_refused(image, bytes, "config: max_seq = 4000000000 is out of range");
}

/* Values each in range, together tens of GiB: refused before anything is allocated, naming the
 * field furthest above its MODEL.md value. */
Test(hostile_weights, a_context_asking_for_tens_of_gib_of_kv_cache_is_refused) {
    size_t bytes;
    unsigned char *image = mini_test_image(&bytes);
    set_field(image, F_MAX_SEQ, 1u << 20);
    set_field(image, F_D_ROPE, 4096);   /* 3 caches x 2^20 positions x (32 + 4096) floats: 48 GiB */
    weights_refused(image, bytes, "header field max_seq = 1048576 asks for 48 GiB of KV cache");
    image = mini_test_image(&bytes);
    set_field(image, F_N_LAYERS, 256);
    set_field(image, F_D_LATENT, 16384);
    set_field(image, F_MAX_SEQ, 1u << 14);
    weights_refused(image, bytes, "header field d_latent = 16384 asks for 257 GiB of KV cache");
    image = mini_test_image(&bytes);
    set_field(image, F_MAX_SEQ, 1u << 20);
    set_field(image, F_D_ROPE, 4096);
    weights_refused(image, bytes, "the limit is 4 GiB");
}

Test(hostile_weights, the_footprint_saturates_instead_of_wrapping) {
    MiniConfig c = mini_default_config();
    c.n_layers = c.max_seq = c.d_latent = c.d_rope = c.n_heads = c.d_nope = c.d_v = 1 << 30;
    MiniFootprint f = mini_footprint(&c);
    cr_assert_eq(f.kv_cache, UINT64_MAX);
    cr_assert_gt(f.rope, MINI_MAX_STATE_BYTES);
    cr_assert_gt(f.workspace, MINI_MAX_STATE_BYTES);
    c = mini_default_config();
    f = mini_footprint(&c);
    /* MODEL.md's shapes: 4 caches x 1024 positions x (64 + 16) floats = 1.25 MiB; RoPE 2 x 1024 x 8 floats */
    cr_assert_eq(f.kv_cache, 4ull * 1024 * 80 * 4);
    cr_assert_eq(f.rope, 2ull * 1024 * 8 * 4);
    cr_assert_lt(f.workspace, 1ull << 20);
}

Test(hostile_weights, a_model_of_a_hand_made_config_is_checked_before_allocating) {
    MiniWeights w;
    mini_test_weights(&w, MINI_TEST_SEED);
    MiniConfig saved = w.cfg;
    w.cfg.max_seq = 1 << 20;
    w.cfg.d_latent = 16384;
    MiniModel m;
    char err[512] = "";
    cr_assert_neq(mini_model_init(&m, &w, 0, 0, err, sizeof err), 0, "a 192 GiB KV cache was allocated");
    cr_assert_not_null(strstr(err, "KV cache"), "%s", err);
    mini_model_free(&m);
    w.cfg = saved;
    MiniRope rope;
    cr_assert_neq(mini_rope_init(&rope, 0, 16, 10000.0f), 0, "d_rope 0: no pairs to rotate");
    MiniWorkspace ws;
    saved.d_model = 0;
    cr_assert_neq(mini_workspace_init(&ws, &saved, MINI_MAX_BATCH), 0, "a zero width");
    mini_free_weights(&w);
}
