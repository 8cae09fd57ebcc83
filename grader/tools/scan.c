/* The source scanner of the class grader: what an exercise file must not use.
 *
 *   scan FILE.cu [FILE.cu ...]
 *
 * Reads each student exercise file, blanks its comments and the insides of its string and character
 * literals (line numbers kept), and reports every use of what the exercises forbid, one line a hit:
 *
 *   FILE:LINE: DISQUALIFIED: <reason> (<the offending token>)
 *
 * Exit: 0 when every file is clean, 1 when any hit, 2 when a file cannot be read (or is not text:
 * NUL bytes, over 8 MiB), said in one line "FILE: scan: cannot read (...)" on stdout; 64 on usage.
 *
 * What is looked at, and where (the `where` column of the rule table):
 *   IDENT   an identifier, or any part of a qualified name (std::chrono::now: std, chrono, now),
 *           that is not on the ALLOWED list.            Pattern "cudaMalloc*": a prefix.
 *   CALL    an identifier followed by '(' (words too common to flag alone: system, open, clock).
 *   QUAL    a whole qualified name, as written without spaces (std::thread, thrust::*).
 *   STRING  the text of string literals, escapes decoded, adjacent literals joined ("%%global"
 *           "timer" is one text): asm text is string literals, and the blanked code cannot see it.
 *   INCLUDE the header of an #include; headers on INCLUDE_ALLOWED pass, any other is a hit.
 *   PRAGMA  the first word after #pragma.
 * Rules are tried in table order and a token is reported once, for the first rule it breaks.
 *
 * Decisions (change them in the tables):
 *   - cudaFuncSetAttribute, cudaFuncSetCacheConfig: allowed. They set the student's own kernel's
 *     shared-memory size or L1/shared split, touch nothing else and nothing the grader measures
 *     with; the solutions use the first. Their device-wide cousins (cudaDeviceSetCacheConfig,
 *     cudaDeviceSetLimit, ...) are forbidden with every other cudaDevice* call but the queries.
 *   - cudaGetDevice, cudaDeviceGetAttribute (launch.h), cudaGetLastError: allowed queries.
 *   - __nanosleep: allowed. It delays a warp and measures nothing (a spin-wait backs off with it);
 *     what reads a clock is forbidden: clock(), clock64(), %globaltimer, %clock in asm, chrono.
 *   - Inline PTX (mma.sync, ldmatrix, cp.async, ...) is legitimate: only the special registers
 *     that read time are looked for in asm text.
 *   - Static constructors: __attribute__((constructor)), [[gnu::constructor]], init_priority and
 *     .init_array are flagged. A global object whose constructor runs before main is not detected
 *     (it needs a parser); its constructor's payload (getenv, dlsym, fopen, ...) still is.
 *
 * Not catchable by reading source (the grader's run-time checks are the answer): output cached
 * between calls (a static keyed by pointer or shape: fresh inputs and the recheck after timing),
 * inputs mutated (the recheck compares against a reference of the original inputs), stale memory
 * (fresh seeds), identifiers pasted by the preprocessor from innocent pieces (a(cudaStr, eamCreate)).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum where { IDENT, CALL, QUAL, STRING, INCLUDE, PRAGMA };

struct rule {
    enum where where;
    const char *pattern;  /* exact, or a prefix when it ends in '*' */
    const char *reason;
};

#define STREAM "another stream, event or host callback: a launcher works on the stream it is given"
#define DEVICE "device-wide control belongs to the grader"
#define GRAPH "CUDA graphs: work captured or replayed outside the timed launches"
#define MEMORY "memory managed or copied by the launcher: it works in the buffers it is given"
#define DRIVER "the CUDA driver API: a launcher uses the runtime it is given"
#define THREAD "host threads: work outside the timed stream"
#define LIBRARY "a vendor library does the work the exercise asks for"
#define PROCESS "processes, files, environment or dynamic loading"
#define BEFORE_MAIN "code run before main"
#define TIMING "timing or detection: the grader times, a kernel does not"

