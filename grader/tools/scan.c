/* The source scanner of the class grader: what an exercise file must not use.
 *
 *   scan [--time-limit S] FILE.cu [FILE.cu ...]
 *
 * Reads each student exercise file as the compiler's preprocessor does (below), blanks its comments
 * and the insides of its string and character literals (line numbers kept), and reports every use of
 * what the exercises forbid, one line a hit, in the order of the file:
 *
 *   FILE:LINE: DISQUALIFIED: <reason> (<the offending token>)
 *
 * A token is reported once a line; after the first 50 hits of a file one more line says how many
 * were left out: "FILE: ... and N more".
 *
 * Exit codes (with several files, the worst: 2, then 3, then 1, then 0):
 *   0   every file clean
 *   1   a hit: the file is DISQUALIFIED
 *   2   a file could not be checked: cannot read it (missing, I/O error, out of memory), or the
 *       scan took longer than the time limit; one line "FILE: scan: cannot read (...)" or
 *       "FILE: scan: took longer than S s" on stdout
 *   3   a file refused without scanning, one line on stdout:
 *       "FILE: scan: refused: too large (the file is 50.0 MiB; an exercise file may be at most 1 MiB)"
 *       "FILE: scan: refused: not a text file (a NUL byte at offset N)"
 *       Every skeleton and solution in the workbook is under 32 KiB.
 *   64  usage
 * --time-limit S: wall-clock seconds allowed for each file (default 10; 0: none). Scanning is linear
 * in the file's size (about 1 MiB at most), so only a bug would reach it.
 *
 * Reading as the preprocessor does, so that nothing is hidden between what the compiler sees and
 * what the scanner sees (GCC is nvcc's preprocessor here; the build is C++17):
 *   - translation phases 1-2 first: CRLF and a lone CR end a line, a backslash-newline is spliced
 *     away (also with spaces between, as GCC does), inside identifiers too (cuda\<newline>Malloc).
 *     A hit is reported on the original line where its token starts. Raw strings undo splices, as
 *     in C++ (a splice cannot end one), but nvcc's front end, which reads GCC's output again,
 *     does not: a splice inside a raw string is reported.
 *   - trigraphs: C++17 has none, so "??/" is not a backslash and splices nothing. In older modes
 *     (-std=c++14, -trigraphs) it would, and the compiler would then read another file than the
 *     scanner: a "??/" at a line end is reported, whatever surrounds it.
 *   - the lexing that decides what is a comment or a literal follows GCC's: digraphs (%: is #),
 *     pp-numbers with digit separators (1'000, 1e+'a), literal prefixes (u8R"x(...)x"), header
 *     names after #include and __has_include (a slash-star in <...> starts no comment there,
 *     but does where the directive is skipped: a quote, backslash or comment mark in a header
 *     name is reported).
 *     Where GCC's reading depends on more than the text, or the text is malformed, the spot is
 *     reported instead: '$', '\' or a non-ASCII byte in code, a raw string touching a literal
 *     ("a"R"(...)": R may be a macro), a malformed or unterminated raw string, an unterminated
 *     comment.
 *   - the preprocessor can build text that the file never spells: token pasting (##, %:%:) is
 *     forbidden outright (no exercise needs it; no skeleton or solution uses it); a computed
 *     #include or _Pragma, and an asm statement whose text is not plain string literals (a macro
 *     or #x between them, asm used inside a macro), are reported, since what they name cannot be
 *     checked. Adjacent literals are one text ("%%global" "timer").
 *
 * What is looked at, and where (the `where` column of the rule table):
 *   IDENT   an identifier, or any part of a qualified name (std::chrono::now: std, chrono, now),
 *           that is not on the ALLOWED list.            Pattern "cudaMalloc*": a prefix.
 *   CALL    an identifier followed by '(' (words too common to flag alone: system, open, clock).
 *   QUAL    a whole qualified name, as written without spaces (std::thread, thrust::*).
 *   STRING  the text of string literals, escapes decoded, adjacent literals joined ("%%global"
 *           "timer" is one text): asm text is string literals, and the blanked code cannot see it.
 *   INCLUDE the header of an #include; headers on INCLUDE_ALLOWED pass, any other is a hit.
 *   PRAGMA  the first word after #pragma, or of the string in _Pragma("...").
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
 *   - Static constructors: __attribute__((constructor)), [[gnu::constructor]], init_priority, a
 *     section attribute and .init_array/.preinit_array/.ctors in asm are flagged. A global object
 *     whose constructor runs before main is not detected (it needs a parser); its constructor's
 *     payload (getenv, dlsym, fopen, ...) still is.
 *
 * Not catchable by reading source (the grader's run-time checks, and the check of the compiled
 * object, are the answer): output cached between calls (a static keyed by pointer or shape: fresh
 * inputs and the recheck after timing), inputs mutated (the recheck compares against a reference of
 * the original inputs), stale memory (fresh seeds).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* fstat, sigaction, setitimer */
#endif
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

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
    {CALL, "section", BEFORE_MAIN},           /* __attribute__((section(".init_array")))       */
    {CALL, "__section__", BEFORE_MAIN},
    {STRING, "init_array", BEFORE_MAIN},      /* .init_array, .preinit_array in asm text       */
    {STRING, ".ctors", BEFORE_MAIN},
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

