/* The processes of a check: one child per exercise (a fault or a hang in one cannot take the
 * others down, and the parent, which runs no student code, keeps the verdict), the output the code
 * under test prints capped on its way through the parent, a hang named by the size it happened at. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

/* A size whose reference is under GR_GR_SMALL_SIZE_WORK gets this long, not the whole time limit. */
#define SMALL_SIZE_LIMIT_S 10
/* What the code under test prints is shown up to this many lines; the rest is counted. */
#define SHOWN_OUTPUT_LINES 20

FILE *gr_grader_out;
bool gr_grading_mode;

/* What a child is doing, in memory it shares with the parent: a hang names its size, and output
 * printed while timing is noticed. Only a message depends on it. */
typedef struct {
    volatile int phase;
    volatile int small;          /* the size being checked is a small one: it must not take long */
    volatile double started;     /* gr_wall_seconds() when this size or phase began */
    char shape[64];
} child_progress;
static child_progress *progress;

void gr_progress_set(gr_phase phase, const char *shape, bool small) {
    if (!progress) return;
    progress->phase = phase;
    progress->small = small;
    progress->started = gr_wall_seconds();
    if (shape) snprintf(progress->shape, sizeof progress->shape, "%s", shape);
}

/* The result pipe of this process, when it is an exercise's child (gr_exercise_fails). */
static int child_result_fd = -1;

void gr_exercise_fails(gr_verdict verdict, const char *message) {
    fflush(stdout);
    fflush(stderr);
    /* What the code printed (a traceback) reaches the terminal through the parent: a moment for it
     * to get there before the verdict's line, which goes straight to the terminal. */
    usleep(100 * 1000);
    if (child_result_fd < 0) {
        fprintf(stderr, "check: %s\n", message);
        exit(1);
    }
    gr_result res;
    memset(&res, 0, sizeof res);
    res.verdict = verdict;
    snprintf(res.message, sizeof res.message, "%s", message);
    say("   %s  %s\n", gr_verdict_name(verdict), res.message);
    if (gr_grader_out) fflush(gr_grader_out);
    ssize_t w = write(child_result_fd, &res, sizeof res);
    _exit(w == (ssize_t)sizeof res ? 0 : 3);
}

/* The child: its stdout and stderr go to `out` (a pipe the parent reads and caps); the grader's own
 * lines to a copy of the terminal; the result to `fd`. */
static void child_main(gr_runner *R, const gr_exercise *ex, int fd, int out) {
    gr_result res;
    memset(&res, 0, sizeof res);
    int term = dup(1);
    gr_grader_out = term >= 0 ? fdopen(term, "w") : NULL;
    if (gr_grader_out) setvbuf(gr_grader_out, NULL, _IOLBF, 0);
    dup2(out, 1);
    dup2(out, 2);
    close(out);
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Grading: nothing of the parent's but the result pipe and the terminal (the records among them). */
    if (gr_grading_mode) gr_close_fds_except(fd, term);
    gr_progress_set(GR_PHASE_SETUP, "", false);
    child_result_fd = fd;
    bool ready = ex->on_host || gr_open_runner(R, &res);
    /* An exercise that loads its code says its name first: what loading prints comes under it. */
    if (ready && ex->open) say("-- %s: %s\n", ex->name, ex->what);
    if (ready && ex->open && !ex->open(ex, &res.verdict, res.message, sizeof res.message)) {
        say("   %s  %s\n", gr_verdict_name(res.verdict), res.message);
        ready = false;
    }
    if (ready && ex->warm_up) ready = gr_warm_up(R, ex, &res);
    if (ready && gr_grading_mode) {
        char why[200];
        if (!gr_confine_child(why, sizeof why)) say("   check: warning: %s\n", why);
    }
    if (ready) gr_run_exercise(R, ex, &res);
    fflush(stdout);
    fflush(stderr);
    if (gr_grader_out) fflush(gr_grader_out);
    ssize_t w = write(fd, &res, sizeof res);
    _exit(w == (ssize_t)sizeof res ? 0 : 3);
}

/* What the code under test printed, shown up to SHOWN_OUTPUT_LINES lines (each marked "| "), the
 * rest counted. */
typedef struct {
    int lines_shown, lines_hidden;
    size_t bytes, bytes_while_timing;
    bool at_line_start;
} output_cap;

static void cap_output(output_cap *cap, const char *buf, size_t n, bool timing) {
    cap->bytes += n;
    if (timing) cap->bytes_while_timing += n;
    for (size_t i = 0; i < n; i++) {
        bool shown = cap->lines_shown < SHOWN_OUTPUT_LINES;
        if (cap->at_line_start && shown) fputs("   | ", stdout);
        if (shown) putchar(buf[i]);
        cap->at_line_start = buf[i] == '\n';
        if (cap->at_line_start) { if (shown) cap->lines_shown++; else cap->lines_hidden++; }
    }
    fflush(stdout);
}

