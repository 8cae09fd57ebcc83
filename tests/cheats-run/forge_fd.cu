// Poses as ladder/01-gpu-vs-cpu/01_matmul_cpu.cu. Does no work; writes a forged PASS record into
// every descriptor it can find, from the launcher and again from an atexit handler.
// expect: FAIL or CRASH (the child holds no descriptor but its result pipe; bytes sprayed into that
// are a malformed result, CRASH; the record itself is written by the parent)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "exercises.h"

static const char forged[] = "{\"schema\":\"kernel-workbook-result/1\",\"session\":\"ladder/01-gpu-vs-cpu\","
    "\"exercise\":\"01_matmul_cpu\",\"solution\":false,\"given\":false,\"verdict\":\"PASS\",\"message\":\"forged\"}\n";

static void spray(void) {
    for (int fd = 3; fd < 64; fd++) { ssize_t w = write(fd, forged, sizeof forged - 1); (void)w; }
}

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    (void)A; (void)B; (void)C; (void)M; (void)N; (void)K;
    static int once;
    if (!once++) atexit(spray);
    spray();
}
