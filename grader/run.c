/* Running a session's exercises: each in a child process of its own (a fault or a hang in one
 * cannot take the others down), checked at every shape, then timed at the large one. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hints.h"
#include "internal.h"
#include "rng.h"

#define SAMPLED_ROWS 64
#define DEFAULT_REFERENCE_LIMIT 2e9
/* A size whose reference is under this much work is small: any kernel, any CPU loop, finishes it
 * in well under a second, so it gets SMALL_SIZE_LIMIT_S, not the exercise's whole time limit. */
#define SMALL_SIZE_WORK 1e6
#define SMALL_SIZE_LIMIT_S 10
/* What the code under test prints is shown up to this many lines; the rest is counted. */
#define SHOWN_OUTPUT_LINES 20

/* Where the grader's own lines go. In an exercise's child, stdout and stderr carry what the code
 * under test prints (to the parent, which caps it); the grader writes around them, here. */
static FILE *grader_out;
#define say(...) fprintf(grader_out ? grader_out : stdout, __VA_ARGS__)

/* What a child is doing, in memory it shares with the parent: a hang names its size, and output
 * printed while timing is noticed. Only a message depends on it. */
typedef enum { PHASE_SETUP, PHASE_CHECKING, PHASE_TIMING } run_phase;
typedef struct {
    volatile int phase;
    volatile int small;          /* the size being checked is a small one: it must not take long */
    volatile double started;     /* gr_wall_seconds() when this size or phase began */
    char shape[64];
} child_progress;
static child_progress *progress;

static void progress_set(run_phase phase, const char *shape, bool small) {
    if (!progress) return;
    progress->phase = phase;
    progress->small = small;
    progress->started = gr_wall_seconds();
    if (shape) snprintf(progress->shape, sizeof progress->shape, "%s", shape);
}

typedef struct {
    const gr_options *opt;
    gr_gpu gpu;
    cudaStream_t stream;
    void *flush;
    size_t flush_bytes;
} runner;

/* ---- one launch, verified ---------------------------------------------------------------- */

static double reference_work(const gr_exercise *ex, const gr_shape *s) {
    double f = ex->flops ? ex->flops(s) : 0;
    return f > 0 ? f : (ex->bytes ? ex->bytes(s) / 4 : 0);
}

/* Which reference rows to compute: all, or a sample when the CPU would take too long. The sample
 * comes from the case's check seed, drawn after the launch. */
static unsigned char *choose_rows(gr_case *c, bool *sampled) {
    double limit = c->ex->full_reference_limit > 0 ? c->ex->full_reference_limit : DEFAULT_REFERENCE_LIMIT;
    *sampled = reference_work(c->ex, &c->shape) > limit && c->rows > SAMPLED_ROWS + 2;
    if (!*sampled) return NULL;
    unsigned char *mask = calloc((size_t)c->rows, 1);
    if (!mask) { fprintf(stderr, "grader: out of host memory\n"); exit(70); }
    uint64_t s = gr_derive_seed(c->check_seed, 0x5A3B, 0);
    mask[0] = mask[c->rows - 1] = 1;
    for (int i = 0; i < SAMPLED_ROWS; i++) mask[gr_rng_next(&s) % (uint64_t)c->rows] = 1;
    return mask;
}

/* In grading mode the verification's randomness is fresh from the kernel after every launch;
 * otherwise it follows the run's seed, so that `SEED=` replays a failure exactly. */
static bool grading_mode;
static void draw_check_seed(gr_case *c) {
    c->check_seed = grading_mode ? gr_secret_seed() : gr_derive_seed(c->seed, 0xC4EC, (uint64_t)c->generation);
}

/* A hint recognised from the failure itself (the wrong output's pattern, or where a stray write
 * landed), set by launch_and_verify; fail_with prints it instead of the exercise's fixed hint. */
static char pattern_hint[512];

/* Launch once (when `launch`: on poisoned outputs) and check everything. Returns the verdict; fills
 * msg and the worst error. A device fault leaves the CUDA context unusable: the caller must stop. */
