/* A main for the fuzz harnesses where libFuzzer is not at hand (gcc builds, CI): replays every
 * corpus file, then feeds LLVMFuzzerTestOneInput random mutations of them for a time budget.
 *
 *   NAME [--seconds S] [--seed N] [--max-len BYTES] [--timeout S] [--save DIR] CORPUS_DIR_OR_FILE...
 *
 * --seconds S   mutate for S seconds after the replay (default 10; 0: replay only)
 * --seed N      the PRNG seed (default: from the clock); printed, so that a run can be repeated
 * --max-len N   longest mutated input (default 65536)
 * --timeout S   one input running longer than this is a hang (default 10)
 * --save DIR    where the input that crashed or hung is written (default .), as
 *               crash-NAME-HASH or timeout-NAME-HASH; its path is printed on stderr
 *
 * There is no coverage feedback: the mutations are blind but many (bit flips; bytes set to 0, 0xff,
 * 0x7f, '"', '\\'; little-endian integers set to edge values; truncations; long runs inserted;
 * chunks deleted or repeated; two inputs spliced), stacked one to eight deep on a pool that starts
 * as the corpus and keeps some of the mutants. Built with -fsanitize=address,undefined
 * -fno-sanitize-recover=all, a sanitizer report ends the run; a death callback saves the input
 * first. Ends with one line "NAME: R corpus inputs, M mutations in S s, seed 0x..., no crash". */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sanitizer runtimes call this before they end the process (weak: absent without sanitizers). */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

typedef struct {
    uint8_t *data;
    size_t size;
} input;

static const char *prog = "fuzz";
static FILE *msg;                 /* our own stream on fd 2: harnesses may silence stderr */
static char save_dir[1024] = ".";
static const uint8_t *current;    /* the input being run, for the crash and hang handlers */
static size_t current_size;
static volatile sig_atomic_t saving;

/* ---- saving the input that failed (from a signal handler or a death callback) ----------------- */

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Only async-signal-safe calls here: open, write, close. */
static void save_current(const char *kind) {
    if (saving || !current) return;
    saving = 1;
    char path[1200], hex[17];
    uint64_t h = fnv1a(current, current_size);
    for (int i = 15; i >= 0; i--, h >>= 4) hex[i] = "0123456789abcdef"[h & 15];
    hex[16] = 0;
    size_t n = 0;
    const char *parts[] = {save_dir, "/", kind, "-", prog, "-", hex};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        for (const char *s = parts[i]; *s && n + 1 < sizeof path; s++) path[n++] = *s;
    path[n] = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        for (size_t off = 0; off < current_size;) {
            ssize_t w = write(fd, current + off, current_size - off);
            if (w <= 0) break;
            off += (size_t)w;
        }
        close(fd);
    }
    const char *head = "\nfuzz: the input is saved in ";
    if (write(2, head, strlen(head)) < 0 || write(2, path, strlen(path)) < 0 || write(2, "\n", 1) < 0) {}
}

static void on_death(void) { save_current("crash"); }

static void on_signal(int sig) {
    save_current(sig == SIGALRM ? "timeout" : "crash");
    if (sig == SIGALRM) {
        const char *m = "fuzz: one input ran past the time limit (a hang)\n";
        if (write(2, m, strlen(m)) < 0) {}
        _exit(70);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ---- a seeded PRNG (splitmix64) ---------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static size_t below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

/* ---- the corpus -------------------------------------------------------------------------------- */

static input *pool;
static size_t n_pool, cap_pool, n_corpus;

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(msg, "%s: out of memory\n", prog); exit(2); }
    return p;
}

static void add_input(uint8_t *data, size_t size) {
    if (n_pool == cap_pool) {
        cap_pool = cap_pool ? 2 * cap_pool : 64;
        input *grown = realloc(pool, cap_pool * sizeof *pool);
        if (!grown) { fprintf(msg, "%s: out of memory\n", prog); exit(2); }
        pool = grown;
    }
    pool[n_pool++] = (input){data, size};
}

static void add_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(msg, "%s: cannot read %s: %s\n", prog, path, strerror(errno)); exit(2); }
    size_t cap = 4096, n = 0, got;
    uint8_t *data = xmalloc(cap);
    while ((got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *grown = realloc(data, cap *= 2);
            if (!grown) { fprintf(msg, "%s: out of memory\n", prog); exit(2); }
            data = grown;
        }
    }
    fclose(f);
    add_input(data, n);
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A file, or every regular file of a directory, in name order (so that a run repeats). */
static void add_path(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) { fprintf(msg, "%s: %s: %s\n", prog, path, strerror(errno)); exit(2); }
    if (!S_ISDIR(st.st_mode)) { add_file(path); return; }
    DIR *d = opendir(path);
    if (!d) { fprintf(msg, "%s: cannot open %s\n", prog, path); exit(2); }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, (n + 1) * sizeof *names);
        if (!names) { fprintf(msg, "%s: out of memory\n", prog); exit(2); }
        names[n] = xmalloc(strlen(path) + strlen(e->d_name) + 2);
        sprintf(names[n], "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n; i++) {
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) add_file(names[i]);
        free(names[i]);
    }
    free(names);
}

