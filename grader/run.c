/* One exercise, in the process that runs it: checked against the reference at every size, then
 * timed at the large one. The process around it (a child of the check, one per exercise) is made
 * in child.c; the command line and the records are session.c's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hints.h"
#include "internal.h"
#include "rng.h"

#define SAMPLED_ROWS 64
/* Leaderboard mode checks every timed repetition, each on fresh inputs and with rows drawn afresh
 * after the launch: fewer rows each time (a GEMM at 8192^3 costs the CPU 4 to 11 ms a row when its
 * sampled rows are computed together, 25 to 70 ms a row alone) still
 * catch a launcher that skips or fakes part of the work, and ten repetitions together see more
 * rows than one check does. */
#define LEADERBOARD_SAMPLED_ROWS 8
#define DEFAULT_REFERENCE_LIMIT 2e9

/* ---- one launch, verified ---------------------------------------------------------------- */

static double reference_work(const gr_exercise *ex, const gr_shape *s) {
    double f = ex->flops ? ex->flops(s) : 0;
    return f > 0 ? f : (ex->bytes ? ex->bytes(s) / 4 : 0);
}

/* Which reference rows to compute: all, or a sample of n_sample rows (and the first and last) when
 * the CPU would take too long. The sample comes from the case's check seed, drawn after the launch. */
static unsigned char *choose_rows(gr_case *c, int n_sample, bool *sampled) {
    double limit = c->ex->full_reference_limit > 0 ? c->ex->full_reference_limit : DEFAULT_REFERENCE_LIMIT;
    *sampled = reference_work(c->ex, &c->shape) > limit && c->rows > SAMPLED_ROWS + 2;
    if (!*sampled) return NULL;
    unsigned char *mask = calloc((size_t)c->rows, 1);
    if (!mask) { fprintf(stderr, "grader: out of host memory\n"); exit(70); }
    uint64_t s = gr_derive_seed(c->check_seed, 0x5A3B, 0);
    mask[0] = mask[c->rows - 1] = 1;
    for (int i = 0; i < n_sample; i++) mask[gr_rng_next(&s) % (uint64_t)c->rows] = 1;
    return mask;
}

/* The sampled rows' reference: all the rows in one call where the exercise's reference has a form
 * that shares its work across rows (a GEMM's rows read B once together, gemm.h; the FP8 grouped
 * GEMM's rows of a group decode its weights once, finale_fp8.h), else row by row. */
static void sampled_reference(gr_case *c, const unsigned char *mask) {
    gr_reference_rows_fn together = c->ex->reference_rows;
    if (!together) {
        for (long r = 0; r < c->rows; r++) if (mask[r]) c->ex->reference(c, r, r + 1);
        return;
    }
    long n = 0, *rows = malloc(sizeof(long) * (size_t)c->rows);
    if (!rows) { fprintf(stderr, "grader: out of host memory\n"); exit(70); }
    for (long r = 0; r < c->rows; r++) if (mask[r]) rows[n++] = r;
    together(c, rows, n);
    free(rows);
}

/* In grading mode the verification's randomness is fresh from the kernel after every launch;
 * otherwise it follows the run's seed, so that `SEED=` replays a failure exactly. */
static void draw_check_seed(gr_case *c) {
    c->check_seed = gr_grading_mode ? gr_secret_seed() : gr_derive_seed(c->seed, 0xC4EC, (uint64_t)c->generation);
}

/* A hint recognised from the failure itself (the wrong output's pattern, or where a stray write
 * landed), set by launch_and_verify; fail_with prints it instead of the exercise's fixed hint. */
static char pattern_hint[512];

/* Launch once (when `launch`: on poisoned outputs) and check everything. Returns the verdict; fills
 * msg and the worst error. A device fault leaves the CUDA context unusable: the caller must stop. */