static gr_verdict launch_and_verify(runner *R, gr_case *c, bool launch, bool *sampled, double *err_out,
                                    char *msg, size_t msg_len) {
    char err[512];
    *err_out = 0;
    pattern_hint[0] = '\0';
    if (launch && !gr_case_poison_outputs(c, err, sizeof err)) { snprintf(msg, msg_len, "%s", err); return GR_CRASH; }
    if (c->on_host) {
        c->ex->launch(c, NULL);
    } else if (launch) {
        cudaError_t e = cudaDeviceSynchronize();
        if (e != cudaSuccess) { snprintf(msg, msg_len, "before the launch: %s", cudaGetErrorString(e)); return GR_CRASH; }
        c->ex->launch(c, R->stream);
        e = cudaGetLastError();
        if (e != cudaSuccess) {
            snprintf(msg, msg_len, "the launch failed: %s (%s); check the grid and block sizes and the "
                     "shared memory the kernel asks for", cudaGetErrorName(e), cudaGetErrorString(e));
            return GR_CRASH;
        }
        e = cudaDeviceSynchronize();
        if (e != cudaSuccess) {
            snprintf(msg, msg_len, "the kernel faulted: %s (%s); run it under compute-sanitizer to find "
                     "the bad access", cudaGetErrorName(e), cudaGetErrorString(e));
            return GR_CRASH;
        }
    }
    if (!gr_case_read_back(c, err, sizeof err)) { snprintf(msg, msg_len, "%s", err); return GR_CRASH; }
    if (!gr_case_check_guards(c, msg, msg_len)) {
        gr_guard_hint(msg, pattern_hint, sizeof pattern_hint);
        return GR_FAIL;
    }

    /* Only now, with the code under test done, is the verification's randomness drawn. */
    draw_check_seed(c);
    bool sample;
    unsigned char *mask = choose_rows(c, &sample);
    if (sampled) *sampled = sample;
    if (mask || c->ref_generation != c->generation) {  /* a full reference of these inputs is kept */
        if (!mask) c->ex->reference(c, 0, c->rows);
        else for (long r = 0; r < c->rows; r++) if (mask[r]) c->ex->reference(c, r, r + 1);
        c->ref_generation = mask ? -1 : c->generation;
    }

    gr_verdict verdict = GR_PASS;
    double tol = c->ex->tolerance(&c->shape);
    for (int i = 0; i < c->n_buffers && verdict == GR_PASS; i++) {
        gr_buffer *b = &c->buf[i];
        if (!b->is_output || b->is_scratch) continue;
        gr_comparison cmp;
        gr_compare_scaled(b->dtype, b->host, b->ref, b->scale, b->count, b->row_len, mask, tol, &cmp);
        if (cmp.rel_l2 > *err_out || isnan(cmp.rel_l2)) *err_out = cmp.rel_l2;
        if (!cmp.ok) {
            gr_describe_failure(&cmp, b->name, b->row_len, msg, msg_len);
            gr_pattern_hint(b->dtype, b->host, b->ref, b->count, b->row_len, mask, pattern_hint,
                            sizeof pattern_hint);
            verdict = GR_FAIL;
        }
    }
    if (verdict == GR_PASS && mask && c->ex->extra_check) {
        double e = c->ex->extra_check(c);
        if (e > *err_out || isnan(e)) *err_out = e;
        if (!(e <= 2 * tol)) {
            snprintf(msg, msg_len, "the sampled rows agree, but a check over the whole output does not: "
                     "relative error %.2e (tolerance %.1e); some rows or columns are wrong", e, 2 * tol);
            verdict = GR_FAIL;
        }
    }
    free(mask);
    return verdict;
}

/* ---- one exercise ------------------------------------------------------------------------ */

static void note_error(gr_result *res, double err, double tol) {
    if (err > res->worst_rel_err || isnan(err)) { res->worst_rel_err = err; res->tol_at_worst = tol; }
}

static void fail_with(gr_result *res, gr_verdict v, const char *shape, const char *msg, const char *hint) {
    res->verdict = v;
    snprintf(res->message, sizeof res->message, "size %s: %s", shape, msg);
    say("   size %-16s %s  %s\n", shape, gr_verdict_name(v), msg);
    if (pattern_hint[0]) hint = pattern_hint;  /* the recognised pattern over the fixed hint */
    if (hint && v == GR_FAIL) say("   hint: %s\n", hint);
    pattern_hint[0] = '\0';
}

/* Work that outlasted the given stream: a verdict, whatever its results. */
static bool off_stream_verdict(gr_result *res, const gr_timing *t, const char *shape) {
    if (!gr_off_stream(t)) return false;
    char m[400];
    snprintf(m, sizeof m, "work ran off the stream the launcher was given and went on %.3f ms after that "
             "stream's work was done (%.3f ms in all): a launcher enqueues all its work on its stream",
             t->off_stream_ms, t->ms);
    fail_with(res, GR_DISQUALIFIED, shape, m, NULL);
    return true;
}

