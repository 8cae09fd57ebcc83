/* Writes valid weights files with deterministic pseudo-random weights, for tests and demos that must
 * not depend on the trained file: a small config that runs in milliseconds, or any other config.
 * The weights are uniform with standard deviation 1/sqrt(fan_in) (norm gains near 1), stored as
 * MODEL.md says: BF16 matrices, F32 norms/router/bias, and FP8 copies of the routed experts made
 * from their BF16 values with per-tile scales max|w|/448. */
#ifndef MINI_TESTFILE_H
#define MINI_TESTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "weights.h"

/* MODEL.md's shapes. */
MiniConfig mini_default_config(void);

/* A small config for unit tests: d_model 64, 2 layers, 2 heads, 4 experts top-2, d_expert 40 with
 * 32 x 32 FP8 tiles (so edge tiles are partial), max_seq 160. */
MiniConfig mini_small_config(void);

/* The whole file image (malloc'd) for config c and seed. Returns 0, or -1 when out of memory. */
int mini_build_test_image(const MiniConfig *c, uint64_t seed, unsigned char **image, size_t *bytes);

/* Rewrites the last 8 bytes of an image: FNV-1a 64 of everything before them. */
void mini_set_checksum(unsigned char *image, size_t bytes);

/* The image written to path. Returns 0, or non-zero with one line in err. */
int mini_write_test_file(const char *path, const MiniConfig *c, uint64_t seed, char *err, size_t err_len);

#endif
