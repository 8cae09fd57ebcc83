/* The grader: what a session's check driver sees.
 *
 * A check driver describes each exercise of its session as data (a gr_exercise): its shapes, the
 * buffers it reads and writes, how to launch the student's launcher, the CPU reference, the
 * tolerance, the FLOP and byte counts and which roof judges it. gr_main() does the rest: fresh
 * random inputs, NaN-poisoned outputs inside guard bands, the comparison, the timing, the report.
 *
 * Host code is C11; the CUDA runtime is used through its C API.
 */
#ifndef GRADER_H
#define GRADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cuda_runtime.h>

#include "record.h"
#include "roofs.h"

#define GR_MAX_DIMS 6
#define GR_MAX_BUFFERS 12
#define GR_MAX_SHAPES 12
#define GR_MAX_PARAMS 8

/* A problem size: up to six named-by-position extents (vector: n; matrix: rows, cols; GEMM: M,N,K). */
typedef struct {
    int rank;
    long d[GR_MAX_DIMS];
} gr_shape;

#define GR_SHAPE(...) ((gr_shape){ .rank = (int)(sizeof((long[]){__VA_ARGS__}) / sizeof(long)), .d = {__VA_ARGS__} })

/* GR_F16 is IEEE binary16 (FP16), held as uint16_t bits, as GR_BF16 holds bfloat16. */
typedef enum { GR_F32, GR_F64, GR_BF16, GR_U8, GR_I32, GR_F16 } gr_dtype;

/* How an input is filled. Never zeros: they hide unwritten outputs and wrong indexing. */
typedef enum {
    GR_FILL_SIGNED,   /* uniform in [-1, 1) */
    GR_FILL_UNIT,     /* uniform in [0, 1)   */
    GR_FILL_BYTES,    /* uniform bytes 0..255 (GR_U8) */
} gr_fill;

typedef struct {
    const char *name;
    gr_dtype dtype;
    size_t count;          /* elements, without the guard bands */
    bool is_output;
    bool is_scratch;       /* working memory for the launcher: poisoned and guarded, never compared */
    bool is_inout;         /* read and written (C in C = alpha*A*B + beta*C): reset to `init`, not poisoned */
    void *init;            /* in-out buffers: the values it holds before every launch */
    float *scale;          /* outputs: magnitudes behind each reference element, when the reference gives them */
    long row_len;          /* outputs: elements per reference row (see gr_case.rows) */
    gr_fill fill;
    void *host;            /* inputs: the values; outputs: the values read back after a run */
    void *ref;             /* outputs: the CPU reference, rows that were computed */
    unsigned char *dev_base; /* device allocation, guard bands included (NULL for host exercises) */
    unsigned char *host_base; /* host exercises: host allocation with guard bands */
    size_t region_bytes;   /* front guard, data, back guard up to the end of the mapped memory */
    struct gr_devmem *mem; /* how the device region was mapped (grader-internal) */
    void *dev;             /* what the launcher receives: the first element after the front guard */
} gr_buffer;

/* One exercise at one shape: the buffers and the parameters drawn for this run. */
typedef struct gr_case {
    const struct gr_exercise *ex;
    gr_shape shape;
    uint64_t seed;
    uint64_t rng;          /* state of this case's random stream */
    uint64_t check_seed;   /* randomness of the verification (sampled rows, Freivalds' vectors):
                            * drawn after the launch, so the code under test cannot know it */
    int n_buffers;
    gr_buffer buf[GR_MAX_BUFFERS];
    long rows;             /* reference rows: the unit in which the CPU reference can be computed */
    double param[GR_MAX_PARAMS]; /* scalars drawn for this case (alpha, ...) */
    bool on_host;          /* the exercise runs on the CPU: pointers are host pointers */
    int generation;        /* bumped each time the inputs are refilled */
    int ref_generation;    /* the inputs' generation a full reference was computed from (-1: none) */
    float *as_f32[GR_MAX_BUFFERS];   /* float32 copies of low-precision inputs, made on demand */
    int as_f32_generation[GR_MAX_BUFFERS];
} gr_case;

/* What the grader needs to know of one exercise. */
/* A reference for a list of rows at once (any order), giving them the values reference() gives. */
typedef void (*gr_reference_rows_fn)(gr_case *c, const long *rows, long n_rows);

