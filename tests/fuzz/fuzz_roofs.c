// link: grader/roofs.c
/* Fuzz harness of the roofs cache reader (gr_measured_load in grader/roofs.c), which reads a path:
 * the bytes go to one temporary file per process, rewritten for each input. A load that succeeds
 * must give finite, non-negative figures, a positive copy bandwidth and a terminated date of
 * printable characters; a refused one has no copy bandwidth (a malformed file leaves all zero, one
 * without a bandwidth line keeps its other figures). The reader's warnings are silenced (stderr). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roofs.h"

static char path[64];

static void remove_file(void) { unlink(path); }

static void check(int ok) {
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!path[0]) {   /* once per process */
        snprintf(path, sizeof path, "/tmp/fuzz-roofs-XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0) abort();
        close(fd);
        atexit(remove_file);
        FILE *quiet = fopen("/dev/null", "w");
        if (quiet) stderr = quiet;   /* glibc: stderr is a variable; sanitizers write to fd 2 */
    }
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size) fwrite(data, 1, size, f);
    fclose(f);
    gr_measured m;
    memset(&m, 0x5a, sizeof m);
    if (gr_measured_load(path, &m)) {
        check(isfinite(m.copy_gbs) && m.copy_gbs > 0);
        check(isfinite(m.sgemm_tflops) && m.sgemm_tflops >= 0 && isfinite(m.bf16_tflops) && m.bf16_tflops >= 0);
        check(memchr(m.measured_on, 0, sizeof m.measured_on) != NULL);
        for (const char *p = m.measured_on; *p; p++) check((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
    } else {
        check(m.copy_gbs == 0 && m.sgemm_tflops >= 0 && m.bf16_tflops >= 0);
    }
    return 0;
}