/* The child's result is data from a process that ran student code: make it well-formed before
 * anything reads it. Percent of peak and the roof's verdict are worked out here, in the parent. */
static void accept_result(gr_result *r, bool on_host, const gr_gpu *parent_gpu) {
    r->message[sizeof r->message - 1] = 0;
    r->gpu[sizeof r->gpu - 1] = 0;
    r->bench_shape[sizeof r->bench_shape - 1] = 0;
    r->library_name[sizeof r->library_name - 1] = 0;
    r->bound[0] = 0;
    if ((unsigned)r->verdict >= GR_VERDICT_COUNT) {
        memset(r, 0, sizeof *r);
        r->verdict = GR_CRASH;
        snprintf(r->message, sizeof r->message, "the exercise's process sent back a malformed result");
        return;
    }
    if (!(r->median_ms > 0) || !isfinite(r->median_ms)) r->timed = false;
    r->pct_peak = r->pct_measured = r->pct_library = -1;
    if ((unsigned)r->compute >= GR_N_COMPUTE) r->compute = GR_ROOF_HBM;
    if (r->timed && on_host) snprintf(r->bound, sizeof r->bound, "CPU");
    if (!r->timed || on_host || !parent_gpu) return;
    gr_fill_speed(r, parent_gpu);
    /* Faster than the datasheet allows: the work was not done, or not timed. A derived roof is
     * only an estimate, so it can't convict. */
    if (r->verdict == GR_PASS && r->pct_peak > 100.0 && !parent_gpu->roof.derived) {
        r->verdict = GR_IMPOSSIBLE;
        snprintf(r->message, sizeof r->message, "size %s: %.1f%% of the roof is impossible: the timing or the "
                 "work is not honest (%.3f ms measured)", r->bench_shape, r->pct_peak, r->median_ms);
        say("   %s  %s\n", gr_verdict_name(r->verdict), r->message);
    }
}

