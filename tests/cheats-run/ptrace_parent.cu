// Poses as ladder/01-gpu-vs-cpu/01_matmul_cpu.cu. Does no work; tries to reach the parent (the
// process that writes the records) through ptrace, process_vm_writev, /proc/PID/mem and a signal.
// expect: FAIL (each attempt refused), the parent alive to write it
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>
#include "exercises.h"

void matmul_cpu(const float *A, const float *B, float *C, int M, int N, int K) {
    (void)A; (void)B; (void)C; (void)M; (void)N; (void)K;
    static int tried;
    if (tried++) return;
    pid_t parent = getppid();
    long p = ptrace(PTRACE_ATTACH, parent, 0, 0);
    printf("cheat: ptrace attach %ld (%s)\n", p, p ? strerror(errno) : "attached");
    char byte = 0;
    struct iovec local = {&byte, 1}, remote = {(void *)0x400000, 1};
    ssize_t w = process_vm_writev(parent, &local, 1, &remote, 1, 0);
    printf("cheat: process_vm_writev %zd (%s)\n", w, w < 0 ? strerror(errno) : "wrote");
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", (int)parent);
    int fd = open(path, O_RDWR);
    printf("cheat: open %s: %s\n", path, fd < 0 ? strerror(errno) : "opened");
    if (fd >= 0) close(fd);
    int k = kill(parent, SIGSTOP);
    printf("cheat: kill(parent, SIGSTOP) %d (%s)\n", k, k ? strerror(errno) : "sent");
    if (!k) kill(parent, SIGCONT);
}
