#include "rng.h"

#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

uint64_t gr_fresh_seed(void) {
    uint64_t s = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(&s, sizeof s, 1, f) != 1) s = 0;
        fclose(f);
    }
    if (s == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
    }
    /* Keep seeds short enough to type back in. */
    return s & 0xFFFFFFFFFFull;
}

uint64_t gr_derive_seed(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t s = seed ^ (a * 0xD1B54A32D192ED03ull) ^ (b * 0x8CB92BA72F3D8DD7ull);
    return gr_rng_next(&s);
}

uint64_t gr_secret_seed(void) {
    uint64_t s = 0;
    /* getrandom: no file to open or replace, and it blocks only before the pool is ready at boot. */
    if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s || s == 0) s = gr_fresh_seed() * 0x9E3779B97F4A7C15ull + 1;
    return s;
}