/* Run fn in a child; wait at most limit_s. Returns false if it died or hung (res says how). */
void gr_run_in_child(gr_runner *R, const gr_exercise *ex, const gr_gpu *parent_gpu, gr_result *res) {
    int fds[2], outs[2];
    memset(res, 0, sizeof *res);
    fflush(stdout);
    fflush(stderr);
    if (pipe(fds) != 0 || pipe(outs) != 0) { res->verdict = GR_CRASH; snprintf(res->message, sizeof res->message, "pipe: %s", strerror(errno)); return; }
    progress = mmap(NULL, sizeof *progress, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (progress == MAP_FAILED) progress = NULL;
    else memset(progress, 0, sizeof *progress);
    pid_t pid = fork();
    if (pid < 0) { res->verdict = GR_CRASH; snprintf(res->message, sizeof res->message, "fork: %s", strerror(errno)); return; }
    if (pid == 0) { close(fds[0]); close(outs[0]); child_main(R, ex, fds[1], outs[1]); }
    close(fds[1]);
    close(outs[1]);

    struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN}, {.fd = outs[0], .events = POLLIN}};
    size_t got = 0;
    double t0 = gr_wall_seconds(), result_at = 0;
    bool timed_out = false, small_timed_out = false, extra = false;
    output_cap cap = {.at_line_start = true};
    /* Until the result and the end of both pipes: exactly one result (more bytes mean something else
     * wrote into the channel). Once the result is in, an honest child closes its pipes at once; a
     * process it left holding them gets two seconds. */
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        double now = gr_wall_seconds();
        if (got < sizeof *res && now - t0 > R->opt->time_limit_s) { timed_out = true; break; }
        if (progress && got < sizeof *res && !R->opt->small && progress->phase == GR_PHASE_CHECKING && progress->small &&
            now - progress->started > SMALL_SIZE_LIMIT_S) { timed_out = small_timed_out = true; break; }
        if (got == sizeof *res && now - result_at > 2) break;
        int r = poll(p, 2, 250);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        if (p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
            char buf[4096];
            ssize_t n = read(p[1].fd, buf, sizeof buf);
            if (n > 0) cap_output(&cap, buf, (size_t)n, progress && progress->phase == GR_PHASE_TIMING);
            else { close(p[1].fd); p[1].fd = -1; }
        }
        if (p[0].fd >= 0 && (p[0].revents & (POLLIN | POLLHUP))) {
            char spill[256];
            ssize_t n = got < sizeof *res ? read(p[0].fd, (char *)res + got, sizeof *res - got) : read(p[0].fd, spill, sizeof spill);
            if (n <= 0) { close(p[0].fd); p[0].fd = -1; continue; }
            if (got >= sizeof *res) { extra = true; break; }
            got += (size_t)n;
            if (got == sizeof *res) result_at = gr_wall_seconds();
        }
    }
    if (p[0].fd >= 0) close(p[0].fd);
    if (p[1].fd >= 0) close(p[1].fd);
    if (!cap.at_line_start && cap.lines_shown < SHOWN_OUTPUT_LINES) putchar('\n');
    if (cap.lines_hidden > 0)
        say("   | ... and %d more line(s) the exercise printed, not shown (%zu bytes in all)\n", cap.lines_hidden, cap.bytes);
    char where[96] = "";
    if (progress && progress->shape[0])
        snprintf(where, sizeof where, " at size %s%s", progress->shape, progress->phase == GR_PHASE_TIMING ? ", while timing" : "");
    if (timed_out) kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (progress) { munmap(progress, sizeof *progress); progress = NULL; }
    /* Whatever the child left running (a process it forked, even one that called setsid) is ours
     * now, as the subreaper: it is gone before the next exercise. */
    int stray = gr_reap_descendants();
    if (stray > 0) say("   (stopped %d process(es) the exercise left behind)\n", stray);
    if (got == sizeof *res && !extra) {
        accept_result(res, ex->on_host, parent_gpu);
        if (cap.bytes_while_timing > 0 && res->timed) {
            size_t used = strlen(res->message);
            snprintf(res->message + used, sizeof res->message - used, "%sit printed %zu bytes while being timed: "
                     "printing is slow, and its time counts", used ? "; " : "", cap.bytes_while_timing);
            say("   note: the exercise printed %zu bytes while being timed: printing is slow, and the time above "
                "includes it\n", cap.bytes_while_timing);
        }
        return;
    }
    if (extra) {
        memset(res, 0, sizeof *res);
        res->verdict = GR_CRASH;
        snprintf(res->message, sizeof res->message, "the exercise's process wrote more than its result into the "
                 "grader's result channel");
        say("   %s  %s\n", gr_verdict_name(res->verdict), res->message);
        return;
    }
    memset(res, 0, sizeof *res);
    if (small_timed_out) {
        res->verdict = GR_TIMEOUT;
        snprintf(res->message, sizeof res->message, "still running after %d s%s, a size that takes "
                 "milliseconds: stopped (an endless loop, or a barrier not every thread reaches)", SMALL_SIZE_LIMIT_S, where);
    } else if (timed_out) {
        res->verdict = GR_TIMEOUT;
        snprintf(res->message, sizeof res->message, "still running after %d s%s: stopped (an endless loop, a "
                 "barrier not every thread reaches, or a far too slow kernel)", R->opt->time_limit_s, where);
    } else {
        res->verdict = GR_CRASH;
        if (WIFSIGNALED(status))
            snprintf(res->message, sizeof res->message, "the process died of signal %d (%s)%s", WTERMSIG(status),
                     strsignal(WTERMSIG(status)), where);
        else
            snprintf(res->message, sizeof res->message, "the process exited with status %d before reporting%s",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1, where);
    }
    say("   %s  %s\n", gr_verdict_name(res->verdict), res->message);
}

/* The GPU description for the header, from a child: the parent never touches CUDA, so that the
 * children it forks start clean. */
bool gr_probe_gpu(const gr_options *opt, gr_gpu *gpu, gr_result *why) {
    int fds[2];
    if (pipe(fds) != 0) return false;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        gr_gpu g;
        gr_result r;
        memset(&r, 0, sizeof r);
        bool ok = gr_gpu_open(&g, opt, &r);
        ssize_t w1 = write(fds[1], &ok, sizeof ok), w2 = write(fds[1], &g, sizeof g), w3 = write(fds[1], &r, sizeof r);
        _exit(w1 > 0 && w2 > 0 && w3 > 0 ? 0 : 3);
    }
    close(fds[1]);
    bool ok = false;
    memset(why, 0, sizeof *why);
    FILE *f = fdopen(fds[0], "rb");
    if (!f || fread(&ok, sizeof ok, 1, f) != 1 || fread(gpu, sizeof *gpu, 1, f) != 1 || fread(why, sizeof *why, 1, f) != 1) {
        ok = false;
        why->verdict = GR_NO_GPU;
        snprintf(why->message, sizeof why->message, "grading needs a CUDA GPU: the probe for one failed");
    }
    if (f) fclose(f);
    waitpid(pid, NULL, 0);
    return ok;
}

