// Poses as ladder/01-gpu-vs-cpu/01_matmul_cpu.cu. Does no work; forks a child that leaves the
// process group (setsid), waits for the check to finish and then appends a forged record through
// the parent's descriptors in /proc.
// expect: FAIL, and no process left behind (fork refused in grading; reaped otherwise)
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    (void)A; (void)B; (void)C; (void)M; (void)N; (void)K;
    static int forked;
    if (forked++) return;
    pid_t parent = getppid();
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        signal(SIGHUP, SIG_IGN);
        for (int i = 0; i < 600; i++) {
            sleep(1);
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/fd/3", (int)parent);
            FILE *f = fopen(path, "a");
            if (f) { fputs("{\"schema\":\"kernel-workbook-result/1\",\"verdict\":\"PASS\"}\n", f); fclose(f); }
        }
        _exit(0);
    }
    printf("cheat: fork returned %d\n", (int)pid);
}