/* What the reading itself reports: not rules about names, but spots where the file's text cannot be
 * checked or would be read otherwise by the compiler. */
#define PASTE "token pasting (##) can build a forbidden name from innocent pieces: an exercise file may not use it"
#define COMPUTED_INCLUDE "computed #include: the header cannot be checked"
#define COMPUTED_PRAGMA "_Pragma of a computed string: the pragma cannot be checked"
#define ASM_TEXT "asm text that is not plain string literals (a macro or # between them, asm inside a macro): it cannot be checked"
#define ODD_CHAR "a character code does not need ($, \\, non-ASCII) outside comments and literals: the compiler may read it otherwise than the scanner"
#define RAW_TOUCHING "a raw string touching a literal: the compiler reads it otherwise when its prefix is a macro"
#define RAW_BAD "a malformed raw string literal: the scanner cannot tell where the compiler ends it"
#define RAW_SPLICE "a line splice inside a raw string: GCC undoes it, nvcc's front end does not, and they disagree where the string ends"
#define HEADER_ODD "a header name holding a quote, backslash or comment mark: read otherwise where its directive is skipped"
#define UNTERMINATED "unterminated up to the end of the file: the scanner cannot tell what the compiler reads after it"
#define TRIGRAPH "?\?/ at a line end splices lines where trigraphs are on (older language modes)"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_BYTES (1L << 20) /* an exercise file; the largest skeleton or solution is 14 KB */
#define MAX_SHOWN 50         /* hits printed for a file; the others are counted */
#define MAX_TOKEN 127        /* a reported token is cut there */

static size_t pattern_len[COUNT(RULES)];

/* ---- hits ----------------------------------------------------------------------------------- */

struct hit {
    int line;
    unsigned len;        /* of the token */
    size_t pos;          /* in the text: the order on a line */
    size_t tok;          /* the token's offset in the arena */
    const char *reason;
};

static struct hit *hits;
static size_t nhits, caphits;
static char *arena;      /* the tokens' bytes, one after the other */
static size_t narena, caparena;

static void *grow(void *p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return p;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    void *q = realloc(p, c * size);
    if (!q) { printf("scan: out of memory\n"); exit(2); }
    *cap = c;
    return q;
}

/* A hit for the token pre+tok (pre: "" or a shown prefix such as "#pragma "). Repeats of a (line,
 * token) are dropped once, by sorting, at the end of the file (dedupe); a repeat of the hit just
 * before is dropped here already, so that a long run of one token costs no memory. */
static void add_hit(int line, size_t pos, const char *reason, const char *pre, const char *tok, size_t len) {
    size_t plen = strlen(pre);
    if (len > MAX_TOKEN - plen) len = MAX_TOKEN - plen;
    if (nhits) {
        const struct hit *h = &hits[nhits - 1];
        if (h->line == line && h->len == plen + len && !memcmp(arena + h->tok, pre, plen) &&
            !memcmp(arena + h->tok + plen, tok, len))
            return;
    }
    hits = grow(hits, &caphits, nhits + 1, sizeof *hits);
    arena = grow(arena, &caparena, narena + plen + len, 1);
    memcpy(arena + narena, pre, plen);
    memcpy(arena + narena + plen, tok, len);
    hits[nhits++] = (struct hit){line, (unsigned)(plen + len), pos, narena, reason};
    narena += plen + len;
}

static int same_token(const struct hit *x, const struct hit *y) {
    return x->len == y->len && !memcmp(arena + x->tok, arena + y->tok, x->len);
}