static const struct rule RULES[] = {
    /* ---- other streams, events, device-wide control ------------------------------------ */
    {IDENT, "cudaEventElapsedTime", TIMING},  /* before cudaEvent*: its reason is the timing  */
    {IDENT, "cudaStream*", STREAM},           /* Create*, Synchronize, WaitEvent, PerThread... */
    {IDENT, "cudaEvent*", STREAM},            /* Create*, Record, Synchronize, Query...        */
    {IDENT, "cudaLaunchHostFunc", STREAM},
    {IDENT, "cudaDevice*", DEVICE},           /* Synchronize, Reset, SetLimit, SetCacheConfig  */
    {IDENT, "cudaThread*", DEVICE},           /* the deprecated names of the same              */
    {IDENT, "cudaSetDevice*", DEVICE},
    {IDENT, "cudaSetValidDevices", DEVICE},
    {IDENT, "cudaCtx*", DEVICE},              /* cudaCtxResetPersistingL2Cache                  */
    {IDENT, "cudaProfiler*", DEVICE},
    /* ---- graphs --------------------------------------------------------------------------- */
    {IDENT, "cudaGraph*", GRAPH},
    /* ---- memory --------------------------------------------------------------------------- */
    {IDENT, "cudaMalloc*", MEMORY},           /* cudaMallocManaged, cudaMallocHost, ...        */
    {IDENT, "cudaFree*", MEMORY},
    {IDENT, "cudaMemcpy*", MEMORY},
    {IDENT, "cudaMemset*", MEMORY},
    {IDENT, "cudaMemPrefetch*", MEMORY},
    {IDENT, "cudaMemAdvise*", MEMORY},
    {IDENT, "cudaMemPool*", MEMORY},
    {IDENT, "cudaHost*", MEMORY},             /* cudaHostAlloc, cudaHostRegister               */
    {IDENT, "cudaIpc*", MEMORY},
    /* ---- the driver API and its entry points ---------------------------------------------- */
    {IDENT, "cudaGetDriverEntryPoint*", DRIVER},
    {IDENT, "cuInit", DRIVER},
    {IDENT, "cuCtx*", DRIVER},
    {IDENT, "cuMem*", DRIVER},
    {IDENT, "cuStream*", DRIVER},
    {IDENT, "cuEvent*", DRIVER},
    {IDENT, "cuGraph*", DRIVER},
    {IDENT, "cuLaunch*", DRIVER},
    {IDENT, "cuModule*", DRIVER},
    {IDENT, "cuLibrary*", DRIVER},
    {IDENT, "cuDevice*", DRIVER},
    {IDENT, "cuGetProcAddress*", DRIVER},
    /* ---- host threads --------------------------------------------------------------------- */
    {QUAL, "std::thread", THREAD},
    {QUAL, "std::jthread", THREAD},
    {QUAL, "std::async", THREAD},
    {QUAL, "std::this_thread*", THREAD},
    {IDENT, "pthread_*", THREAD},
    {CALL, "fork", THREAD},
    {CALL, "vfork", THREAD},
    {IDENT, "posix_spawn*", THREAD},
    {PRAGMA, "omp", THREAD},
    /* ---- vendor libraries ----------------------------------------------------------------- */
    {IDENT, "cublas*", LIBRARY},              /* cublasLt* too                                 */
    {IDENT, "cudnn*", LIBRARY},
    {IDENT, "cusparse*", LIBRARY},
    {IDENT, "cufft*", LIBRARY},
    {IDENT, "curand*", LIBRARY},
    {IDENT, "cusolver*", LIBRARY},
    {IDENT, "nvrtc*", LIBRARY},
    {IDENT, "nvJitLink*", LIBRARY},
    {IDENT, "cutlass", LIBRARY},
    {QUAL, "thrust::*", LIBRARY},
    {QUAL, "cub::*", LIBRARY},
    {QUAL, "cute::*", LIBRARY},
    /* ---- processes, files, environment, dynamic loading ----------------------------------- */
    {CALL, "system", PROCESS},
    {IDENT, "popen", PROCESS},
    {IDENT, "execl", PROCESS},
    {IDENT, "execle", PROCESS},
    {IDENT, "execlp", PROCESS},
    {IDENT, "execv", PROCESS},
    {IDENT, "execve", PROCESS},
    {IDENT, "execvp", PROCESS},
    {IDENT, "execvpe", PROCESS},
    {IDENT, "fexecve", PROCESS},
    {IDENT, "fopen*", PROCESS},
    {IDENT, "freopen", PROCESS},
    {CALL, "open", PROCESS},
    {CALL, "openat", PROCESS},
    {QUAL, "std::ifstream", PROCESS},
    {QUAL, "std::ofstream", PROCESS},
    {QUAL, "std::fstream", PROCESS},
    {IDENT, "getenv", PROCESS},
    {IDENT, "secure_getenv", PROCESS},
    {IDENT, "setenv", PROCESS},
    {IDENT, "unsetenv", PROCESS},
    {IDENT, "putenv", PROCESS},
    {IDENT, "environ", PROCESS},
    {IDENT, "__environ", PROCESS},
    {IDENT, "dlopen", PROCESS},
    {IDENT, "dlmopen", PROCESS},
    {IDENT, "dlsym", PROCESS},
    {IDENT, "dlvsym", PROCESS},
    {IDENT, "LD_PRELOAD", PROCESS},
    {STRING, "LD_PRELOAD", PROCESS},
    {CALL, "syscall", PROCESS},
    {IDENT, "mprotect", PROCESS},
    {IDENT, "ptrace", PROCESS},
    /* ---- code run before main ------------------------------------------------------------- */
    {IDENT, "constructor", BEFORE_MAIN},      /* __attribute__((constructor)), [[gnu::constructor]] */
    {IDENT, "__constructor__", BEFORE_MAIN},
    {IDENT, "destructor", BEFORE_MAIN},
    {IDENT, "__destructor__", BEFORE_MAIN},
    {IDENT, "init_priority", BEFORE_MAIN},
    {STRING, ".init_array", BEFORE_MAIN},
    /* ---- timing and detection ------------------------------------------------------------- */
    {CALL, "clock", TIMING},
    {CALL, "clock64", TIMING},
    {IDENT, "__globaltimer*", TIMING},
    {STRING, "globaltimer", TIMING},          /* mov.u64 %0, %globaltimer; (_lo, _hi)           */
    {STRING, "%clock", TIMING},               /* %clock, %clock_hi, %clock64                    */
    {STRING, "rdtsc", TIMING},
    {IDENT, "__rdtsc", TIMING},
    {IDENT, "chrono", TIMING},                /* std::chrono, cuda::std::chrono                 */
    {IDENT, "clock_gettime", TIMING},
    {IDENT, "gettimeofday", TIMING},
    {IDENT, "timespec_get", TIMING},
    {CALL, "time", TIMING},
    /* ---- headers: named ones first, with their reason; then anything off the allow-list ---- */
    {INCLUDE, "cublas*", LIBRARY},
    {INCLUDE, "cudnn*", LIBRARY},
    {INCLUDE, "cusparse*", LIBRARY},
    {INCLUDE, "cufft*", LIBRARY},
    {INCLUDE, "curand*", LIBRARY},
    {INCLUDE, "cusolver*", LIBRARY},
    {INCLUDE, "nvrtc*", LIBRARY},
    {INCLUDE, "nvJitLink*", LIBRARY},
    {INCLUDE, "thrust/*", LIBRARY},
    {INCLUDE, "cub/*", LIBRARY},
    {INCLUDE, "cutlass/*", LIBRARY},
    {INCLUDE, "cute/*", LIBRARY},
    {INCLUDE, "cuda.h", DRIVER},
    {INCLUDE, "thread", THREAD},
    {INCLUDE, "future", THREAD},
    {INCLUDE, "pthread.h", THREAD},
    {INCLUDE, "omp.h", THREAD},
    {INCLUDE, "dlfcn.h", PROCESS},
    {INCLUDE, "unistd.h", PROCESS},
    {INCLUDE, "sys/*", PROCESS},
    {INCLUDE, "chrono", TIMING},
    {INCLUDE, "ctime", TIMING},
    {INCLUDE, "time.h", TIMING},
};

