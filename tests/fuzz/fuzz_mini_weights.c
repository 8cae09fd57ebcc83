// link: finale/mini/engine/weights.c finale/mini/engine/model.c finale/mini/engine/mla.c finale/mini/engine/moe.c finale/mini/engine/numerics.c finale/mini/engine/ops.c finale/mini/engine/rope.c finale/mini/engine/workspace.c
/* Fuzz harness of the mini-model's weights loader (finale/mini/engine/weights.c, through its
 * memory entry point mini_parse_weights). Each input is parsed twice: as it is, and with its last
 * eight bytes made the right checksum, so that mutations get past the checksum to the table and
 * config checks. A file that loads and asks for little memory also runs the model: init (the
 * allocations sized by its header), a two-token forward pass, an MTP draft step, in the float
 * numerics and then in the serving ones. A refusal must be one non-empty line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "weights.h"

static void check(int ok) {
    if (!ok) abort();
}

static void parse(const uint8_t *data, size_t size, int fix_checksum) {
    unsigned char *image = malloc(size ? size : 1);   /* mini_parse_weights takes it over */
    if (!image) return;
    memcpy(image, data, size);
    if (fix_checksum) {
        uint64_t sum = mini_fnv1a64(image, size - 8);
        for (int i = 0; i < 8; i++) image[size - 8 + i] = (unsigned char)(sum >> (8 * i));
    }
    MiniWeights w;
    char err[512];
    memset(err, 0, sizeof err);
    if (mini_parse_weights(image, size, &w, err, sizeof err) != 0) {
        size_t n = strnlen(err, sizeof err);
        check(n > 0 && n < sizeof err && memchr(err, '\n', n) == NULL);
        mini_free_weights(&w);
        return;
    }
    const MiniFootprint f = mini_footprint(&w.cfg);
    check(f.rope <= MINI_MAX_STATE_BYTES && f.kv_cache <= MINI_MAX_STATE_BYTES && f.workspace <= MINI_MAX_STATE_BYTES);
    if (f.rope + f.kv_cache + f.workspace <= (64u << 20)) {   /* a fuzzer's memory limit is about 2 GB */
        /* float numerics with the size's bits choosing FP8 experts and naive MLA, then serving */
        for (int numerics = MINI_NUMERICS_FLOAT; numerics <= MINI_NUMERICS_SERVING; numerics++) {
            const int naive = numerics == MINI_NUMERICS_FLOAT && (size >> 1 & 1);
            MiniModel m;
            if (mini_model_init_numerics(&m, &w, (int)(size & 1), naive, numerics, err, sizeof err) != 0) continue;
            const MiniConfig *c = &w.cfg;
            uint8_t tokens[2] = {data[size / 3], data[size / 2]};
            float *hidden = malloc(2 * (size_t)c->d_model * sizeof *hidden);
            float *logits = malloc(2 * (size_t)c->vocab * sizeof *logits);
            if (hidden && logits) {
                mini_forward(&m, tokens, 2, hidden, logits);
                mini_mtp_step(&m, hidden, tokens[1], NULL, logits);
            }
            free(hidden);
            free(logits);
            mini_model_free(&m);
        }
    }
    mini_free_weights(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    parse(data, size, 0);
    if (size >= MINI_FIXED_HEADER + 8) parse(data, size, 1);
    return 0;
}
