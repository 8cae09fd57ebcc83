/* Declarations shared by the grader's own files; check drivers include grader.h only. */
#ifndef GRADER_INTERNAL_H
#define GRADER_INTERNAL_H

#include <stdio.h>

#include "compare.h"
#include "grader.h"
#include "roofs.h"

/* Bytes of guard band before and after every buffer. A multiple of 256 keeps the pointer the
 * launcher sees aligned as cudaMalloc's are. */
#define GR_GUARD_BYTES (256 * 1024)

/* Verdicts, worst last among the failing ones. */
typedef enum {
    GR_PASS,
    GR_FAIL,        /* wrong, unwritten or out-of-bounds results */
    GR_CRASH,       /* launch error, device fault, or the process died */
    GR_TIMEOUT,     /* ran past the time limit */
    GR_IMPOSSIBLE,  /* faster than the roof allows: the measurement or the work is not honest */
    GR_NO_GPU,      /* needs a CUDA GPU and there is none */
    GR_WRONG_ARCH,  /* built for another architecture than the GPU's */
} gr_verdict;

const char *gr_verdict_name(gr_verdict v);

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

/* How the run was asked for. */
typedef struct {
    uint64_t seed;
    bool seed_given;
    const char *results_path;   /* JSON lines appended here, or NULL */
    const char *only;           /* run just this exercise */
    const char *roofs_dir;      /* where measured roofs are cached */
    bool small;                 /* check shapes only, no timing (for compute-sanitizer) */
    bool bench;                 /* more repetitions */
    bool leaderboard;           /* class grading: fresh inputs, poisoned outputs and a full check
                                 * around every timed repetition */
    bool solution;              /* built from solutions/ (recorded in the results) */
    bool list;                  /* print the exercises and exit */
    int time_limit_s;           /* per exercise */
} gr_options;

/* gpu.c */
bool gr_gpu_open(gr_gpu *gpu, const gr_options *opt, gr_result *res);

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
/* One timed launch (device-wide synchronisation and an L2 flush before it); `pass` varies the flush bytes. */
bool gr_time_one_launch(gr_case *c, gr_launch_fn fn, cudaStream_t stream, void *flush, size_t flush_bytes,
                        int pass, float *ms, char *err, size_t err_len);
bool gr_time_device(gr_case *c, gr_launch_fn fn, cudaStream_t stream, void *flush, size_t flush_bytes,
                    int max_reps, double budget_s, double *times_ms, int *reps, char *err, size_t err_len);
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

#endif
