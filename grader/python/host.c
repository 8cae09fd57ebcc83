/* The grader's embedded Python interpreter, for session 11's Triton and CuTe DSL exercises.
 *
 * The interpreter lives only in the child process that runs one exercise: the parent, which writes
 * the verdict, runs no Python. gr_py_open starts it (isolated from the environment: PYTHONPATH,
 * PYTHONSTARTUP and the user's site-packages are ignored) on the interpreter the build chose
 * (GR_PYTHON, whose site-packages hold Triton and PyTorch) and has glue.py load the student's file;
 * gr_py_launch hands glue.call the device pointers, shapes and stream of one launch. Everything else
 * (inputs, poison, timing, checking) is the grader's, as for a compiled exercise.
 *
 * Built with: GR_PYTHON, GR_PY_GRADER_DIR (this folder), GR_PY_EXERCISE_DIR (the student's or the
 * solutions' session folder) and GR_PY_CACHE_DIR (Triton's kernel cache, one per build); the three
 * folders relative to the check's own folder (or absolute). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

static PyObject *glue_call;   /* glue.call, once a file is loaded */

/* The message of the exception being raised, as one line (the exception is cleared). */
static void exception_line(char *out, size_t len) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *s = value ? PyObject_Str(value) : NULL;
    const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
    const char *name = type ? ((PyTypeObject *)type)->tp_name : "error";
    snprintf(out, len, "%s: %s", name, text ? text : "");
    Py_XDECREF(s);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    PyErr_Clear();
}

/* glue's answer: None when all went well, else (verdict name, message). */
static bool glue_verdict(PyObject *answer, gr_verdict *verdict, char *why, size_t why_len) {
    if (answer == Py_None) return true;
    const char *name = NULL, *message = NULL;
    if (!answer || !PyArg_ParseTuple(answer, "ss", &name, &message)) {
        if (PyErr_Occurred()) exception_line(why, why_len);
        else snprintf(why, why_len, "the grader's Python glue gave no answer");
        *verdict = GR_CRASH;
        return false;
    }
    if (!gr_verdict_parse(name, verdict)) *verdict = GR_CRASH;
    snprintf(why, why_len, "%s", message);
    return false;
}

/* A folder named at build time, absolute, or relative to the folder of this program (the check):
 * a workbook copied or moved after its build (class grading's scratch trees, a student's second
 * copy) then loads its own files, never those of the tree it was built in. */
static void build_folder(const char *named, char *out, size_t len) {
    char exe[4096];
    ssize_t n = named[0] == '/' ? -1 : readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
    if (!slash) { snprintf(out, len, "%s", named); return; }
    *slash = 0;
    snprintf(out, len, "%s/%s", exe, named);
}

static bool start_interpreter(char *why, size_t why_len) {
    if (Py_IsInitialized()) return true;
    /* Triton's compiled kernels, one cache per build, so that one student's never serve another;
     * in the temporary folder where the build's is not writable (class grading hands the scratch
     * tree to root before the run, all but its tmp/). */
    char cache[1024];
    build_folder(GR_PY_CACHE_DIR, cache, sizeof cache);
    mkdir(cache, 0700);
    if (access(cache, W_OK) != 0) snprintf(cache, sizeof cache, "%s/triton-cache", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    setenv("TRITON_CACHE_DIR", cache, 1);
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.install_signal_handlers = 0;   /* the grader's signals stay the grader's */
    config.write_bytecode = 0;            /* no __pycache__ beside the student's file */
    config.parse_argv = 0;
    PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, GR_PYTHON);
    if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        snprintf(why, why_len, "the embedded Python (%s) did not start: %s", GR_PYTHON, st.err_msg ? st.err_msg : "?");
        return false;
    }
    PyObject *path = PySys_GetObject("path");   /* borrowed */
    char grader_dir[4096];
    build_folder(GR_PY_GRADER_DIR, grader_dir, sizeof grader_dir);
    PyObject *dir = PyUnicode_FromString(grader_dir);
    if (!path || !dir || PyList_Insert(path, 0, dir) != 0) {
        Py_XDECREF(dir);
        snprintf(why, why_len, "the embedded Python has no sys.path");
        return false;
    }
    Py_DECREF(dir);
    return true;
}

bool gr_py_open(const gr_exercise *ex, gr_verdict *verdict, char *why, size_t why_len) {
    *verdict = GR_CRASH;
    if (!start_interpreter(why, why_len)) return false;
    char file[4096], stem[128], folder[4096];
    snprintf(stem, sizeof stem, "%s", ex->name);
    stem[strcspn(stem, "+")] = 0;   /* "03_triton_flash+causal" runs 03_triton_flash.py */
    build_folder(GR_PY_EXERCISE_DIR, folder, sizeof folder);
    snprintf(file, sizeof file, "%s/%s.py", folder, stem);
    int device = -1;
    if (!ex->on_host && cudaGetDevice(&device) != cudaSuccess) device = -1;

    PyObject *glue = PyImport_ImportModule("glue");
    if (!glue) {
        exception_line(why, why_len);
        return false;
    }
    PyObject *answer = PyObject_CallMethod(glue, "load", "si", file, device);
    bool ok = glue_verdict(answer, verdict, why, why_len);
    Py_XDECREF(answer);
    if (ok) glue_call = PyObject_GetAttrString(glue, "call");
    Py_DECREF(glue);
    if (ok && !glue_call) {
        exception_line(why, why_len);
        return false;
    }
    return ok;
}

static const char *dtype_name(gr_dtype t) {
    switch (t) {
    case GR_BF16: return "bf16";
    case GR_F16: return "f16";
    case GR_F32: return "f32";
    case GR_F64: return "f64";
    case GR_I32: return "i32";
    case GR_U8: return "u8";
    }
    return "u8";
}

/* One argument as glue.call takes it: ("t", pointer, dtype, shape), ("s", stream) or an int. */
static PyObject *argument(gr_case *c, cudaStream_t stream, const gr_py_arg *a) {
    if (a->stream) return Py_BuildValue("(sK)", "s", (unsigned long long)(uintptr_t)stream);
    if (!a->buffer) return PyLong_FromLong(a->value);
    const gr_buffer *b = NULL;
    for (int i = 0; i < c->n_buffers; i++)
        if (!strcmp(c->buf[i].name, a->buffer)) b = &c->buf[i];
    if (!b) {
        char m[160];
        snprintf(m, sizeof m, "the check driver names a buffer '%s' its case does not have", a->buffer);
        gr_exercise_fails(GR_CRASH, m);
    }
    PyObject *shape = PyTuple_New(a->rank);
    for (int d = 0; d < a->rank; d++) PyTuple_SET_ITEM(shape, d, PyLong_FromLong(a->dims[d]));
    return Py_BuildValue("(sKsN)", "t", (unsigned long long)(uintptr_t)b->dev, dtype_name(b->dtype), shape);
}

void gr_py_launch(gr_case *c, cudaStream_t stream, const gr_py_arg *args, int n_args) {
    if (!glue_call) gr_exercise_fails(GR_CRASH, "the Python exercise was not loaded (the check driver lacks .open = gr_py_open)");
    PyObject *list = PyTuple_New(n_args);
    for (int i = 0; i < n_args; i++) PyTuple_SET_ITEM(list, i, argument(c, stream, &args[i]));
    PyObject *answer = PyObject_CallFunction(glue_call, "KN", (unsigned long long)(uintptr_t)stream, list);
    gr_verdict verdict;
    char why[400];
    bool ok = glue_verdict(answer, &verdict, why, sizeof why);
    Py_XDECREF(answer);
    if (!ok) gr_exercise_fails(verdict, why);
}
