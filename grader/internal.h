/* Declarations shared by the grader's own files; check drivers include grader.h only. */
#ifndef GRADER_INTERNAL_H
#define GRADER_INTERNAL_H

#include <stdio.h>

#include "compare.h"
#include "grader.h"
#include "record.h"
#include "roofs.h"

/* The target the checker was built for (the Makefile passes ARCH). */
#ifndef GR_BUILD_ARCH
#define GR_BUILD_ARCH "sm_80"
#endif

/* Bytes of guard band before and after every buffer. A multiple of 256 keeps the pointer the
 * launcher sees aligned as cudaMalloc's are. */
#define GR_GUARD_BYTES (256 * 1024)

/* The GPU this process runs on. */
typedef struct {
    char name[96];
    int cc_major, cc_minor, sm_count;
    size_t l2_bytes;
    gr_roof roof;               /* datasheet, or derived from attributes */
    gr_measured measured;       /* zero where `make roofs` has not run */
    bool have_measured;
} gr_gpu;

/* Everything one exercise's run reports back to the parent process (fixed size: sent through a pipe). */
typedef struct {
    gr_verdict verdict;
    bool given;                     /* the session's own code, not the student's */
    char message[768];
    int shapes_checked, shapes_passed;
    double worst_rel_err, tol_at_worst;
    char gpu[96];
    int cc_major, cc_minor;
    bool timed;
    char bench_shape[64];
    double median_ms, min_ms, max_ms;
    int reps;
    double flops, bytes;
    char library_name[48];
    double library_ms;
    gr_compute compute;
    double roof_tflops, roof_gbs;   /* datasheet (or derived) figures used */
    bool roof_derived;
    double pct_peak;                /* -1: no figure */
    double pct_measured;            /* -1: roofs not measured */
    double pct_library;             /* -1: no library timing */
    char bound[8];                  /* "HBM", "FP32", ...: which term of the roofline dominates */
} gr_result;

#define GR_MAX_NOT_BUILT 32

/* How the run was asked for. */
typedef struct {
    uint64_t seed;
    bool seed_given;
    const char *results_path;   /* JSON lines appended here, or NULL */
    const char *only;           /* run just this exercise (and its timing variants) */
    bool only_exact;            /* --exact: --only without the variants (make profile) */
    const char *roofs_dir;      /* where measured roofs are cached */
    bool small;                 /* check shapes only, no timing (for compute-sanitizer) */
    bool bench;                 /* more repetitions */
    bool leaderboard;           /* class grading: fresh inputs, poisoned outputs and a full check
                                 * around every timed repetition */
    bool solution;              /* built from solutions/ (recorded in the results) */
    bool list;                  /* print the exercises and exit */
    int results_fd;             /* records written to this open descriptor instead (-1: none):
                                 * the class grader hands one the student's code cannot reopen */
    int time_limit_s;           /* per exercise */
    bool cpu_only;              /* no GPU here: grade the CPU exercises, leave the others out */
    /* Exercises whose file did not compile (NAME=LOG, the compiler's output) or is missing (NAME):
     * reported, never run (their launchers are not linked in). */
    const char *not_built[GR_MAX_NOT_BUILT];
    int n_not_built;
} gr_options;

/* run.c: one exercise, checked and timed, in the process that runs it. */
typedef struct {
    const gr_options *opt;
    gr_gpu gpu;
    cudaStream_t stream;
    void *flush;
    size_t flush_bytes;
} gr_runner;
bool gr_open_runner(gr_runner *R, gr_result *res);
void gr_run_exercise(gr_runner *R, const gr_exercise *ex, gr_result *res);
/* One launch at every shape, results unchecked (gr_exercise.warm_up). False: res says why. */
bool gr_warm_up(gr_runner *R, const gr_exercise *ex, gr_result *res);
/* A size whose reference is under this much work is small: any kernel, any CPU loop, finishes it in
 * well under a second, so a hang there is stopped early (child.c). */
#define GR_SMALL_SIZE_WORK 1e6

/* child.c: a child per exercise, its output capped, its result checked by the parent. */
extern bool gr_grading_mode;   /* --leaderboard: confined children, secret check seeds */
/* Where the grader's own lines go. In an exercise's child, stdout and stderr carry what the code
 * under test prints (to the parent, which caps it); the grader writes around them, here. */