static gr_verdict launch_and_verify(gr_runner *R, gr_case *c, bool launch, int n_sample, bool *sampled,
                                    double *err_out, char *msg, size_t msg_len) {
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
    if (!c->on_host && c->ex->collect) c->ex->collect(c);  /* results made on other GPUs, home first */
    if (!gr_case_read_back(c, err, sizeof err)) { snprintf(msg, msg_len, "%s", err); return GR_CRASH; }
    if (!gr_case_check_guards(c, msg, msg_len)) {
        gr_guard_hint(msg, pattern_hint, sizeof pattern_hint);
        return GR_FAIL;
    }

    /* Only now, with the code under test done, is the verification's randomness drawn. */
    draw_check_seed(c);
    bool sample;
    unsigned char *mask = choose_rows(c, n_sample, &sample);
    if (sampled) *sampled = sample;
    if (mask || c->ref_generation != c->generation) {  /* a full reference of these inputs is kept */
        if (!mask) c->ex->reference(c, 0, c->rows);
        else sampled_reference(c, mask);
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
static bool time_leaderboard(gr_runner *R, gr_case *c, gr_result *res, const char *shape) {
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
        gr_verdict v = launch_and_verify(R, c, false, LEADERBOARD_SAMPLED_ROWS, NULL, &e, msg, sizeof msg);
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
static void time_case(gr_runner *R, gr_case *c, gr_result *res, const char *shape) {
    const gr_exercise *ex = c->ex;
    char msg[768];
    double err;
    res->flops = ex->flops ? ex->flops(&c->shape) : 0;
    res->bytes = ex->bytes ? ex->bytes(&c->shape) : 0;
    res->compute = ex->compute;
    snprintf(res->bench_shape, sizeof res->bench_shape, "%s", shape);
    gr_progress_set(GR_PHASE_TIMING, shape, false);

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

    gr_progress_set(GR_PHASE_CHECKING, shape, false);
    /* The last timed launch's results, without poisoning again (not for in-out buffers: each timed
     * launch updated them in place). */
    bool has_inout = false;
    for (int i = 0; i < c->n_buffers; i++) has_inout |= c->buf[i].is_inout;
    gr_verdict v = has_inout ? GR_PASS : launch_and_verify(R, c, false, SAMPLED_ROWS, NULL, &err, msg, sizeof msg);
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
    v = launch_and_verify(R, c, true, SAMPLED_ROWS, NULL, &err, msg, sizeof msg);
    note_error(res, err, ex->tolerance(&c->shape));
    if (v != GR_PASS) {
        char m[800];
        snprintf(m, sizeof m, "new inputs after timing gave wrong results (cached or stale output?): %s", msg);
        fail_with(res, v, shape, m, ex->hint);
        return;
    }

    if (!c->on_host) {
        if (ex->library && (!ex->library_available || ex->library_available(&c->shape))) {
            double *times = malloc(sizeof(double) * 100);
            int n = 0;
            gr_timing worst;
            if (gr_time_device(c, ex->library, R->stream, R->flush, R->flush_bytes, 100, 0.5, times, &n, &worst, msg, sizeof msg)) {
                res->library_ms = gr_median(times, n);
                const char *label = ex->library_label ? ex->library_label(&c->shape) : NULL;
                if (!label) label = ex->library_name ? ex->library_name : "library";
                snprintf(res->library_name, sizeof res->library_name, "%s", label);
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

void gr_run_exercise(gr_runner *R, const gr_exercise *ex, gr_result *res) {
    if (!ex->open) say("-- %s: %s\n", ex->name, ex->what);  /* (one with open() said it before loading) */
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
        gr_progress_set(GR_PHASE_CHECKING, sh, reference_work(ex, &shape) < GR_SMALL_SIZE_WORK);
        gr_verdict v = launch_and_verify(R, &c, true, SAMPLED_ROWS, &sampled, &e, msg, sizeof msg);
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

bool gr_warm_up(gr_runner *R, const gr_exercise *ex, gr_result *res) {
    double t0 = gr_wall_seconds();
    int n_shapes = 0;
    while (n_shapes < GR_MAX_SHAPES && ex->check_shapes[n_shapes].rank > 0) n_shapes++;
    bool with_bench = !R->opt->small && ex->bench_shape.rank > 0;
    for (int si = 0; si < n_shapes + (with_bench ? 1 : 0); si++) {
        gr_shape shape = si == n_shapes ? ex->bench_shape : ex->check_shapes[si];
        char sh[64], err[512];
        gr_shape_format(&shape, sh, sizeof sh);
        gr_progress_set(GR_PHASE_SETUP, sh, false);
        gr_case c;
        gr_case_init(&c, ex, shape, gr_derive_seed(R->opt->seed, name_hash("warm-up"), name_hash(sh)));
        ex->declare(&c);
        bool ok = gr_case_alloc(&c, err, sizeof err) && gr_case_poison_outputs(&c, err, sizeof err);
        if (ok) {
            ex->launch(&c, R->stream);
            cudaError_t e = cudaStreamSynchronize(R->stream);
            if (e == cudaSuccess) e = cudaGetLastError();
            if (e != cudaSuccess) {
                snprintf(err, sizeof err, "the warm-up launch failed: %s", cudaGetErrorString(e));
                ok = false;
            }
        }
        gr_case_free(&c);
        if (!ok) {
            fail_with(res, GR_CRASH, sh, err, NULL);
            return false;
        }
    }
    /* A just-in-time compiler's time is what its first launches took: worth a line of its own. */
    say("   warm-up: one launch at each of %d sizes, %.1f s (a just-in-time compiler builds its kernels here)\n",
        n_shapes + (with_bench ? 1 : 0), gr_wall_seconds() - t0);
    return true;
}

/* ---- the GPU, once per process ------------------------------------------------------------ */

bool gr_open_runner(gr_runner *R, gr_result *res) {
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

