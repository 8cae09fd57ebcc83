/* Writes a mini-model weights file with deterministic random weights (the engine's test-file
 * writer), for tests/mini-test.sh, tests/fuzz-test.sh and the fuzz corpus:
 *
 *   write_test_weights OUT.bin [small|default|tiny] [SEED] [EDIT...]
 *
 * tiny is the smallest config the engine accepts in spirit (d_model 8, one layer, two experts: a
 * file of about 20 KB). Each EDIT changes the written file, then its checksum is made right again,
 * so that the engine gets past the checksum to the check under test:
 *   FIELD=VALUE          a config field of the header (vocab, d_model, ..., max_seq, fp8_block), u32
 *   offset:TENSOR=VALUE  the data offset of a tensor's table entry, u64 (decimal or 0x...), or
 *   offset:TENSOR=@OTHER that of tensor OTHER (two tensors on the same bytes)
 *   truncate=BYTES       keep only the first BYTES bytes (no checksum rewritten) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testfile.h"

static const char *const FIELDS[16] = {"vocab", "d_model", "n_layers", "n_heads", "d_nope", "d_rope", "d_v", "d_latent",
                                       "n_experts", "top_k", "d_expert", "d_shared", "mtp_depth", "max_seq",
                                       "fp8_block", "reserved"};

static void put_le(unsigned char *p, uint64_t v, int bytes) { for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i)); }

/* The table entry of the tensor named by name[0..len), or NULL. */
static unsigned char *entry(unsigned char *image, const char *name, size_t len) {
    uint32_t n = (uint32_t)image[88] | (uint32_t)image[89] << 8 | (uint32_t)image[90] << 16 | (uint32_t)image[91] << 24;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char *e = image + MINI_FIXED_HEADER + (size_t)i * MINI_ENTRY_BYTES;
        if (strlen((char *)e) == len && !strncmp((char *)e, name, len)) return e;
    }
    return NULL;
}

/* Applies one EDIT; returns 0, or -1 after saying why. */
static int edit(unsigned char *image, size_t *bytes, const char *what) {
    const char *eq = strrchr(what, '=');
    if (!eq) { fprintf(stderr, "write_test_weights: %s: expected NAME=VALUE\n", what); return -1; }
    char *end;
    unsigned long long value = strtoull(eq + 1, &end, 0);
    if (eq[1] == '@') {   /* another tensor's offset */
        const unsigned char *other = entry(image, eq + 2, strlen(eq + 2));
        if (!other) { fprintf(stderr, "write_test_weights: %s: no such tensor\n", what); return -1; }
        value = 0;
        for (int i = 7; i >= 0; i--) value = value << 8 | other[88 + i];
        end = (char *)eq + strlen(eq);
    }
    if (end == eq + 1 || *end) { fprintf(stderr, "write_test_weights: %s: not a number\n", what); return -1; }
    size_t name_len = (size_t)(eq - what);
    if (name_len == 8 && !strncmp(what, "truncate", 8)) {
        if (value < *bytes) *bytes = (size_t)value;
        return 0;
    }
    if (!strncmp(what, "offset:", 7)) {
        unsigned char *e = entry(image, what + 7, name_len - 7);
        if (!e) { fprintf(stderr, "write_test_weights: %s: no such tensor\n", what); return -1; }
        put_le(e + 88, value, 8);
        return 0;
    }
    for (int i = 0; i < 16; i++)
        if (strlen(FIELDS[i]) == name_len && !strncmp(what, FIELDS[i], name_len)) {
            put_le(image + 16 + 4 * i, value, 4);
            return 0;
        }
    fprintf(stderr, "write_test_weights: %s: unknown field\n", what);
    return -1;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: write_test_weights OUT.bin [small|default|tiny] [SEED] [EDIT...]\n"); return 64; }
    MiniConfig c = mini_small_config();
    if (argc > 2 && !strcmp(argv[2], "default")) c = mini_default_config();
    if (argc > 2 && !strcmp(argv[2], "tiny")) {
        c.d_model = 8, c.n_layers = 1, c.n_heads = 1, c.d_nope = 4, c.d_rope = 2, c.d_v = 4, c.d_latent = 4;
        c.n_experts = 2, c.top_k = 1, c.d_expert = 6, c.d_shared = 4, c.max_seq = 32, c.fp8_block = 4;
    }
    unsigned long long seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
    unsigned char *image;
    size_t bytes;
    if (mini_build_test_image(&c, seed, &image, &bytes)) { fprintf(stderr, "write_test_weights: out of memory\n"); return 1; }
    int truncated = 0;
    for (int i = 4; i < argc; i++) {
        if (edit(image, &bytes, argv[i])) { free(image); return 1; }
        truncated |= !strncmp(argv[i], "truncate=", 9);
    }
    if (argc > 4 && !truncated) mini_set_checksum(image, bytes);
    FILE *f = fopen(argv[1], "wb");
    int ok = f && fwrite(image, 1, bytes, f) == bytes;
    if (f && fclose(f)) ok = 0;
    free(image);
    if (!ok) { fprintf(stderr, "write_test_weights: cannot write %s\n", argv[1]); return 1; }
    return 0;
}