extern FILE *gr_grader_out;
#define say(...) fprintf(gr_grader_out ? gr_grader_out : stdout, __VA_ARGS__)
typedef enum { GR_PHASE_SETUP, GR_PHASE_CHECKING, GR_PHASE_TIMING } gr_phase;
void gr_progress_set(gr_phase phase, const char *shape, bool small);
void gr_run_in_child(gr_runner *R, const gr_exercise *ex, const gr_gpu *parent_gpu, gr_result *res);
bool gr_probe_gpu(const gr_options *opt, gr_gpu *gpu, gr_result *why);

/* confine.c: the boundary between the check's parent and the child that runs student code. */
void gr_confine_parent(bool grading);
bool gr_confine_child(char *why, size_t why_len);
void gr_close_fds_except(int keep, int keep2);
int gr_reap_descendants(void);

/* gpu.c */
bool gr_gpu_open(gr_gpu *gpu, const gr_options *opt, gr_result *res);

/* devmem.c: device memory mapped with unmapped addresses on either side (see there). */
typedef struct gr_devmem {
    void *ptr;                 /* the first mapped byte */
    size_t mapped;             /* bytes mapped: a multiple of the granularity */
    bool vmm;                  /* mapped by hand (else cudaMalloc, where the driver lacks the calls) */
    unsigned long long reserved, reserved_bytes, handle;
} gr_devmem;
size_t gr_devmem_mapped_bytes(size_t bytes);
bool gr_devmem_alloc(gr_devmem *m, size_t bytes, char *err, size_t err_len);
void gr_devmem_free(gr_devmem *m);

/* case.c: buffers of one exercise at one shape. */
void gr_case_init(gr_case *c, const gr_exercise *ex, gr_shape shape, uint64_t seed);
bool gr_case_alloc(gr_case *c, char *err, size_t err_len);
void gr_case_fill_inputs(gr_case *c);
bool gr_case_upload_inputs(gr_case *c, char *err, size_t err_len);
bool gr_case_poison_outputs(gr_case *c, char *err, size_t err_len);
bool gr_case_read_back(gr_case *c, char *err, size_t err_len);
bool gr_case_check_guards(gr_case *c, char *msg, size_t msg_len);
void gr_case_free(gr_case *c);
void gr_shape_format(const gr_shape *s, char *buf, size_t len);

/* timing.c */
typedef void (*gr_launch_fn)(gr_case *c, cudaStream_t stream);
typedef struct {
    float ms;             /* the launch, to the end of the last work it enqueued on any stream */
    float off_stream_ms;  /* how far work off the given stream ran past the given stream's end */
} gr_timing;
/* Work off the given stream that outlasts it by more than this is a verdict (DISQUALIFIED): a host
 * enqueueing the second stop event late accounts for a few microseconds, never for this much. */
#define GR_OFF_STREAM_SLACK_MS 0.05
#define GR_OFF_STREAM_SLACK_FRACTION 0.05
bool gr_off_stream(const gr_timing *t);
/* One timed launch (device-wide synchronisation and an L2 flush before it); `pass` varies the flush bytes. */
bool gr_time_one_launch(gr_case *c, gr_launch_fn fn, cudaStream_t stream, void *flush, size_t flush_bytes,
                        int pass, gr_timing *t, char *err, size_t err_len);
/* Many timed launches; *worst is the one whose off-stream work ran longest. */
bool gr_time_device(gr_case *c, gr_launch_fn fn, cudaStream_t stream, void *flush, size_t flush_bytes,
                    int max_reps, double budget_s, double *times_ms, int *reps, gr_timing *worst,
                    char *err, size_t err_len);
bool gr_time_copy(size_t bytes, cudaStream_t stream, void *flush, size_t flush_bytes, double *median_ms,
                  char *err, size_t err_len);
double gr_time_host(gr_case *c, int reps, double *min_ms, double *max_ms);
double gr_median(double *v, int n);

/* report.c */
void gr_report_header(const char *session, const gr_gpu *gpu, const gr_options *opt);
void gr_report_table(const char *session, const gr_exercise *ex, const gr_result *res, int n);
bool gr_report_json(FILE *f, const char *session, const char *exercise, const gr_options *opt,
                    const gr_result *r);
void gr_fill_speed(gr_result *r, const gr_gpu *gpu);

/* library.cu: vendor-library helpers shared by check drivers live in library.h. */

/* session.c: whether --only ONLY (with --exact or not) picks the exercise NAME. */
bool gr_exercise_selected(const char *only, bool exact, const char *name);

#endif