/* ---- mutations ---------------------------------------------------------------------------------- */

typedef struct {
    uint8_t *data;
    size_t size, cap;
} buffer;

static void reserve(buffer *b, size_t size) {
    if (size <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < size) cap *= 2;
    uint8_t *grown = realloc(b->data, cap);
    if (!grown) { fprintf(msg, "%s: out of memory\n", prog); exit(2); }
    b->data = grown;
    b->cap = cap;
}

/* Opens a gap of n bytes at pos. */
static void insert_gap(buffer *b, size_t pos, size_t n) {
    reserve(b, b->size + n);
    memmove(b->data + pos + n, b->data + pos, b->size - pos);
    b->size += n;
}

static void mutate(buffer *b, size_t max_len) {
    static const uint8_t special[] = {0x00, 0xff, 0x7f, '"', '\\', '\n', '{', '}', ':', ',', '0', '-', ' ', 0x80};
    static const uint64_t edges[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
                                     0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
                                     0xffffffffffffffc0ull, 0xffffffffffffffffull, 1u << 20, 1u << 30, 4000000000u};
    size_t pos = below(b->size + 1);
    /* In-place changes are drawn more often than changes of length: a binary format (the weights)
     * is mostly offsets, and one shifted byte there makes every later check fail the same way. */
    switch (below(16)) {
    case 0: case 1: case 2:   /* flip one bit */
        if (b->size) b->data[below(b->size)] ^= (uint8_t)(1u << below(8));
        break;
    case 3: case 4:   /* set a byte to a value readers treat specially */
        if (b->size) b->data[below(b->size)] = special[below(sizeof special)];
        break;
    case 13:   /* a random byte */
        if (b->size) b->data[below(b->size)] = (uint8_t)rnd();
        break;
    case 14: case 15: {   /* a little-endian integer of 1, 2, 4 or 8 bytes set to an edge value */
        size_t width = (size_t)1 << below(4);
        if (b->size < width) break;
        uint64_t v = edges[below(sizeof edges / sizeof edges[0])];
        if (below(4) == 0) v += (uint64_t)below(5) - 2;   /* or just beside it */
        size_t at = below(b->size - width + 1);
        if (below(2)) at -= at % width;   /* often where a field of that width would be */
        for (size_t i = 0; i < width; i++) b->data[at + i] = (uint8_t)(v >> (8 * i));
        break;
    }
    case 12:   /* truncate: mostly a little off the end */
        if (below(4)) b->size -= below(b->size < 64 ? b->size + 1 : 65);
        else b->size = below(b->size + 1);
        break;
    case 6: {   /* insert a long run of one byte */
        size_t n = 1 + below(below(2) ? 300 : 9000);
        if (b->size + n > max_len) break;
        insert_gap(b, pos, n);
        memset(b->data + pos, below(2) ? special[below(sizeof special)] : (int)(rnd() & 0xff), n);
        break;
    }
    case 7: {   /* delete a chunk */
        if (pos >= b->size) break;
        size_t n = 1 + below(b->size - pos);
        if (below(2)) n = 1 + below(n < 16 ? n : 16);
        memmove(b->data + pos, b->data + pos + n, b->size - pos - n);
        b->size -= n;
        break;
    }
    case 8: {   /* repeat a chunk */
        if (pos >= b->size) break;
        size_t n = 1 + below(b->size - pos < 256 ? b->size - pos : 256), at = below(b->size + 1);
        if (b->size + n > max_len) break;
        insert_gap(b, at, n);
        memmove(b->data + at, b->data + (pos >= at ? pos + n : pos), n);
        break;
    }
    case 9: {   /* splice: this input's start with another's end */
        const input *o = &pool[below(n_pool)];
        size_t from = below(o->size + 1), keep = below(b->size + 1);
        if (keep + (o->size - from) > max_len) break;
        b->size = keep;
        reserve(b, keep + o->size - from);
        memcpy(b->data + keep, o->data + from, o->size - from);
        b->size += o->size - from;
        break;
    }
    case 10: case 11: {   /* insert a few bytes */
        size_t n = 1 + below(8);
        if (b->size + n > max_len) break;
        insert_gap(b, pos, n);
        for (size_t i = 0; i < n; i++) b->data[pos + i] = below(2) ? special[below(sizeof special)] : (uint8_t)rnd();
        break;
    }
    default: {   /* copy a chunk over another place (same length) */
        if (b->size < 2) break;
        size_t from = below(b->size), to = below(b->size), n = 1 + below(16);
        if (n > b->size - from) n = b->size - from;
        if (n > b->size - to) n = b->size - to;
        memmove(b->data + to, b->data + from, n);
    }
    }
}