/* Identifiers that a prefix rule above would catch, but which are allowed. */
static const char *const ALLOWED[] = {
    "cudaStream_t",  /* the type of the stream the launcher is given */
    "cudaEvent_t",   /* a type alone does nothing */
    "cudaDeviceGet*", "cudaDeviceProp",  /* queries: launch.h asks cudaDeviceGetAttribute */
};

/* Headers an exercise may include (either spelling, <> or ""): CUDA and C standard ones, and the
 * session's own. A quoted header with a directory (../solutions/...) is never on it. */
#define OFF_LIST "#include outside the allow-list: CUDA/C standard headers and the session's own"
static const char *const INCLUDE_ALLOWED[] = {
    "cuda_runtime.h", "cuda_bf16.h", "cuda_fp16.h", "cuda_fp8.h", "mma.h",
    "stdint.h", "stddef.h", "math.h", "float.h", "limits.h", "cstdint", "cmath", "climits", "cfloat",
    "stdio.h", "cstdio", /* printf from a kernel is debugging, not cheating; fopen and friends are rules */
    "exercises.h", "launch.h", "mma_ptx.cuh",
};
/* Besides the list: a session's own header of given code, "NAME_given.cuh" with no path. */
#define GIVEN_HEADER_SUFFIX "_given.cuh"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_BYTES (8L << 20)

