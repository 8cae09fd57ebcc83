/* Writes a mini-model weights file with deterministic random weights (the engine's test-file
 * writer), for tests/mini-test.sh:  write_test_weights OUT.bin [small|default] [SEED] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testfile.h"

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: write_test_weights OUT.bin [small|default] [SEED]\n"); return 64; }
    MiniConfig c = argc > 2 && !strcmp(argv[2], "default") ? mini_default_config() : mini_small_config();
    unsigned long long seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
    char err[256];
    if (mini_write_test_file(argv[1], &c, seed, err, sizeof err)) { fprintf(stderr, "write_test_weights: %s\n", err); return 1; }
    return 0;
}