/* Leaderboard mode: every timed repetition gets new inputs and poisoned outputs, and its results are
 * checked in full (sampled rows at large sizes) before the next one. A launcher that skips work on
 * some calls, returns the previous call's output, or behaves differently once it has been called
 * is caught at the repetition where it does. */
#define LEADERBOARD_REPS 10
static bool time_leaderboard(runner *R, gr_case *c, gr_result *res, const char *shape) {
    char msg[768], err[512];
    double times[LEADERBOARD_REPS], e;
    for (int rep = 0; rep < LEADERBOARD_REPS; rep++) {
        gr_case_fill_inputs(c);
        gr_timing t;
        if (!gr_case_upload_inputs(c, err, sizeof err) || !gr_case_poison_outputs(c, err, sizeof err) ||
            !gr_time_one_launch(c, c->ex->launch, R->stream, R->flush, R->flush_bytes, rep, &t, err, sizeof err)) {
            fail_with(res, GR_CRASH, shape, err, NULL);
            return false;
        }
        if (off_stream_verdict(res, &t, shape)) return false;
        gr_verdict v = launch_and_verify(R, c, false, NULL, &e, msg, sizeof msg);
        note_error(res, e, c->ex->tolerance(&c->shape));
        if (v != GR_PASS) {
            char m[900];
            snprintf(m, sizeof m, "timed repetition %d of %d, on fresh inputs, was wrong: %s", rep + 1,
                     LEADERBOARD_REPS, msg);
            fail_with(res, v, shape, m, c->ex->hint);
            return false;
        }
        times[rep] = t.ms;
    }
    res->median_ms = gr_median(times, LEADERBOARD_REPS);  /* sorts */
    res->min_ms = times[0];
    res->max_ms = times[LEADERBOARD_REPS - 1];
    res->reps = LEADERBOARD_REPS;
    res->timed = true;
    return true;
}

/* Time the exercise and its library at the case's shape; then make sure the results are still right,
 * and right again on fresh inputs (an exercise that caches or detects the timing is caught here). */
static void time_case(runner *R, gr_case *c, gr_result *res, const char *shape) {
    const gr_exercise *ex = c->ex;
    char msg[768];
    double err;
    res->flops = ex->flops ? ex->flops(&c->shape) : 0;
    res->bytes = ex->bytes ? ex->bytes(&c->shape) : 0;
    res->compute = ex->compute;
    snprintf(res->bench_shape, sizeof res->bench_shape, "%s", shape);
    progress_set(PHASE_TIMING, shape, false);

    if (c->on_host) {
        res->median_ms = gr_time_host(c, R->opt->bench ? 7 : 3, &res->min_ms, &res->max_ms);
        res->reps = R->opt->bench ? 7 : 3;
        res->timed = true;
        res->pct_peak = res->pct_measured = res->pct_library = -1;
        snprintf(res->bound, sizeof res->bound, "CPU");
    } else if (R->opt->leaderboard) {
        if (!time_leaderboard(R, c, res, shape)) return;
    } else {
        int max_reps = R->opt->bench ? 200 : 40;
        double *times = malloc(sizeof(double) * (size_t)max_reps);
        int n = 0;
        gr_timing worst;
        if (!gr_time_device(c, ex->launch, R->stream, R->flush, R->flush_bytes, max_reps,
                            R->opt->bench ? 1.5 : 0.3, times, &n, &worst, msg, sizeof msg)) {
            free(times);
            fail_with(res, GR_CRASH, shape, msg, NULL);
            return;
        }
        if (off_stream_verdict(res, &worst, shape)) { free(times); return; }
        res->median_ms = gr_median(times, n);  /* sorts: first and last are min and max */
        res->min_ms = times[0];
        res->max_ms = times[n - 1];
        res->reps = n;
        res->timed = true;
        free(times);
    }

    progress_set(PHASE_CHECKING, shape, false);
    /* The last timed launch's results, without poisoning again (not for in-out buffers: each timed
     * launch updated them in place). */
    bool has_inout = false;
    for (int i = 0; i < c->n_buffers; i++) has_inout |= c->buf[i].is_inout;
    gr_verdict v = has_inout ? GR_PASS : launch_and_verify(R, c, false, NULL, &err, msg, sizeof msg);
    if (v != GR_PASS) {
        char m[800];
        snprintf(m, sizeof m, "after timing the results were wrong: %s", msg);
        fail_with(res, v, shape, m, ex->hint);
        return;
    }
    /* Fresh inputs at the same addresses. */
    char e2[256];
    gr_case_fill_inputs(c);
    if (!gr_case_upload_inputs(c, e2, sizeof e2)) { fail_with(res, GR_CRASH, shape, e2, NULL); return; }
    v = launch_and_verify(R, c, true, NULL, &err, msg, sizeof msg);
    note_error(res, err, ex->tolerance(&c->shape));
    if (v != GR_PASS) {
        char m[800];
        snprintf(m, sizeof m, "new inputs after timing gave wrong results (cached or stale output?): %s", msg);
        fail_with(res, v, shape, m, ex->hint);
        return;
    }

    if (!c->on_host) {
        if (ex->library) {
            double *times = malloc(sizeof(double) * 100);
            int n = 0;
            gr_timing worst;
            if (gr_time_device(c, ex->library, R->stream, R->flush, R->flush_bytes, 100, 0.5, times, &n, &worst, msg, sizeof msg)) {
                res->library_ms = gr_median(times, n);
                snprintf(res->library_name, sizeof res->library_name, "%s", ex->library_name ? ex->library_name : "library");
            } else {
                say("   (library timing failed: %s)\n", msg);
            }
            free(times);
        } else if (ex->compute == GR_ROOF_HBM && res->bytes > 0 && gr_time_copy((size_t)res->bytes, R->stream, R->flush, R->flush_bytes,
                                                   &res->library_ms, msg, sizeof msg)) {
            snprintf(res->library_name, sizeof res->library_name, "cudaMemcpy D2D");
        }
    }
}

