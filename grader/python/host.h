/* Session 11's Python exercises (Triton, the CuTe DSL): the grader's embedded interpreter (host.c, glue.py, policy.py).
 *
 * A check driver names a Python exercise's file and its launcher's arguments; the C grader stays
 * the owner of inputs, timing and verdict, and the launcher gets device pointers and the stream:
 *
 *     .open = gr_py_open, .warm_up = true, .launch = my_launch,
 *     static void my_launch(gr_case *c, cudaStream_t s) {
 *         gr_py_arg args[] = {GR_PY_BUFFER("A", M, K), GR_PY_BUFFER("B", N, K), GR_PY_INT(n_sms), GR_PY_STREAM};
 *         gr_py_launch(c, s, args, 4);
 *     }
 *
 * The file is EXERCISE_DIR/<name up to any '+'>.py, EXERCISE_DIR fixed when the check is built. */
#ifndef GRADER_PYTHON_HOST_H
#define GRADER_PYTHON_HOST_H

#include "grader.h"

typedef struct {
    const char *buffer;    /* a buffer of the case, by name; NULL: an integer (or the stream) */
    int rank;              /* the shape the launcher sees (row-major) */
    long dims[4];
    long value;            /* the integer */
    bool stream;           /* the launch's stream (a CUstream where the CuTe DSL is loaded) */
} gr_py_arg;

#define GR_PY_BUFFER(name, ...) \
    ((gr_py_arg){.buffer = (name), .rank = (int)(sizeof((long[]){__VA_ARGS__}) / sizeof(long)), .dims = {__VA_ARGS__}})
#define GR_PY_INT(v) ((gr_py_arg){.buffer = NULL, .value = (long)(v)})
/* The stream itself, for a launcher that names it (the CuTe DSL's launches do; Triton's take
 * PyTorch's current stream, which glue.call sets to this one). */
#define GR_PY_STREAM ((gr_py_arg){.buffer = NULL, .stream = true})

/* gr_exercise.open: start the interpreter and load the exercise's file under the policy. */
bool gr_py_open(const gr_exercise *ex, gr_verdict *verdict, char *why, size_t why_len);

/* Call the file's launch(*args) on `stream`; an exception ends the exercise (CRASH, one line). */
void gr_py_launch(gr_case *c, cudaStream_t stream, const gr_py_arg *args, int n_args);

#endif
