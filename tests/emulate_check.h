/* What the no-GPU emulation tests share: check(), one PASS or FAIL line a verdict, counted; and
 * next_random(), the xorshift64* stream their inputs come from. A test that wants other inputs
 * defines EMULATE_SEED before including this. */
#ifndef TESTS_EMULATE_CHECK_H
#define TESTS_EMULATE_CHECK_H

#include <stdint.h>
#include <stdio.h>

#ifndef EMULATE_SEED
#define EMULATE_SEED 0x243F6A8885A308D3ull
#endif

static int failures, passes;
static void check(bool ok, const char *what, const char *detail = "") {
    printf("%s  %s%s%s\n", ok ? "PASS" : "FAIL", what, ok || !*detail ? "" : "  ", ok ? "" : detail);
    if (!ok) failures++;
    else passes++;
}

static uint64_t rng = EMULATE_SEED;
static uint64_t next_random() {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

#endif