/* Seeds of an exercise's cases come from its name and the shape, not from its place in the table:
 * adding an exercise leaves the inputs of the others under an old seed as they were. */
static uint64_t name_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static void run_exercise(runner *R, const gr_exercise *ex, gr_result *res) {
    say("-- %s: %s\n", ex->name, ex->what);
    int n_shapes = 0;
    while (n_shapes < GR_MAX_SHAPES && ex->check_shapes[n_shapes].rank > 0) n_shapes++;
    bool with_bench = !R->opt->small && ex->bench_shape.rank > 0;
    res->verdict = GR_PASS;

    for (int si = 0; si < n_shapes + (with_bench ? 1 : 0); si++) {
        bool bench = si == n_shapes;
        gr_shape shape = bench ? ex->bench_shape : ex->check_shapes[si];
        char sh[64], msg[768], err[512];
        gr_shape_format(&shape, sh, sizeof sh);
        gr_case c;
        gr_case_init(&c, ex, shape, gr_derive_seed(R->opt->seed, name_hash(ex->name), name_hash(sh)));
        ex->declare(&c);
        if (!gr_case_alloc(&c, err, sizeof err)) {
            fail_with(res, GR_CRASH, sh, err, NULL);
            gr_case_free(&c);
            return;
        }
        gr_case_fill_inputs(&c);
        if (!gr_case_upload_inputs(&c, err, sizeof err)) {
            fail_with(res, GR_CRASH, sh, err, NULL);
            gr_case_free(&c);
            return;
        }
        bool sampled = false;
        double e;
        progress_set(PHASE_CHECKING, sh, reference_work(ex, &shape) < SMALL_SIZE_WORK);
        gr_verdict v = launch_and_verify(R, &c, true, &sampled, &e, msg, sizeof msg);
        res->shapes_checked++;
        note_error(res, e, ex->tolerance(&shape));
        if (v != GR_PASS) {
            fail_with(res, v, sh, msg, ex->hint);
            gr_case_free(&c);
            return;
        }
        res->shapes_passed++;
        say("   size %-16s PASS  error %.1e (tolerance %.1e)%s\n", sh, e, ex->tolerance(&shape),
               sampled ? ", sampled rows" : "");
        if (bench && ex->bench_note) {
            char note[256] = "";
            ex->bench_note(&shape, note, sizeof note);
            say("   note: %s\n", note);
        }
        fflush(stdout);
        if (bench) time_case(R, &c, res, sh);
        gr_case_free(&c);
    }
}