static int by_token(const void *a, const void *b) {  /* line, token, place */
    const struct hit *x = a, *y = b;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    int d = memcmp(arena + x->tok, arena + y->tok, x->len < y->len ? x->len : y->len);
    if (d || x->len != y->len) return d ? d : x->len < y->len ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int by_place(const void *a, const void *b) {  /* line, place (token: a total order) */
    const struct hit *x = a, *y = b;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    if (x->pos != y->pos) return x->pos < y->pos ? -1 : 1;
    return by_token(a, b);
}

/* One hit per (line, token), the first on the line; returns how many are left, in file order.
 * Sorting keeps this O(h log h) however many hits a hostile file makes. */
static size_t dedupe(void) {
    if (!nhits) return 0;  /* hits is still NULL: qsort must not see it */
    qsort(hits, nhits, sizeof *hits, by_token);
    size_t k = 0;
    for (size_t h = 0; h < nhits; h++)
        if (!k || hits[k - 1].line != hits[h].line || !same_token(&hits[k - 1], &hits[h])) hits[k++] = hits[h];
    qsort(hits, k, sizeof *hits, by_place);
    return k;
}

/* ---- characters and patterns ---------------------------------------------------------------- */

/* As GCC lexes: '$' and the bytes of UTF-8 characters continue an identifier (both are reported
 * in code anyway, see ODD_CHAR). The C locale is never changed, so isalpha is ASCII. */
static int is_id0(char c) { unsigned char u = (unsigned char)c; return isalpha(u) || u == '_' || u == '$' || u >= 0x80; }
static int is_id(char c) { return is_id0(c) || isdigit((unsigned char)c); }
static int hspace(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; }
static int is_word(const char *s, size_t len, const char *w) { return strlen(w) == len && !memcmp(s, w, len); }

/* s[0..len) against a pattern: exact, or a prefix when the pattern ends in '*'. */
static int matches_n(const char *pattern, size_t p, const char *s, size_t len) {
    if (p && pattern[p - 1] == '*') return len >= p - 1 && !memcmp(pattern, s, p - 1);
    return len == p && !memcmp(pattern, s, p);
}
static int matches(const char *pattern, const char *s, size_t len) { return matches_n(pattern, strlen(pattern), s, len); }

/* RULES[r] against s[0..len); the first byte first, since this runs for every rule and name. */
static int rule_matches(size_t r, const char *s, size_t len) {
    return len && RULES[r].pattern[0] == s[0] && matches_n(RULES[r].pattern, pattern_len[r], s, len);
}

static int allowed(const char *s, size_t len) {
    for (size_t i = 0; i < COUNT(ALLOWED); i++)
        if (matches(ALLOWED[i], s, len)) return 1;
    return 0;
}

/* ---- reading: translation phases 1-2, then comments and literals ----------------------------- */

struct source {
    char *text;              /* the file after translation phases 1-2, NUL-terminated */
    size_t n;
    int *line;               /* the file's own line of each byte of text (and of text[n]) */
    unsigned char *spliced;  /* spliced[i]: a line splice was removed just before text[i] */
    char *code;              /* text with comments and literal insides blanked (newlines kept); a
                                '"' left in code is always one of a pair */
    char *str;               /* string literal texts, decoded; runs of adjacent literals joined, and
                                runs separated by '\n' (a pattern holds no newline) */
    size_t *str_pos;         /* where in text each byte of str comes from */
    size_t nstr;
};

/* Phases 1-2 of raw[0..rn) into s->text: CRLF and a lone CR become LF, and a backslash-newline is
 * removed, also with blanks between the two (GCC splices those too, with a warning). The line of
 * each byte is the file's, so a spliced token is reported where it starts. */
static void phases12(struct source *s, const char *raw, size_t rn) {
    size_t o = 0;
    int ln = 1;
    for (size_t i = 0; i < rn;) {
        char c = raw[i];
        int tri = c == '?' && i + 2 < rn && raw[i + 1] == '?' && raw[i + 2] == '/';
        if (c == '\\' || tri) {
            size_t j = i + (tri ? 3 : 1);
            while (j < rn && hspace(raw[j])) j++;
            if (j < rn && (raw[j] == '\n' || raw[j] == '\r')) {
                if (tri) {  /* not a splice in C++17, but one where trigraphs are on: reported */
                    add_hit(ln, o, TRIGRAPH, "", "?\?/", 3);  /* "?\?": no trigraph in -std=c11 */
                } else {
                    i = j + 1 + (raw[j] == '\r' && j + 1 < rn && raw[j + 1] == '\n');
                    s->spliced[o] = 1;
                    ln++;
                    continue;
                }
            }
        }
        if (c == '\r') {
            c = '\n';
            if (i + 1 < rn && raw[i + 1] == '\n') i++;
        }
        s->text[o] = c;
        s->line[o++] = ln;
        if (c == '\n') ln++;
        i++;
    }
    s->text[o] = 0;
    s->line[o] = ln;
    s->n = o;
}

static void blank(struct source *s, size_t from, size_t to) {
    for (size_t k = from; k < to; k++)
        if (s->code[k] != '\n') s->code[k] = ' ';
}

static void put_str(struct source *s, char c, size_t pos) {
    s->str[s->nstr] = c ? c : '\n';  /* a \0 in a literal ends the text for the patterns too */
    s->str_pos[s->nstr++] = pos;
}

static int hexval(char c) { return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10; }

/* The escape at text[i] == '\\' (not at the end of a line) into str; returns the index after it.
 * A universal character name becomes UTF-8: "\u0067lobaltimer" is "globaltimer". */
static size_t put_escape(struct source *s, size_t i) {
    const char *t = s->text;
    size_t j = i + 1;
    unsigned long v = 0;
    char c = t[j];
    if (c == 'x') {
        for (j++; isxdigit((unsigned char)t[j]); j++) v = v * 16 + (unsigned long)hexval(t[j]);
        put_str(s, (char)v, i);
        return j;
    }
    if (c >= '0' && c <= '7') {
        for (int k = 0; k < 3 && t[j] >= '0' && t[j] <= '7'; k++, j++) v = v * 8 + (unsigned long)(t[j] - '0');
        put_str(s, (char)v, i);
        return j;
    }
    if (c == 'u' || c == 'U') {
        int want = c == 'u' ? 4 : 8, k = 0;
        for (j++; k < want && isxdigit((unsigned char)t[j]); k++, j++) v = v * 16 + (unsigned long)hexval(t[j]);
        if (k == want) {
            if (v < 0x80) {
                put_str(s, (char)v, i);
            } else {  /* UTF-8: two to four bytes, none of them ASCII */
                int extra = v < 0x800 ? 1 : v < 0x10000 ? 2 : 3;
                put_str(s, (char)((0xF00 >> extra) | (v >> (6 * extra))), i);
                while (extra--) put_str(s, (char)(0x80 | ((v >> (6 * extra)) & 0x3F)), i);
            }
            return j;
        }
        j = i + 1;  /* not a UCN: the letter itself, as GCC (which warns) */
    }
    static const char from[] = "ntrvfab", to[] = "\n\t\r\v\f\a\b";
    const char *e = strchr(from, c);
    put_str(s, e ? to[e - from] : c, i);
    return j + 1;
}

/* The string literal opening at text[q]; raw: R"delim(...)delim". Returns the index after it. */
static size_t string_literal(struct source *s, size_t q, int raw, int *in_run) {
    const char *t = s->text;
    size_t n = s->n;
    if (!*in_run && s->nstr) put_str(s, '\n', q);
    *in_run = 1;
    if (raw) {
        /* The delimiter: at most 16 characters, none of " ()\\" or blanks; a splice inside the
         * quotes is undone in a raw string, so none may fall in it either. */
        size_t d = q + 1, p = d;
        while (p < n && p - d <= 16 && !strchr(" ()\\\t\v\f\n", t[p]) && !s->spliced[p]) p++;
        if (p >= n || t[p] != '(' || p - d > 16 || s->spliced[p]) {
            add_hit(s->line[q], q, RAW_BAD, "", "R\"", 2);
            s->code[q] = ' ';
            *in_run = 0;
            return q + 1;
        }
        size_t dl = p - d;
        for (size_t k = p + 1;;) {
            const char *e = memchr(t + k, ')', n - k);
            if (!e) {
                add_hit(s->line[q], q, UNTERMINATED, "", "R\"", 2);
                blank(s, q, n);
                return n;
            }
            size_t r = (size_t)(e - t);
            for (; k < r; k++) put_str(s, t[k], k);
            /* the end: )delim" with no splice in it (the compiler undoes them there) */
            int end = r + dl + 1 < n && !memcmp(t + r + 1, t + d, dl) && t[r + dl + 1] == '"';
            for (size_t m = r + 1; end && m <= r + dl + 1; m++)
                if (s->spliced[m]) end = 0;
            if (end) {
                for (size_t m = q + 1; m <= r + dl + 1; m++)
                    if (s->spliced[m]) {
                        add_hit(s->line[q], q, RAW_SPLICE, "", "R\"", 2);
                        break;
                    }
                blank(s, q + 1, r + dl + 1);
                return r + dl + 2;
            }
            put_str(s, ')', r);
            k = r + 1;
        }
    }
    size_t j = q + 1;
    while (j < n && t[j] != '"' && t[j] != '\n') {
        if (t[j] == '\\' && j + 1 < n && t[j + 1] != '\n') {
            j = put_escape(s, j);
        } else {
            put_str(s, t[j], j);
            j++;
        }
    }
    blank(s, q + 1, j);
    if (j < n && t[j] == '"') return j + 1;
    s->code[q] = ' ';  /* unterminated: GCC too reads it to the line end */
    return j;
}

static size_t char_literal(struct source *s, size_t q) {
    const char *t = s->text;
    size_t n = s->n, j = q + 1;
    while (j < n && t[j] != '\'' && t[j] != '\n') j += t[j] == '\\' && j + 1 < n && t[j + 1] != '\n' ? 2 : 1;
    blank(s, q + 1, j);
    if (j < n && t[j] == '\'') return j + 1;
    s->code[q] = ' ';
    return j;
}

/* p[0..len), directly before a quote: an encoding prefix (u8 u U L; R makes a string raw). */
static int string_prefix(const char *p, size_t len, int *raw) {
    *raw = p[len - 1] == 'R';
    size_t e = len - (size_t)*raw;
    return (e == 0 && *raw) || (e == 1 && strchr("uUL", p[0])) || (e == 2 && p[0] == 'u' && p[1] == '8');
}
static int char_prefix(const char *p, size_t len) {
    return (len == 1 && strchr("uUL", p[0])) || (len == 2 && p[0] == 'u' && p[1] == '8');
}

static int is_paste(const char *t) {
    return (t[0] == '#' && t[1] == '#') || (t[0] == '%' && t[1] == ':' && t[2] == '%' && t[3] == ':');
}

/* Blanks comments and literal insides in s->code and collects the literals' texts in s->str,
 * lexing as GCC does wherever that decides what is a comment or a literal. */
static void lex(struct source *s) {
    const char *t = s->text;
    size_t n = s->n, i = 0;
    size_t lit_end = (size_t)-1;     /* just after the last literal */
    size_t gt_from = 1, gt = 0;      /* gt: the first '>' or '\n' at or after gt_from */
    int bol = 1;                     /* only blanks and comments since the line began */
    int directive = 0;               /* the last token was the # of a directive */
    int pragma = 0;                  /* in a #pragma line */
    int header = 0;                  /* a header name may come next (no comment in it) */
    int has = 0;                     /* the last token was __has_include */
    int in_run = 0;                  /* the last token was a string literal */
    memcpy(s->code, t, n + 1);
    while (i < n) {
        char c = t[i], d = t[i + 1];
        if (c == '\n') {  /* a directive ends here */
            bol = 1;
            directive = pragma = header = has = 0;
            i++;
            continue;
        }
        if (hspace(c)) { i++; continue; }
        if (c == '/' && d == '/') {
            const char *e = memchr(t + i, '\n', n - i);
            size_t j = e ? (size_t)(e - t) : n;
            blank(s, i, j);
            i = j;
            continue;
        }
        if (c == '/' && d == '*') {
            const char *e = strstr(t + i + 2, "*/");
            if (!e) {
                add_hit(s->line[i], i, UNTERMINATED, "", "/*", 2);
                blank(s, i, n);
                break;
            }
            blank(s, i, (size_t)(e - t) + 2);
            i = (size_t)(e - t) + 2;
            continue;
        }
        /* a token: what it is may depend on the ones before */
        int was_bol = bol, was_directive = directive, maybe_header = header, was_has = has;
        bol = directive = header = has = 0;
        /* A header name. Where its directive is skipped (#if 0) the compiler reads the same text
         * as tokens: the two readings agree unless it holds a quote, a backslash or a comment
         * mark, and then it is reported. */
        if (maybe_header && c == '<') {
            if (gt < i || gt_from > i) {
                const char *e = t + i;
                while (*e && *e != '>' && *e != '\n') e++;
                gt_from = i;
                gt = (size_t)(e - t);
            }
            if (t[gt] == '>') {  /* kept in code; without a '>' GCC reads '<' as an operator */
                for (size_t k = i + 1; k < gt; k++)
                    if (strchr("\"'\\", t[k]) || (t[k] == '/' && (t[k + 1] == '*' || t[k + 1] == '/'))) {
                        add_hit(s->line[i], i, HEADER_ODD, "", t + i, gt + 1 - i);
                        break;
                    }
                i = gt + 1;
                in_run = 0;
                continue;
            }
        }
        if (maybe_header && c == '"') {  /* no escapes; its text goes to str like a literal's */
            size_t j = i + 1;
            if (s->nstr) put_str(s, '\n', i);
            while (j < n && t[j] != '"' && t[j] != '\n') {
                if (t[j] == '\\') add_hit(s->line[i], i, HEADER_ODD, "", t + i, j + 1 - i);
                put_str(s, t[j], j);
                j++;
            }
            blank(s, i + 1, j);
            if (t[j] != '"') s->code[i] = ' ';
            i = j + (t[j] == '"');
            in_run = 0;
            continue;
        }
        if (was_bol && (c == '#' || (c == '%' && d == ':')) && !is_paste(t + i)) {
            directive = 1;
            i += c == '#' ? 1 : 2;
            in_run = 0;
            continue;
        }
        if (is_id0(c)) {
            size_t j = i + 1;
            while (is_id(t[j])) j++;
            int raw = 0;
            if (t[j] == '"' && string_prefix(t + i, j - i, &raw)) {
                if (raw && lit_end == i) add_hit(s->line[i], i, RAW_TOUCHING, "", t + i, j - i + 1);
                i = lit_end = string_literal(s, j, raw, &in_run);
                continue;
            }
            if (t[j] == '\'' && char_prefix(t + i, j - i)) {
                i = lit_end = char_literal(s, j);
                in_run = 0;
                continue;
            }
            size_t len = j - i;
            if (was_directive && (is_word(t + i, len, "include") || is_word(t + i, len, "include_next") ||
                                  is_word(t + i, len, "import")))
                header = 1;
            else if (was_directive && is_word(t + i, len, "pragma"))
                pragma = 1;
            else if (pragma && is_word(t + i, len, "dependency"))  /* #pragma GCC dependency <file> */
                header = 1;
            if (len >= 13 && !memcmp(t + i, "__has_include", 13)) has = 1;  /* and _next, and __..__ */
            i = j;
            in_run = 0;
            continue;
        }
        if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)d))) {
            /* a pp-number as GCC reads it: 1'000, 0x1p-3, 1e+'a; a ' never starts a literal here */
            size_t j = i + 1;
            for (;;) {
                char e = t[j], p = t[j - 1];
                if (is_id(e) || e == '\'' || (e == '.' && p != '\'') ||
                    ((e == '+' || e == '-') && (p == 'e' || p == 'E' || p == 'p' || p == 'P')))
                    j++;
                else
                    break;
            }
            while (t[j - 1] == '\'') j--;  /* it does not end in a separator */
            for (size_t k = i; k < j; k++)
                if (t[k] == '\'') s->code[k] = '_';  /* one run for the scan: 1_000 */
            i = j;
            in_run = 0;
            continue;
        }
        if (c == '"') {
            i = lit_end = string_literal(s, i, 0, &in_run);
            continue;
        }
        if (c == '\'') {
            i = lit_end = char_literal(s, i);
            in_run = 0;
            continue;
        }
        if (c == '(' && was_has) header = 1;
        in_run = 0;
        i++;
    }
}

