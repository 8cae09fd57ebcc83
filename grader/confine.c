/* Keeping the code under test inside the process that runs it.
 *
 * The check's parent process never calls student code: it forks one child per exercise, reads the
 * child's result over a pipe, and writes the records itself. What is here makes that boundary hold:
 *
 *   parent  not dumpable (no process of the same user can ptrace it or open its /proc/PID/mem), and
 *           a "subreaper": a process the child forked and orphaned is re-parented to the check, not
 *           to init, and gr_reap_descendants() kills it before the next exercise starts.
 *   child   (grading mode) holds no descriptor but stdout, stderr and its result pipe (so it cannot
 *           write the records), and once the GPU is set up runs under a seccomp filter that refuses
 *           new processes, exec, ptrace, other processes' memory, signals to other processes and
 *           sockets. Threads stay allowed: the CUDA runtime makes its own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

void gr_confine_parent(bool grading) {
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    /* Not dumpable also keeps a child (same user) from attaching to the parent. Outside grading the
     * parent stays debuggable. */
    if (grading) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* The parent's children, found in /proc (a child that called setsid left our process group). */
static int kill_children(pid_t parent) {
    int found = 0;
    DIR *d = opendir("/proc");
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0) continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        /* "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'. */
        char *close = strrchr(buf, ')');
        char state;
        long ppid;
        if (close && sscanf(close + 1, " %c %ld", &state, &ppid) == 2 && ppid == parent) {
            kill((pid_t)pid, SIGKILL);
            found++;
        }
    }
    closedir(d);
    return found;
}

int gr_reap_descendants(void) {
    pid_t self = getpid();
    int killed = 0;
    /* Killing a child re-parents its own children to us: repeat until none is left. */
    for (int round = 0; round < 1000; round++) {
        int found = kill_children(self);
        killed += found;
        pid_t w;
        while ((w = waitpid(-1, NULL, found ? 0 : WNOHANG)) > 0) {}
        if (!found && w < 0 && errno == ECHILD) break;
        if (!found) usleep(1000);
    }
    return killed;
}

void gr_close_fds_except(int keep, int keep2) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        for (int fd = 3; fd < 1024; fd++) if (fd != keep && fd != keep2) close(fd);
        return;
    }
    int dir_fd = dirfd(d), fds[1024], n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 1024) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd > 2 && fd != keep && fd != keep2 && fd != dir_fd) fds[n++] = fd;
    }
    closedir(d);
    for (int i = 0; i < n; i++) close(fds[i]);
}

#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define REFUSE(err) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err))
#define LOAD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LOAD_ARG0 BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]))
/* if nr == call, go on to the next instruction, else skip one */
#define IF_NR(call) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (call), 0, 1)

bool gr_confine_child(char *why, size_t why_len) {
#ifdef NATIVE_AUDIT_ARCH
    const unsigned self = (unsigned)getpid();
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 1, 0),
        REFUSE(EPERM),
        LOAD_NR,
#ifdef SYS_fork
        IF_NR(SYS_fork), REFUSE(EPERM),
#endif
#ifdef SYS_vfork
        IF_NR(SYS_vfork), REFUSE(EPERM),
#endif
        IF_NR(SYS_execve), REFUSE(EPERM),
        IF_NR(SYS_execveat), REFUSE(EPERM),
        IF_NR(SYS_ptrace), REFUSE(EPERM),
        IF_NR(SYS_process_vm_readv), REFUSE(EPERM),
        IF_NR(SYS_process_vm_writev), REFUSE(EPERM),
        IF_NR(SYS_socket), REFUSE(EPERM),
        IF_NR(SYS_setsid), REFUSE(EPERM),
        IF_NR(SYS_tkill), REFUSE(EPERM),
        IF_NR(SYS_pidfd_open), REFUSE(EPERM),
        IF_NR(SYS_pidfd_send_signal), REFUSE(EPERM),
        /* clone3 passes its flags in memory a filter cannot read: say it is missing, and the C
         * library falls back to clone, whose flags can be read. */
        IF_NR(SYS_clone3), REFUSE(ENOSYS),
        /* clone: threads only (CLONE_THREAD), never a new process. */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4),
        LOAD_ARG0,
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1),
        ALLOW,
        REFUSE(EPERM),
        /* kill and tgkill: this process only. */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_kill, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_tgkill, 0, 4),
        LOAD_ARG0,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, self, 0, 1),
        ALLOW,
        REFUSE(EPERM),
        ALLOW,
    };
    struct sock_fprog prog = {.len = (unsigned short)(sizeof filter / sizeof filter[0]), .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
        snprintf(why, why_len, "the system call filter could not be installed: %s", strerror(errno));
        return false;
    }
    return true;
#else
    snprintf(why, why_len, "no system call filter for this processor architecture");
    return false;
#endif
}
