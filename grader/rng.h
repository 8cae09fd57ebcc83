/* Random numbers for inputs and seeds: splitmix64, small, fast and good enough for test data. */
#ifndef GRADER_RNG_H
#define GRADER_RNG_H

#include <stdint.h>

static inline uint64_t gr_rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 24 random bits: exact in float32. */
static inline float gr_rng_unit_f32(uint64_t *state) {
    return (float)(gr_rng_next(state) >> 40) * (1.0f / 16777216.0f);
}

/* A seed nobody can predict: from the kernel's entropy pool, else from the clock and pid. */
uint64_t gr_fresh_seed(void);

/* 64 random bits from the kernel, for what must not be predictable (the check seed in grading). */
uint64_t gr_secret_seed(void);

/* Seed of a derived stream: one per exercise, shape and purpose, all from the run's seed. */
uint64_t gr_derive_seed(uint64_t seed, uint64_t a, uint64_t b);

#endif