/* ---- matching ------------------------------------------------------------------------------- */

static size_t skip_space(const char *c, size_t i) {
    while (isspace((unsigned char)c[i])) i++;
    return i;
}

static void check_include(const char *name, size_t len, const char *shown, size_t shown_len,
                          int line, size_t pos) {
    for (size_t r = 0; r < COUNT(RULES); r++)
        if (RULES[r].where == INCLUDE && rule_matches(r, name, len)) {
            add_hit(line, pos, RULES[r].reason, "", shown, shown_len);
            return;
        }
    for (size_t a = 0; a < COUNT(INCLUDE_ALLOWED); a++)
        if (matches(INCLUDE_ALLOWED[a], name, len)) return;
    const size_t suffix = sizeof GIVEN_HEADER_SUFFIX - 1;
    if (shown_len > 0 && shown[0] == '"' && !memchr(name, '/', len) && len > suffix &&
        !memcmp(name + len - suffix, GIVEN_HEADER_SUFFIX, suffix))
        return;
    add_hit(line, pos, OFF_LIST, "", shown, shown_len);
}

/* The first word of a pragma (#pragma omp, _Pragma("omp ...")) against the PRAGMA rules. */
static void check_pragma(const char *word, size_t len, int line, size_t pos, const char *shown) {
    for (size_t r = 0; r < COUNT(RULES); r++)
        if (RULES[r].where == PRAGMA && rule_matches(r, word, len)) {
            add_hit(line, pos, RULES[r].reason, shown, word, len);
            return;
        }
}