typedef struct gr_exercise {
    const char *name;            /* "02_vector_add": the file stem; "02_flash_mma+causal": the same file
                                  * timed on another shape (a variant; --only 02_flash_mma runs both) */
    const char *what;            /* one line: what it computes */
    const char *hint;            /* one line printed on failure */
    bool on_host;                /* a CPU exercise (timed with the host clock, no GPU roof) */
    bool given;                  /* not the student's: code the session gives (a baseline to beat,
                                  * a slow kernel to profile); graded and timed the same way */
    gr_compute compute;          /* which arithmetic roof applies besides memory bandwidth */
    gr_shape check_shapes[GR_MAX_SHAPES]; /* checked against the reference, small and odd sizes */
    gr_shape bench_shape;        /* the large size: checked (sampled if large) and timed */
    /* Declare buffers (gr_input / gr_output), draw parameters, set c->rows. */
    void (*declare)(gr_case *c);
    /* Call the student's launcher; device pointers come from gr_ptr(). */
    void (*launch)(gr_case *c, cudaStream_t stream);
    /* Fill the reference rows [row_begin, row_end) of every output from the inputs. */
    void (*reference)(gr_case *c, long row_begin, long row_end);
    /* Optional: reference() for a list of rows at once; the grader computes sampled rows with it, so
     * that they share work (a GEMM's pass over B, a group's decoded weights). gemm.h and
     * finale_fp8.h name each reference with its rows form (GR_MATMUL_REF, ...). */
    gr_reference_rows_fn reference_rows;
    /* Relative error allowed, ||out-ref|| / ||ref||, from the arithmetic the exercise does. */
    double (*tolerance)(const gr_shape *s);
    /* Minimum FLOP and bytes of device memory traffic for the shape, by formula. */
    double (*flops)(const gr_shape *s);
    double (*bytes)(const gr_shape *s);
    /* The vendor library on the same case (NULL: for memory-bound exercises a device-to-device copy
     * of the same bytes; for others no yardstick). */
    void (*library)(gr_case *c, cudaStream_t stream);
    const char *library_name;
    /* Optional: the library's name at this shape, when library() picks among routines as it runs
     * (cuBLAS or cuBLASLt, whichever is faster). Asked after the library was timed; where it is
     * NULL or answers NULL, library_name is used. */
    const char *(*library_label)(const gr_shape *s);
    /* Optional: whether library() can run this shape on this GPU (FP8 needs sm_89 and a cuBLASLt
     * algorithm for it); NULL: always. When it says no, the report has no library column. */
    bool (*library_available)(const gr_shape *s);
    /* An extra check for sizes where only sampled rows get a reference (e.g. Freivalds). Returns
     * the relative error it measured; NULL when none applies. */
    double (*extra_check)(gr_case *c);
    /* Optional: reshape the random inputs after every fill (e.g. an offset per row), for inputs
     * that need a structure uniform noise lacks. Draw any randomness from the case. */
    void (*adjust_inputs)(gr_case *c);
    /* Largest reference work (FLOP or elements) done in full; above it rows are sampled. */
    double full_reference_limit;
    /* Optional: one line about the bench shape, printed under its result (what an intermediate such
     * as attention's score matrix costs in memory at that size). */
    void (*bench_note)(const gr_shape *s, char *buf, size_t len);
    /* Optional: the one target this exercise's kernels exist for ("sm_90a": wgmma), in a session that
     * builds for others too. A build for another target skips it with one line (NEEDS_ARCH). */
    const char *needs_arch;
    /* Optional, for an exercise whose code is not linked in (session 11's Python files): runs in the
     * exercise's process before anything is checked, and before that process is confined; loads the
     * code. False refuses it with a verdict and one line. (Session 14's 05 makes its NCCL world here,
     * whose bootstrap needs sockets, or says in that line why it cannot: one GPU, no NCCL.) */
    bool (*open)(const struct gr_exercise *ex, gr_verdict *verdict, char *why, size_t why_len);
    /* Launch once at every shape before the process is confined: a just-in-time compiler (Triton)
     * builds its kernels then, when it may still run its tools, and the timed launches are launches. */
    bool warm_up;
    /* Optional, for an exercise whose launcher works beyond the grader's GPU (session 14's 05, over
     * every GPU of the machine): prepare() runs after each upload of the inputs, collect() after a
     * launch whose results are about to be read, before they are read; neither is timed. They
     * spread the inputs to the other GPUs and bring their results back into the outputs. */
    void (*prepare)(gr_case *c);
    void (*collect)(gr_case *c);
} gr_exercise;