/* ---- running ------------------------------------------------------------------------------------ */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static unsigned hang_seconds = 10;

/* One call of the harness, under the hang alarm, with the input known to the handlers. The input
 * is passed in a buffer of exactly its size, so that ASan sees any read past its end. */
static void run(const uint8_t *data, size_t size) {
    uint8_t *copy = xmalloc(size);
    if (size) memcpy(copy, data, size);
    current = copy;
    current_size = size;
    alarm(hang_seconds);
    LLVMFuzzerTestOneInput(copy, size);
    alarm(0);
    current = NULL;
    free(copy);
}

static int usage(void) {
    fprintf(msg, "usage: %s [--seconds S] [--seed N] [--max-len BYTES] [--timeout S] [--save DIR] CORPUS_DIR_OR_FILE...\n", prog);
    return 64;
}

int main(int argc, char **argv) {
    int fd = dup(2);
    msg = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!msg) msg = stderr;
    setvbuf(msg, NULL, _IOLBF, 0);
    const char *slash = strrchr(argv[0], '/');
    prog = slash ? slash + 1 : argv[0];
    double seconds = 10;
    uint64_t seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    size_t max_len = 65536;
    int first_path = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') { first_path = i; break; }
        if (i + 1 >= argc) return usage();
        const char *v = argv[++i];
        char *end;
        if (!strcmp(a, "--seconds")) seconds = strtod(v, &end);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, &end, 0);
        else if (!strcmp(a, "--max-len")) max_len = strtoull(v, &end, 0);
        else if (!strcmp(a, "--timeout")) hang_seconds = (unsigned)strtoul(v, &end, 0);
        else if (!strcmp(a, "--save")) { snprintf(save_dir, sizeof save_dir, "%s", v); end = (char *)v + strlen(v); }
        else return usage();
        if (end == v || *end) return usage();
    }
    if (first_path == argc) return usage();
    for (int i = first_path; i < argc; i++) add_path(argv[i]);
    n_corpus = n_pool;
    if (n_pool == 0) add_input(xmalloc(1), 0);   /* an empty corpus: start from the empty input */

    /* With sanitizers, their reports end the run and the callback saves the input; their own SEGV
     * handler must stay (it prints the report). Without, our handler saves it. */
    if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(on_death);
    else {
        signal(SIGSEGV, on_signal);
        signal(SIGBUS, on_signal);
        signal(SIGFPE, on_signal);
    }
    signal(SIGALRM, on_signal);
    signal(SIGABRT, on_signal);   /* a harness's own check failed */
    rng_state = seed;
    fprintf(msg, "%s: seed 0x%llx (--seed 0x%llx repeats this run)\n", prog, (unsigned long long)seed,
            (unsigned long long)seed);

    double start = now();
    for (size_t i = 0; i < n_corpus; i++) run(pool[i].data, pool[i].size);

    unsigned long long iterations = 0;
    buffer b = {0};
    const size_t keep_max = n_corpus + 512;   /* mutants kept to mutate further */
    while (now() - start < seconds) {
        const input *base = &pool[below(n_pool)];
        reserve(&b, base->size);
        memcpy(b.data, base->data, base->size);
        b.size = base->size;
        for (size_t k = below(4) ? 1 + below(2) : 1 + below(8); k > 0; k--) mutate(&b, max_len);   /* mostly one or two */
        run(b.data, b.size);
        iterations++;
        if (below(16) == 0 && b.size <= max_len) {   /* keep some mutants: mutations then stack deeper */
            uint8_t *copy = xmalloc(b.size);
            memcpy(copy, b.data, b.size);
            if (n_pool < keep_max) add_input(copy, b.size);
            else {
                input *victim = &pool[n_corpus + below(n_pool - n_corpus)];
                free(victim->data);
                *victim = (input){copy, b.size};
            }
        }
    }
    fprintf(msg, "%s: %zu corpus inputs, %llu mutations in %.1f s, seed 0x%llx, no crash\n", prog, n_corpus,
            iterations, now() - start, (unsigned long long)seed);
    free(b.data);
    for (size_t i = 0; i < n_pool; i++) free(pool[i].data);
    free(pool);
    return 0;
}