/* A preprocessor directive whose # (or %:) is at code[i]; returns where scanning goes on. */
static size_t directive(const struct source *s, size_t i) {
    const char *c = s->code;
    size_t j = i + (c[i] == '#' ? 1 : 2);
    while (hspace(c[j])) j++;
    size_t w = j;
    while (is_id(c[j])) j++;
    size_t wlen = j - w;
    int line = s->line[i];
    if (is_word(c + w, wlen, "include") || is_word(c + w, wlen, "include_next") || is_word(c + w, wlen, "import")) {
        while (hspace(c[j])) j++;
        size_t end;
        if (c[j] == '<') {
            for (end = j + 1; c[end] && c[end] != '>' && c[end] != '\n'; end++) {}
            check_include(c + j + 1, end - j - 1, c + j, end - j + (c[end] == '>'), line, j);
        } else if (c[j] == '"') {  /* the name is blanked in code: read it in the text */
            for (end = j + 1; c[end] && c[end] != '"' && c[end] != '\n'; end++) {}
            check_include(s->text + j + 1, end - j - 1, s->text + j, end - j + (c[end] == '"'), line, j);
        } else {
            for (end = j; c[end] && !isspace((unsigned char)c[end]); end++) {}
            if (end > j) add_hit(line, j, COMPUTED_INCLUDE, "", c + j, end - j);
            else add_hit(line, i, COMPUTED_INCLUDE, "", "#include", 8);
        }
        while (c[end] && c[end] != '\n') end++;  /* GCC ignores the rest of the line */
        return end;
    }
    if (is_word(c + w, wlen, "pragma")) {
        size_t p = j, q;
        while (hspace(c[p])) p++;
        for (q = p; is_id(c[q]); q++) {}
        check_pragma(c + p, q - p, line, i, "#pragma ");
    }
    return j;  /* the rest of the line is code like any other (#define X cudaStreamCreate) */
}