struct hit {
    int line;
    long pos;
    const char *reason;
    char token[128];
};

static struct hit *hits;
static size_t nhits, caphits;

static void add_hit(int line, long pos, const char *reason, const char *token, size_t len) {
    if (len > sizeof hits[0].token - 1) len = sizeof hits[0].token - 1;
    for (size_t i = 0; i < nhits; i++)  /* one line per (line, token), however often it occurs */
        if (hits[i].line == line && !strncmp(hits[i].token, token, len) && hits[i].token[len] == 0) return;
    if (nhits == caphits) {
        caphits = caphits ? 2 * caphits : 64;
        struct hit *h = realloc(hits, caphits * sizeof *h);
        if (!h) { fprintf(stderr, "scan: out of memory\n"); exit(2); }
        hits = h;
    }
    struct hit *h = &hits[nhits++];
    h->line = line;
    h->pos = pos;
    h->reason = reason;
    memcpy(h->token, token, len);
    h->token[len] = 0;
}

static int by_place(const void *a, const void *b) {
    const struct hit *x = a, *y = b;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int is_id0(char c) { return isalpha((unsigned char)c) || c == '_'; }
static int is_id(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* s[0..len) against a pattern: exact, or a prefix when the pattern ends in '*'. */
static int matches(const char *pattern, const char *s, size_t len) {
    size_t p = strlen(pattern);
    if (p && pattern[p - 1] == '*') return len >= p - 1 && !strncmp(pattern, s, p - 1);
    return len == p && !strncmp(pattern, s, p);
}

static int allowed(const char *s, size_t len) {
    for (size_t i = 0; i < COUNT(ALLOWED); i++)
        if (matches(ALLOWED[i], s, len)) return 1;
    return 0;
}

/* ---- stripping ------------------------------------------------------------------------------ */

struct source {
    const char *text;  /* the file as read */
    size_t n;
    char *code;        /* the same with comments and literal contents blanked (newlines kept) */
    int *line;         /* line of each byte */
    char *str;         /* string literal texts, decoded; runs of adjacent literals joined, and
                          runs separated by '\n' (a pattern holds no newline) */
    int *str_line;
    long *str_pos;
    size_t nstr;
};

static void put_str(struct source *s, char c, int line, long pos) {
    s->str[s->nstr] = c;
    s->str_line[s->nstr] = line;
    s->str_pos[s->nstr] = pos;
    s->nstr++;
}

/* The value of the escape at t[i] == '\\' (one byte); *end: the index after it. */
static char unescape(const char *t, size_t n, size_t i, size_t *end) {
    size_t j = i + 1;
    if (j >= n) { *end = j; return '\\'; }
    char c = t[j];
    int v = 0, k;
    if (c == 'x') {
        for (j++; j < n && isxdigit((unsigned char)t[j]); j++)
            v = v * 16 + (isdigit((unsigned char)t[j]) ? t[j] - '0' : (tolower((unsigned char)t[j]) - 'a' + 10));
        *end = j;
        return (char)v;
    }
    if (c >= '0' && c <= '7') {
        for (k = 0; k < 3 && j < n && t[j] >= '0' && t[j] <= '7'; k++, j++) v = v * 8 + (t[j] - '0');
        *end = j;
        return (char)v;
    }
    *end = j + 1;
    switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    default: return c;
    }
}

static void strip(struct source *s) {
    const char *t = s->text;
    size_t n = s->n, i = 0;
    int ln = 1, in_run = 0, number = 0;
#define KEEP(ch) do { s->code[i] = (ch); s->line[i] = ln; if (t[i] == '\n') ln++; i++; } while (0)
#define BLANK() KEEP(t[i] == '\n' ? '\n' : ' ')
    while (i < n) {
        char c = t[i], d = i + 1 < n ? t[i + 1] : 0;
        if (c == '/' && d == '/') {  /* to the end of the line; a backslash-newline continues it */
            while (i < n) {
                if (t[i] == '\n' && !(i > 0 && (t[i - 1] == '\\' || (t[i - 1] == '\r' && i > 1 && t[i - 2] == '\\')))) break;
                BLANK();
            }
            continue;
        }
        if (c == '/' && d == '*') {
            BLANK(); BLANK();
            while (i < n && !(t[i] == '*' && i + 1 < n && t[i + 1] == '/')) BLANK();
            if (i < n) { BLANK(); BLANK(); }
            continue;
        }
        if (c == '"') {
            size_t b = i;
            while (b > 0 && is_id(t[b - 1])) b--;
            const char *pre = t + b;
            size_t plen = i - b;
            int raw = (plen == 1 && pre[0] == 'R') || (plen == 2 && pre[1] == 'R' && strchr("LuU", pre[0])) ||
                      (plen == 3 && !strncmp(pre, "u8R", 3));
            if (!in_run && s->nstr) put_str(s, '\n', ln, (long)i);
            KEEP('"');
            if (raw) {  /* R"delim( ... )delim" */
                char delim[20];
                size_t dl = 0;
                while (i < n && t[i] != '(' && t[i] != '\n' && dl < sizeof delim - 1) { delim[dl++] = t[i]; BLANK(); }
                if (i < n && t[i] == '(') BLANK();
                while (i < n) {
                    if (t[i] == ')' && i + 1 + dl < n && !strncmp(t + i + 1, delim, dl) && t[i + 1 + dl] == '"') {
                        for (size_t k = 0; k <= dl; k++) BLANK();
                        break;
                    }
                    put_str(s, t[i], ln, (long)i);
                    BLANK();
                }
            } else {
                while (i < n && t[i] != '"' && t[i] != '\n') {
                    if (t[i] == '\\') {
                        size_t end;
                        char v = unescape(t, n, i, &end);
                        if (!(end == i + 2 && t[i + 1] == '\n')) put_str(s, v, ln, (long)i);  /* splice */
                        while (i < end && i < n) BLANK();
                    } else {
                        put_str(s, t[i], ln, (long)i);
                        BLANK();
                    }
                }
            }
            if (i < n && t[i] == '"') KEEP('"');
            in_run = 1;
            number = 0;
            continue;
        }
        if (c == '\'' && number && is_id(d)) { KEEP(' '); continue; }  /* digit separator: 1'000 */
        if (c == '\'') {
            KEEP('\'');
            while (i < n && t[i] != '\'' && t[i] != '\n') {
                if (t[i] == '\\' && i + 1 < n && t[i + 1] != '\n') BLANK();
                BLANK();
            }
            if (i < n && t[i] == '\'') KEEP('\'');
            in_run = 0;
            number = 0;
            continue;
        }
        if (!isspace((unsigned char)c)) in_run = 0;
        if (isdigit((unsigned char)c) && !(i > 0 && is_id(t[i - 1]))) number = 1;
        else if (!is_id(c) && c != '.') number = 0;
        KEEP(c);
    }
    s->code[n] = 0;
    s->line[n] = ln;
    s->str[s->nstr] = 0;
#undef KEEP
#undef BLANK
}

/* ---- matching ------------------------------------------------------------------------------- */

static size_t skip_space(const char *c, size_t i) {
    while (c[i] == ' ' || c[i] == '\t' || c[i] == '\n' || c[i] == '\r' || c[i] == '\f' || c[i] == '\v' ||
           (c[i] == '\\' && (c[i + 1] == '\n' || (c[i + 1] == '\r' && c[i + 2] == '\n'))))
        i++;
    return i;
}

static void check_include(const char *name, size_t len, const char *shown, size_t shown_len,
                          int line, long pos) {
    for (size_t r = 0; r < COUNT(RULES); r++)
        if (RULES[r].where == INCLUDE && matches(RULES[r].pattern, name, len)) {
            add_hit(line, pos, RULES[r].reason, shown, shown_len);
            return;
        }
    for (size_t a = 0; a < COUNT(INCLUDE_ALLOWED); a++)
        if (matches(INCLUDE_ALLOWED[a], name, len)) return;
    const size_t suffix = sizeof GIVEN_HEADER_SUFFIX - 1;
    if (shown_len > 0 && shown[0] == '"' && !memchr(name, '/', len) && len > suffix &&
        !strncmp(name + len - suffix, GIVEN_HEADER_SUFFIX, suffix))
        return;
    add_hit(line, pos, OFF_LIST, shown, shown_len);
}

/* A preprocessor directive starting at code[i] == '#'; returns where scanning goes on. */
static size_t directive(const struct source *s, size_t i) {
    const char *c = s->code;
    size_t j = i + 1;
    while (c[j] == ' ' || c[j] == '\t') j++;
    size_t w = j;
    while (is_id(c[j])) j++;
    size_t wlen = j - w;
    int line = s->line[i];
    if ((wlen == 7 && !strncmp(c + w, "include", 7)) || (wlen == 12 && !strncmp(c + w, "include_next", 12)) ||
        (wlen == 6 && !strncmp(c + w, "import", 6))) {
        while (c[j] == ' ' || c[j] == '\t') j++;
        size_t start = j, end = j;
        if (c[j] == '<') {
            for (end = j + 1; c[end] && c[end] != '>' && c[end] != '\n'; end++) {}
            check_include(c + j + 1, end - j - 1, c + j, end - j + (c[end] == '>'), line, (long)j);
        } else if (c[j] == '"') {  /* the name is blanked in code: read it in the text */
            for (end = j + 1; c[end] && c[end] != '"' && c[end] != '\n'; end++) {}
            check_include(s->text + j + 1, end - j - 1, s->text + j, end - j + (c[end] == '"'), line, (long)j);
        } else {
            for (end = j; c[end] && !isspace((unsigned char)c[end]); end++) {}
            add_hit(line, (long)j, "computed #include: the header cannot be checked", c + start, end - start);
        }
        while (c[end] && !(c[end] == '\n' && c[end - 1] != '\\')) end++;
        return end;
    }
    if (wlen == 6 && !strncmp(c + w, "pragma", 6)) {
        size_t p = skip_space(c, j), q = p;
        while (is_id(c[q])) q++;
        for (size_t r = 0; r < COUNT(RULES); r++)
            if (RULES[r].where == PRAGMA && matches(RULES[r].pattern, c + p, q - p)) {
                char shown[80];
                int len = snprintf(shown, sizeof shown, "#pragma %.*s", (int)(q - p), c + p);
                add_hit(line, (long)i, RULES[r].reason, shown, (size_t)len);
                break;
            }
    }
    return j;  /* the rest of the line is code like any other (#define X cudaStreamCreate) */
}

/* Identifier or qualified name a::b::c at code[i]; returns the index after it. */
static size_t name(const struct source *s, size_t i) {
    const char *c = s->code;
    size_t part[16], part_len[16], parts = 0, j = i;
    char full[256];
    size_t flen = 0;
    for (;;) {
        size_t b = j;
        while (is_id(c[j])) j++;
        if (parts < 16) { part[parts] = b; part_len[parts] = j - b; parts++; }
        if (flen + (j - b) + 2 < sizeof full) {
            if (flen) { full[flen++] = ':'; full[flen++] = ':'; }
            memcpy(full + flen, c + b, j - b);
            flen += j - b;
        }
        size_t k = skip_space(c, j);
        if (c[k] == ':' && c[k + 1] == ':') {
            size_t m = skip_space(c, k + 2);
            if (is_id0(c[m])) { j = m; continue; }
        }
        break;
    }
    int call = c[skip_space(c, j)] == '(';
    int line = s->line[i];
    for (size_t r = 0; r < COUNT(RULES); r++) {
        const struct rule *u = &RULES[r];
        if (u->where == QUAL && matches(u->pattern, full, flen)) {
            add_hit(line, (long)i, u->reason, full, flen);
            return j;
        }
        if (u->where == CALL && call && matches(u->pattern, c + part[parts - 1], part_len[parts - 1])) {
            add_hit(s->line[part[parts - 1]], (long)part[parts - 1], u->reason, c + part[parts - 1], part_len[parts - 1]);
            return j;
        }
        if (u->where == IDENT)
            for (size_t p = 0; p < parts; p++)
                if (!allowed(c + part[p], part_len[p]) && matches(u->pattern, c + part[p], part_len[p])) {
                    add_hit(s->line[part[p]], (long)part[p], u->reason, c + part[p], part_len[p]);
                    return j;
                }
    }
    return j;
}

static void scan_code(const struct source *s) {
    const char *c = s->code;
    size_t i = 0;
    int line_start = 1;
    while (c[i]) {
        char ch = c[i];
        if (ch == '\n') { line_start = 1; i++; continue; }
        if (isspace((unsigned char)ch)) { i++; continue; }
        if (ch == '#' && line_start) { line_start = 0; i = directive(s, i); continue; }
        line_start = 0;
        if (isdigit((unsigned char)ch) || (ch == '.' && isdigit((unsigned char)c[i + 1]))) {
            while (is_id(c[i]) || c[i] == '.') i++;  /* a number: 0x1f, 1e5f, 2.5 */
            continue;
        }
        if (is_id0(ch)) { i = name(s, i); continue; }
        i++;
    }
}

static void scan_strings(const struct source *s) {
    for (size_t r = 0; r < COUNT(RULES); r++) {
        if (RULES[r].where != STRING) continue;
        const char *p = s->str;
        size_t len = strlen(RULES[r].pattern);
        while ((p = strstr(p, RULES[r].pattern)) != NULL) {
            size_t at = (size_t)(p - s->str);
            add_hit(s->str_line[at], s->str_pos[at], RULES[r].reason, RULES[r].pattern, len);
            p += len;
        }
    }
}

/* ---- files ---------------------------------------------------------------------------------- */

/* 0 clean, 1 hits, 2 unreadable. */
static int scan_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { printf("%s: scan: cannot read (%s)\n", path, strerror(errno)); return 2; }
    char *text = malloc((size_t)MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, (size_t)MAX_BYTES + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (!text || err || n > (size_t)MAX_BYTES || memchr(text, 0, n)) {
        printf("%s: scan: cannot read (%s)\n", path,
               !text ? "out of memory" : err ? "read error" : n > (size_t)MAX_BYTES ? "over 8 MiB" : "not a text file");
        free(text);
        return 2;
    }
    text[n] = 0;
    struct source s = {.text = text, .n = n};
    s.code = malloc(n + 1);
    s.line = malloc((n + 1) * sizeof *s.line);
    s.str = malloc(2 * n + 2);  /* each literal's text, plus a separator before it */
    s.str_line = malloc((2 * n + 2) * sizeof *s.str_line);
    s.str_pos = malloc((2 * n + 2) * sizeof *s.str_pos);
    if (!s.code || !s.line || !s.str || !s.str_line || !s.str_pos) {
        printf("%s: scan: cannot read (out of memory)\n", path);
        free(s.code); free(s.line); free(s.str); free(s.str_line); free(s.str_pos); free(text);
        return 2;
    }
    strip(&s);
    nhits = 0;
    scan_code(&s);
    scan_strings(&s);
    qsort(hits, nhits, sizeof *hits, by_place);
    for (size_t h = 0; h < nhits; h++)
        printf("%s:%d: DISQUALIFIED: %s (%s)\n", path, hits[h].line, hits[h].reason, hits[h].token);
    free(s.code); free(s.line); free(s.str); free(s.str_line); free(s.str_pos); free(text);
    return nhits ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: scan FILE.cu [FILE.cu ...]\n"); return 64; }
    int status = 0;
    for (int a = 1; a < argc; a++) {
        int r = scan_file(argv[a]);
        if (r > status) status = r;
    }
    free(hits);
    return status;
}