/* The exercise's process ends now with this verdict (a launcher that cannot go on: a Python
 * exception). Outside such a process it prints the message and exits with status 1. */
void gr_exercise_fails(gr_verdict verdict, const char *message) __attribute__((noreturn));

/* --- used by check drivers inside declare() --- */
int gr_input(gr_case *c, const char *name, gr_dtype dtype, size_t count, gr_fill fill);
int gr_output(gr_case *c, const char *name, gr_dtype dtype, size_t count, long row_len);
int gr_scratch(gr_case *c, const char *name, gr_dtype dtype, size_t count);
/* An output the launcher also reads: filled with random values (not poison) before every launch;
 * gr_in() gives those values to the reference. An unwritten element keeps its old value and fails. */
int gr_inout(gr_case *c, const char *name, gr_dtype dtype, size_t count, long row_len, gr_fill fill);
double gr_random_uniform(gr_case *c, double lo, double hi);

/* --- used inside launch(), reference(), library() --- */
void *gr_ptr(gr_case *c, const char *name);        /* device pointer (host pointer for host exercises) */
const void *gr_in(const gr_case *c, const char *name);  /* host copy of an input (in-out: its values before) */
void *gr_ref(gr_case *c, const char *name);        /* host reference of an output */
/* Where a reference can, it fills this with the magnitude of the terms behind each element it
 * computes (for C = alpha*A*B + beta*C: |alpha| |A||B| + |beta| |C|). Errors are then measured
 * against those magnitudes rather than against the result, which cancellation can make
 * arbitrarily small: the textbook error bound of a sum. */
float *gr_scale(gr_case *c, const char *name);
/* An input (or in-out's initial values) as float32, whatever its type: BF16 is widened once per
 * fill and cached. For references that work in float. */
const float *gr_in_f32(gr_case *c, const char *name);
const gr_buffer *gr_find(const gr_case *c, const char *name);

/* Freivalds' check of C = A*B (row-major, float32): ||C x - A (B x)|| / ||A (B x)|| for random x. */
double gr_freivalds_f32(const float *A, const float *B, const float *C, long M, long N, long K,
                        uint64_t seed);
/* The same for C = alpha * A*B + beta * C0 (C0 may be NULL when beta is 0). */
double gr_freivalds_gemm_f32(const float *A, const float *B, const float *C0, float alpha, float beta,
                             const float *C, long M, long N, long K, uint64_t seed);
/* The same for C = A * B^T with B stored N x K (row n: the K weights of output n, as in a linear
 * layer), C float32 or bfloat16 (c_dtype GR_F32 or GR_BF16). */
double gr_freivalds_nt(const float *A, const float *B, const void *C, gr_dtype c_dtype, long M, long N, long K,
                       uint64_t seed);
/* bfloat16 (as stored: the top 16 bits of a float32) to float32, n elements. */
void gr_bf16_to_f32(const uint16_t *in, float *out, size_t n);
/* IEEE binary16 (FP16) bits to float32 (exact), and float32 to FP16 rounded to nearest, ties to
 * even (overflow to infinity, NaN kept a NaN). */
float gr_f16_value(uint16_t h);
uint16_t gr_f16_round(float f);

/* The session's entry point: parses the command line, runs every exercise, prints the report, and
 * ends the process (with _exit: nothing registered to run at exit runs after the records). */
int gr_main(int argc, char **argv, const char *session, const gr_exercise *exercises, int n_exercises);
/* The same, returning its exit status instead of ending the process (for the unit tests). */
int gr_run_session(int argc, char **argv, const char *session, const gr_exercise *exercises, int n_exercises);

/* Seconds on a monotonic clock, for wall-clock timing on the host. */
double gr_wall_seconds(void);

/* Machine epsilon of float32, for tolerance formulas. */
#define GR_EPS_F32 1.1920928955078125e-07

#endif