/* _Pragma at code[i]; k: the first token after it. The operand must be one plain literal, whose
 * decoded text (in str) is checked as a #pragma line; anything else cannot be checked. */
static void pragma_operator(const struct source *s, size_t i, size_t k) {
    const char *c = s->code;
    if (c[k] == '(') {
        size_t q = skip_space(c, k + 1);
        while (is_id(c[q])) q++;  /* a prefix: L"..." */
        if (c[q] == '"') {
            size_t end = (size_t)(strchr(c + q + 1, '"') - c), lo = 0, hi = s->nstr;
            while (lo < hi) {  /* the first byte of str from inside the literal */
                size_t mid = lo + (hi - lo) / 2;
                if (s->str_pos[mid] > q) hi = mid; else lo = mid + 1;
            }
            size_t a = lo, b;
            while (a < s->nstr && s->str_pos[a] < end && isspace((unsigned char)s->str[a])) a++;
            for (b = a; b < s->nstr && s->str_pos[b] < end && is_id(s->str[b]); b++) {}
            check_pragma(s->str + a, b - a, s->line[i], i, "_Pragma ");
            return;
        }
    }
    add_hit(s->line[i], i, COMPUTED_PRAGMA, "", "_Pragma", 7);
}

/* asm at code[i..j): its text must be plain string literals, which the STRING rules read. A macro
 * between them, "#x", or asm in a macro body or argument would build text the scanner never sees. */
static void asm_statement(const struct source *s, size_t i, size_t j) {
    static const char *const QUALIFIERS[] = {"volatile", "__volatile__", "__volatile", "inline", "__inline", "__inline__", "goto"};
    const char *c = s->code;
    size_t k = skip_space(c, j);
    for (;;) {
        size_t e = k;
        while (is_id(c[e])) e++;
        size_t q = 0;
        while (q < COUNT(QUALIFIERS) && !is_word(c + k, e - k, QUALIFIERS[q])) q++;
        if (e == k || q == COUNT(QUALIFIERS)) break;
        k = skip_space(c, e);
    }
    int plain = 0;
    if (c[k] == '(') {
        k = skip_space(c, k + 1);
        for (;;) {
            size_t q = k;
            while (is_id(c[q])) q++;  /* a prefix */
            if (c[q] != '"') break;
            k = skip_space(c, (size_t)(strchr(c + q + 1, '"') - c) + 1);
            plain = 1;
        }
        plain = plain && (c[k] == ':' || c[k] == ')');
    }
    if (!plain) add_hit(s->line[i], i, ASM_TEXT, "", c + i, j - i);
}

/* Identifier or qualified name a::b::c at code[i]; returns the index after it. Every part is
 * checked, however many; the rule reported is the first in the table that any check breaks. */