/* ---- processes --------------------------------------------------------------------------- */

static bool open_runner(runner *R, gr_result *res) {
    if (!gr_gpu_open(&R->gpu, R->opt, res)) return false;
    cudaError_t e = cudaStreamCreateWithFlags(&R->stream, cudaStreamNonBlocking);
    /* Twice the L2, so that nothing the last launch touched is still cached. */
    R->flush_bytes = 2 * (R->gpu.l2_bytes > (4u << 20) ? R->gpu.l2_bytes : (4u << 20));
    if (e == cudaSuccess) e = cudaMalloc(&R->flush, R->flush_bytes);
    if (e != cudaSuccess) {
        res->verdict = GR_CRASH;
        snprintf(res->message, sizeof res->message, "setting up the GPU: %s", cudaGetErrorString(e));
        return false;
    }
    return true;
}

/* The child: its stdout and stderr go to `out` (a pipe the parent reads and caps); the grader's own
 * lines to a copy of the terminal; the result to `fd`. */
static void child_main(runner *R, const gr_exercise *ex, int fd, int out) {
    gr_result res;
    memset(&res, 0, sizeof res);
    int term = dup(1);
    grader_out = term >= 0 ? fdopen(term, "w") : NULL;
    if (grader_out) setvbuf(grader_out, NULL, _IOLBF, 0);
    dup2(out, 1);
    dup2(out, 2);
    close(out);
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Grading: nothing of the parent's but the result pipe and the terminal (the records among them). */
    if (grading_mode) gr_close_fds_except(fd, term);
    progress_set(PHASE_SETUP, "", false);
    bool ready = ex->on_host || open_runner(R, &res);
    if (ready && grading_mode) {
        char why[200];
        if (!gr_confine_child(why, sizeof why)) say("   check: warning: %s\n", why);
    }
    if (ready) run_exercise(R, ex, &res);
    fflush(stdout);
    fflush(stderr);
    if (grader_out) fflush(grader_out);
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
static const gr_gpu *parent_gpu;
static void accept_result(gr_result *r, bool on_host) {
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
static void run_in_child(runner *R, const gr_exercise *ex, gr_result *res) {
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
        if (progress && got < sizeof *res && !R->opt->small && progress->phase == PHASE_CHECKING && progress->small &&
            now - progress->started > SMALL_SIZE_LIMIT_S) { timed_out = small_timed_out = true; break; }
        if (got == sizeof *res && now - result_at > 2) break;
        int r = poll(p, 2, 250);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        if (p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
            char buf[4096];
            ssize_t n = read(p[1].fd, buf, sizeof buf);
            if (n > 0) cap_output(&cap, buf, (size_t)n, progress && progress->phase == PHASE_TIMING);
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
        snprintf(where, sizeof where, " at size %s%s", progress->shape, progress->phase == PHASE_TIMING ? ", while timing" : "");
    if (timed_out) kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (progress) { munmap(progress, sizeof *progress); progress = NULL; }
    /* Whatever the child left running (a process it forked, even one that called setsid) is ours
     * now, as the subreaper: it is gone before the next exercise. */
    int stray = gr_reap_descendants();
    if (stray > 0) say("   (stopped %d process(es) the exercise left behind)\n", stray);
    if (got == sizeof *res && !extra) {
        accept_result(res, ex->on_host);
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
static bool probe_gpu(runner *R, gr_gpu *gpu, gr_result *why) {
    int fds[2];
    if (pipe(fds) != 0) return false;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        gr_gpu g;
        gr_result r;
        memset(&r, 0, sizeof r);
        bool ok = gr_gpu_open(&g, R->opt, &r);
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

/* ---- entry point ------------------------------------------------------------------------- */

static void usage(const char *prog) {
    fprintf(stderr, "usage: %s [--seed N] [--results FILE | --results-fd N] [--only EXERCISE] [--roofs DIR] [--small] "
            "[--bench] [--leaderboard] [--solution] [--time-limit S] [--cpu-only] [--not-built NAME[=LOG]] [--list]\n", prog);
}

static bool parse_options(int argc, char **argv, gr_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->time_limit_s = 120;
    opt->results_fd = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--seed") && v) { char *end; opt->seed = strtoull(v, &end, 0); opt->seed_given = true; i++;
            if (*end) { fprintf(stderr, "check: --seed takes a number, got '%s'\n", v); return false; } }
        else if (!strcmp(a, "--results") && v) { opt->results_path = v; i++; }
        else if (!strcmp(a, "--results-fd") && v) { char *end; long fd = strtol(v, &end, 10); i++;
            if (*end || fd < 3 || fd > 1000 || fcntl((int)fd, F_GETFD) < 0) {
                fprintf(stderr, "check: --results-fd takes an open descriptor above 2, got '%s'\n", v); return false; }
            opt->results_fd = (int)fd; }
        else if (!strcmp(a, "--only") && v) { opt->only = v; i++; }
        else if (!strcmp(a, "--roofs") && v) { opt->roofs_dir = v; i++; }
        else if (!strcmp(a, "--time-limit") && v) { opt->time_limit_s = atoi(v); i++;
            if (opt->time_limit_s < 1 || opt->time_limit_s > 3600) { fprintf(stderr, "check: --time-limit must be 1..3600 seconds\n"); return false; } }
        else if (!strcmp(a, "--not-built") && v) { i++;
            if (opt->n_not_built == GR_MAX_NOT_BUILT) { fprintf(stderr, "check: too many --not-built\n"); return false; }
            opt->not_built[opt->n_not_built++] = v; }
        else if (!strcmp(a, "--cpu-only")) opt->cpu_only = true;
        else if (!strcmp(a, "--small")) opt->small = true;
        else if (!strcmp(a, "--bench")) opt->bench = true;
        else if (!strcmp(a, "--leaderboard")) opt->leaderboard = true;
        else if (!strcmp(a, "--solution")) opt->solution = true;
        else if (!strcmp(a, "--list")) opt->list = true;
        else { usage(argv[0]); return false; }
    }
    /* SEED from the environment is a student's replay; grading takes its seed from the kernel alone
     * (an environment is something code under test could have set). */
    const char *env_seed = getenv("SEED");
    if (!opt->seed_given && !opt->leaderboard && env_seed && *env_seed) {
        char *end;
        opt->seed = strtoull(env_seed, &end, 0);
        if (*end) { fprintf(stderr, "check: SEED takes a number, got '%s'\n", env_seed); return false; }
        opt->seed_given = true;
    }
    if (!opt->seed_given) opt->seed = opt->leaderboard ? gr_secret_seed() & 0xFFFFFFFFFFull : gr_fresh_seed();
    if (opt->results_path && opt->results_fd >= 0) { fprintf(stderr, "check: --results and --results-fd exclude each other\n"); return false; }
    return true;
}

/* An exercise whose file did not build: COMPILE_ERROR with the compiler's first error lines, or
 * the file is missing (no log) and the message says how to get it back. */
static bool not_built(const gr_options *opt, const char *session, const char *name, gr_result *res) {
    size_t stem = strcspn(name, "+");
    for (int i = 0; i < opt->n_not_built; i++) {
        const char *entry = opt->not_built[i], *eq = strchr(entry, '=');
        size_t len = eq ? (size_t)(eq - entry) : strlen(entry);
        if (len != stem || strncmp(entry, name, len)) continue;
        memset(res, 0, sizeof *res);
        res->verdict = GR_COMPILE_ERROR;
        if (!eq) {
            snprintf(res->message, sizeof res->message, "%s/%.*s.cu is missing: get the skeleton back with 'git "
                     "checkout -- %s/%.*s.cu', or from the bundle you were given", session, (int)len, name, session,
                     (int)len, name);
        } else {
            char lines[600] = "", line[300];
            FILE *log = fopen(eq + 1, "r");
            int kept = 0;
            while (log && kept < 3 && fgets(line, sizeof line, log))
                if (strstr(line, "error")) { line[strcspn(line, "\n")] = 0; snprintf(lines + strlen(lines), sizeof lines - strlen(lines), "%s%s", kept++ ? " | " : "", line); }
            if (log) fclose(log);
            snprintf(res->message, sizeof res->message, "%s/%.*s.cu does not compile: %s (the whole output: %s)", session,
                     (int)len, name, kept ? lines : "see the compiler's output", eq + 1);
        }
        return true;
    }
    return false;
}

/* --only NAME picks the exercise NAME and its timing variants "NAME+variant" (same file, another
 * shape: 02_flash_mma+causal). */
static bool gr_exercise_selected(const char *only, const char *name) {
    size_t n = strlen(only);
    return !strncmp(only, name, n) && (name[n] == 0 || name[n] == '+');
}

int gr_run_session(int argc, char **argv, const char *session, const gr_exercise *exercises, int n) {
    gr_options opt;
    if (!parse_options(argc, argv, &opt)) return 64;
    if (opt.list) {  /* for scripts: one exercise a line, and where it runs */
        for (int i = 0; i < n; i++)
            printf("%s %s%s\n", exercises[i].name, exercises[i].on_host ? "cpu" : "gpu", exercises[i].given ? " given" : "");
        return 0;
    }
    runner R;
    memset(&R, 0, sizeof R);
    R.opt = &opt;
    grading_mode = opt.leaderboard;
    gr_confine_parent(grading_mode);

    bool needs_gpu = false, found = false, any = false;
    for (int i = 0; i < n; i++) {
        if (opt.only && !gr_exercise_selected(opt.only, exercises[i].name)) continue;
        found = true;
        gr_result unused;
        bool broken = not_built(&opt, session, exercises[i].name, &unused);
        if (opt.cpu_only && !exercises[i].on_host && !broken) continue;
        any = true;
        needs_gpu |= !exercises[i].on_host && !broken;
    }
    if (!found) { fprintf(stderr, "check: no exercise named '%s' in %s\n", opt.only, session); return 64; }
    if (!any) return 0;   /* --cpu-only and nothing runs on the CPU here: nothing to say */

    gr_gpu gpu;
    gr_result no_gpu;
    bool have_gpu = needs_gpu && probe_gpu(&R, &gpu, &no_gpu);
    gr_report_header(session, have_gpu ? &gpu : NULL, &opt);
    parent_gpu = have_gpu ? &gpu : NULL;

    gr_result *res = calloc((size_t)n, sizeof *res);
    gr_exercise *ran = calloc((size_t)n, sizeof *ran);
    int n_ran = 0, n_pass = 0;
    bool env_problem = false;
    for (int i = 0; i < n; i++) {
        if (opt.only && !gr_exercise_selected(opt.only, exercises[i].name)) continue;
        if (not_built(&opt, session, exercises[i].name, &res[n_ran])) {
            say("-- %s: %s\n   %s  %s\n", exercises[i].name, exercises[i].what, gr_verdict_name(res[n_ran].verdict), res[n_ran].message);
        } else if (opt.cpu_only && !exercises[i].on_host) {
            continue;
        } else if (!exercises[i].on_host && !have_gpu) {
            res[n_ran] = no_gpu;
            env_problem = true;
        } else {
            run_in_child(&R, &exercises[i], &res[n_ran]);
        }
        res[n_ran].given = exercises[i].given;
        if (res[n_ran].verdict == GR_PASS) n_pass++;
        ran[n_ran++] = exercises[i];
    }
    gr_report_table(session, ran, res, n_ran);
    if (env_problem) printf("\n%s\n", no_gpu.message);
    printf("\n   %s: %d of %d exercises pass\n", session, n_pass, n_ran);

    /* The records are written here, by the process that ran no student code, after every child
     * (and anything a child left behind) is gone. */
    if (opt.results_path || opt.results_fd >= 0) {
        FILE *f = opt.results_fd >= 0 ? fdopen(opt.results_fd, "a") : fopen(opt.results_path, "a");
        if (!f) { fprintf(stderr, "check: cannot append to %s: %s\n", opt.results_path ? opt.results_path : "the results descriptor", strerror(errno)); return 74; }
        for (int i = 0; i < n_ran; i++) gr_report_json(f, session, ran[i].name, &opt, &res[i]);
        if (fclose(f) != 0) { fprintf(stderr, "check: writing the results failed\n"); return 74; }
    }
    /* 0: all pass; 1: something failed; 2: only the machine was wrong (no GPU, other architecture). */
    bool real_failure = false;
    for (int i = 0; i < n_ran; i++)
        real_failure |= res[i].verdict != GR_PASS && res[i].verdict != GR_NO_GPU && res[i].verdict != GR_WRONG_ARCH;
    free(res);
    free(ran);
    return real_failure ? 1 : env_problem ? 2 : 0;
}

int gr_main(int argc, char **argv, const char *session, const gr_exercise *exercises, int n) {
    int status = gr_run_session(argc, argv, session, exercises, n);
    /* _exit, not return: no destructor or atexit handler runs in this process after the records
     * are written, whatever object registered it. */
    fflush(stdout);
    fflush(stderr);
    _exit(status);
}