static size_t name(const struct source *s, size_t i) {
    const char *c = s->code;
    size_t j = i, best = COUNT(RULES), at = i, tok = i, tok_len = 0, last = i, last_len = 0;
    char full[256];
    size_t flen = 0;
    int parts = 0, cut = 0;
    full[0] = 0;
    for (;;) {
        size_t b = j;
        while (is_id(c[j])) j++;
        size_t len = j - b;
        parts++;
        for (size_t r = 0; r < best; r++)
            if (RULES[r].where == IDENT && rule_matches(r, c + b, len)) {
                if (!allowed(c + b, len)) { best = r; at = tok = b; tok_len = len; }
                break;  /* an allowed name is exempt from every IDENT rule */
            }
        if (!cut && flen + len + 2 < sizeof full) {  /* cut: QUAL patterns are short prefixes */
            if (flen) { full[flen++] = ':'; full[flen++] = ':'; }
            memcpy(full + flen, c + b, len);
            flen += len;
        } else {
            cut = 1;
        }
        last = b;
        last_len = len;
        size_t k = skip_space(c, j);
        if (c[k] == ':' && c[k + 1] == ':') {
            size_t m = skip_space(c, k + 2);
            if (is_id0(c[m])) { j = m; continue; }
        }
        break;
    }
    size_t after = skip_space(c, j);
    int call = c[after] == '(';
    for (size_t r = 0; r < best; r++) {
        if (RULES[r].where == QUAL && rule_matches(r, full, flen)) {
            best = r; at = i; tok = (size_t)-1;
            break;
        }
        if (RULES[r].where == CALL && call && rule_matches(r, c + last, last_len)) {
            best = r; at = tok = last; tok_len = last_len;
            break;
        }
    }
    if (best < COUNT(RULES)) {
        if (tok == (size_t)-1) add_hit(s->line[at], at, RULES[best].reason, "", full, flen);
        else add_hit(s->line[at], at, RULES[best].reason, "", c + tok, tok_len);
    }
    if (parts == 1 && is_word(c + i, j - i, "_Pragma")) pragma_operator(s, i, after);
    if (parts == 1 && (is_word(c + i, j - i, "asm") || is_word(c + i, j - i, "__asm") || is_word(c + i, j - i, "__asm__")))
        asm_statement(s, i, j);
    return j;
}

static void scan_code(const struct source *s) {
    const char *c = s->code;
    int odd_line = 0;
    for (size_t i = 0; c[i]; i++) {  /* one ODD_CHAR hit a line is enough */
        unsigned char u = (unsigned char)c[i];
        if ((u == '$' || u == '\\' || u >= 0x80) && s->line[i] != odd_line) {
            char shown[8];
            int len = u >= 0x80 ? snprintf(shown, sizeof shown, "\\x%02X", u) : snprintf(shown, sizeof shown, "%c", u);
            add_hit(s->line[i], i, ODD_CHAR, "", shown, (size_t)len);
            odd_line = s->line[i];
        }
    }
    size_t i = 0;
    int line_start = 1;
    while (c[i]) {
        char ch = c[i];
        if (ch == '\n') { line_start = 1; i++; continue; }
        if (isspace((unsigned char)ch)) { i++; continue; }
        if (is_paste(c + i)) {  /* before directives: "##" at a line start is no '#' */
            size_t len = ch == '#' ? 2 : 4;
            add_hit(s->line[i], i, PASTE, "", c + i, len);
            i += len;
            line_start = 0;
            continue;
        }
        if (line_start && (ch == '#' || (ch == '%' && c[i + 1] == ':'))) { line_start = 0; i = directive(s, i); continue; }
        line_start = 0;
        if (isdigit((unsigned char)ch) || (ch == '.' && isdigit((unsigned char)c[i + 1]))) {
            while (is_id(c[i]) || c[i] == '.') i++;  /* a number: 0x1f, 1e5f, 2.5, 1_000 */
            continue;
        }
        if (is_id0(ch)) { i = name(s, i); continue; }
        i++;
    }
}

static void scan_strings(const struct source *s) {
    s->str[s->nstr] = 0;
    for (size_t r = 0; r < COUNT(RULES); r++) {
        if (RULES[r].where != STRING) continue;
        const char *p = s->str;
        while ((p = strstr(p, RULES[r].pattern)) != NULL) {
            size_t at = s->str_pos[p - s->str];
            add_hit(s->line[at], at, RULES[r].reason, "", RULES[r].pattern, pattern_len[r]);
            p += pattern_len[r];
        }
    }
}

/* ---- files ---------------------------------------------------------------------------------- */

/* The wall-clock limit: the message is made before the timer can fire, and only write(2) and
 * _exit(2) run in the handler. */
static const char *volatile alarm_msg;
static volatile size_t alarm_len;

static void on_alarm(int sig) {
    (void)sig;
    if (alarm_msg) {
        ssize_t r = write(STDOUT_FILENO, alarm_msg, alarm_len);
        (void)r;
    }
    _exit(2);
}

static void set_timer(double seconds) {
    struct itimerval it = {{0, 0}, {0, 0}};
    if (seconds > 0) {
        it.it_value.tv_sec = (time_t)seconds;
        it.it_value.tv_usec = (suseconds_t)((seconds - (double)it.it_value.tv_sec) * 1e6);
        if (!it.it_value.tv_sec && !it.it_value.tv_usec) it.it_value.tv_usec = 1;
    }
    setitimer(ITIMER_REAL, &it, NULL);
}

static void too_large(const char *path, long long size) {
    const double mib = 1 << 20;
    printf("%s: scan: refused: too large (the file is ", path);
    if (size < 0) printf("over %.0f MiB", MAX_BYTES / mib);
    else if (size >= MAX_BYTES * 1.1) printf("%.1f MiB", (double)size / mib);
    else printf("%lld bytes", size);  /* "1.0 MiB" would read as within the limit */
    printf("; an exercise file may be at most %.0f MiB", MAX_BYTES / mib);
    if (size >= 0 && size < MAX_BYTES * 1.1) printf(", %ld bytes", MAX_BYTES);
    printf(")\n");
}

/* The file's bytes into *raw, *n; 0, or the exit code after its one line is printed. */
static int read_file(const char *path, char **raw, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { printf("%s: scan: cannot read (%s)\n", path, strerror(errno)); return 2; }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > MAX_BYTES) {  /* not read at all */
        fclose(f);
        too_large(path, (long long)st.st_size);
        return 3;
    }
    char *buf = malloc((size_t)MAX_BYTES + 1);
    size_t got = buf ? fread(buf, 1, (size_t)MAX_BYTES + 1, f) : 0;
    int err = !buf ? ENOMEM : ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (err) { printf("%s: scan: cannot read (%s)\n", path, strerror(err)); free(buf); return 2; }
    if (got > (size_t)MAX_BYTES) { too_large(path, -1); free(buf); return 3; }  /* a pipe, or growing */
    const char *nul = memchr(buf, 0, got);
    if (nul) {
        printf("%s: scan: refused: not a text file (a NUL byte at offset %zu)\n", path, (size_t)(nul - buf));
        free(buf);
        return 3;
    }
    *raw = buf;
    *n = got;
    return 0;
}

/* 0 clean, 1 hits, 2 not checked, 3 refused. */
static int scan_file(const char *path, double limit) {
    size_t mlen = strlen(path) + 64;
    char *msg = malloc(mlen);
    if (!msg) { printf("%s: scan: cannot read (out of memory)\n", path); return 2; }
    snprintf(msg, mlen, "%s: scan: took longer than %g s\n", path, limit);
    alarm_len = strlen(msg);
    alarm_msg = msg;
    fflush(stdout);  /* the handler writes past stdio */
    set_timer(limit);

    char *raw = NULL;
    size_t rn = 0;
    int status = read_file(path, &raw, &rn);
    struct source s = {0};
    if (!status) {
        s.text = malloc(rn + 1);
        s.line = malloc((rn + 1) * sizeof *s.line);
        s.spliced = calloc(rn + 1, 1);
        s.code = malloc(rn + 1);
        s.str = malloc(2 * rn + 2);  /* each literal's text, plus a separator before it */
        s.str_pos = malloc((2 * rn + 2) * sizeof *s.str_pos);
        if (!s.text || !s.line || !s.spliced || !s.code || !s.str || !s.str_pos) {
            printf("%s: scan: cannot read (out of memory)\n", path);
            status = 2;
        }
    }
    size_t found = 0;
    if (!status) {
        nhits = narena = 0;
        phases12(&s, raw, rn);
        lex(&s);
        scan_code(&s);
        scan_strings(&s);
        found = dedupe();
    }
    set_timer(0);
    alarm_msg = NULL;
    free(msg);
    for (size_t h = 0; h < found && h < MAX_SHOWN; h++)
        printf("%s:%d: DISQUALIFIED: %s (%.*s)\n", path, hits[h].line, hits[h].reason, (int)hits[h].len, arena + hits[h].tok);
    if (found > MAX_SHOWN) printf("%s: ... and %zu more\n", path, found - MAX_SHOWN);
    free(raw); free(s.text); free(s.line); free(s.spliced); free(s.code); free(s.str); free(s.str_pos);
    return status ? status : found ? 1 : 0;
}

static int usage(void) {
    fprintf(stderr, "usage: scan [--time-limit SECONDS] FILE.cu [FILE.cu ...]\n");
    return 64;
}

int main(int argc, char **argv) {
    double limit = 10;
    int a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        const char *v = NULL;
        if (!strcmp(argv[a], "--")) { a++; break; }
        if (!strcmp(argv[a], "--time-limit") && a + 1 < argc) v = argv[++a];
        else if (!strncmp(argv[a], "--time-limit=", 13)) v = argv[a] + 13;
        else return usage();
        char *end;
        limit = strtod(v, &end);
        if (end == v || *end || !(limit >= 0 && limit <= 1e6)) return usage();
    }
    if (a >= argc) return usage();
    for (size_t r = 0; r < COUNT(RULES); r++) pattern_len[r] = strlen(RULES[r].pattern);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    static const int worse[] = {0, 1, 3, 2};  /* how bad each exit is: 2 > 3 > 1 > 0 */
    int status = 0;
    for (; a < argc; a++) {
        int r = scan_file(argv[a], limit);
        if (worse[r] > worse[status]) status = r;
    }
    free(hits);
    free(arena);
    return status;
}
